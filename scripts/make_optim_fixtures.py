#!/usr/bin/env python3
"""Writes tests/fixtures/optim/adamw.safetensors: six AdamW updates of a few named parameters with
fixed gradients and learning rates, by torch.optim.AdamW(fused=True) and by torch.optim.AdamW()
(the single-tensor loop), with HF's weight-decay groups (no decay for biases and LayerNorm weights).
The Rust optimizer must land within 1e-6 of both (tests/train/optim.rs).

Tensors: `init.<name>`, `grad.<step>.<name>`, `fused.<name>`, `plain.<name>` (final weights),
`fused.exp_avg.<name>`, `fused.exp_avg_sq.<name>`, and `lr` (one per step).
Run: .venv/bin/python scripts/make_optim_fixtures.py
"""
from pathlib import Path

import torch
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "optim"
SHAPES = {
    "encoder.dense.weight": (37, 11),
    "encoder.dense.bias": (37,),
    "encoder.LayerNorm.weight": (11,),
    "encoder.LayerNorm.bias": (11,),
    "head.weight": (300, 7),
}
LRS = [1e-3, 2e-3, 3e-3, 2.5e-3, 1e-3, 5e-4]
WEIGHT_DECAY, EPS = 0.01, 1e-8


def decays(name: str) -> bool:
    return not ("bias" in name or "LayerNorm.weight" in name)


def run(init, grads, fused: bool):
    params = {n: torch.nn.Parameter(t.clone()) for n, t in init.items()}
    groups = [
        {"params": [p for n, p in params.items() if decays(n)], "weight_decay": WEIGHT_DECAY},
        {"params": [p for n, p in params.items() if not decays(n)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LRS[0], eps=EPS, fused=fused, foreach=False if not fused else None)
    for step, lr in enumerate(LRS):
        for group in opt.param_groups:
            group["lr"] = lr
        for n, p in params.items():
            p.grad = grads[step][n].clone()
        opt.step()
    return params, opt


def main() -> None:
    gen = torch.Generator().manual_seed(7)
    init = {n: torch.randn(s, generator=gen) * 0.5 for n, s in SHAPES.items()}
    # Gradients of mixed magnitudes, some exactly zero, as a real model has.
    grads = []
    for step in range(len(LRS)):
        g = {n: torch.randn(s, generator=gen) * 10.0 ** (step % 3 - 2) for n, s in SHAPES.items()}
        g["head.weight"][0] = 0.0
        grads.append(g)
    fused, fused_opt = run(init, grads, fused=True)
    plain, _ = run(init, grads, fused=False)
    out = {f"init.{n}": t for n, t in init.items()}
    for step, g in enumerate(grads):
        out.update({f"grad.{step}.{n}": t for n, t in g.items()})
    out.update({f"fused.{n}": p.detach() for n, p in fused.items()})
    out.update({f"plain.{n}": p.detach() for n, p in plain.items()})
    for n, p in fused.items():
        state = fused_opt.state[p]
        out[f"fused.exp_avg.{n}"] = state["exp_avg"]
        out[f"fused.exp_avg_sq.{n}"] = state["exp_avg_sq"]
    out["lr"] = torch.tensor(LRS, dtype=torch.float64)
    OUT.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in out.items()}, OUT / "adamw.safetensors")
    print(f"wrote {OUT / 'adamw.safetensors'}")


if __name__ == "__main__":
    main()
