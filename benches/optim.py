#!/usr/bin/env python3
"""Optimizer milliseconds per update, side by side on this machine: koelectra-ft's AdamW
(benches/optim.rs: flat buffers, libtorch's fused kernel) against torch.optim.AdamW(fused=True) and
the default torch.optim.AdamW() on the same KoELECTRA-shaped parameters (HF's weight-decay groups).
One update = clip_grad_norm_(1.0) + step + zero_grad + reading the norm, as in a training loop.

Run from the repo root after scripts/setup.sh --dev:
    .venv/bin/python benches/optim.py [--sizes small,base] [--updates 20] [--runs 3]
Prints a markdown table of medians (of per-run medians) and writes target/bench/optim.json.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from transformers import ElectraConfig, ElectraForSequenceClassification

ROOT = Path(__file__).resolve().parent.parent
SHAPES = {
    "small": dict(embedding_size=128, hidden_size=256, num_attention_heads=4, intermediate_size=1024),
    "base": dict(embedding_size=768, hidden_size=768, num_attention_heads=12, intermediate_size=3072),
}


def torch_update_ms(size: str, updates: int, fused: bool) -> float:
    torch.manual_seed(0)
    config = ElectraConfig(vocab_size=35000, num_hidden_layers=12, max_position_embeddings=512, num_labels=2,
                           **SHAPES[size])
    model = ElectraForSequenceClassification(config)
    no_decay = ["bias", "LayerNorm.weight"]
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
         "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=1e-4, eps=1e-8, fused=fused or None)
    params = list(model.parameters())
    times = []
    for step in range(updates + 3):
        with torch.no_grad():
            for p in params:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
                p.grad.normal_(0.0, 1e-3)
        started = time.perf_counter()
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)
        norm.item()
        if step >= 3:
            times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def ours_update_ms(size: str, updates: int) -> dict:
    cmd = ["cargo", "bench", "--quiet", "--bench", "optim", "--", size, str(updates)]
    env = dict(os.environ, LIBTORCH_USE_PYTORCH="1", VIRTUAL_ENV=str(ROOT / ".venv"),
               PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}")
    out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="small,base")
    p.add_argument("--updates", type=int, default=20)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    threads = int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))
    torch.set_num_threads(threads)
    rows = []
    for size in args.sizes.split(","):
        ours, fused, plain, params = [], [], [], 0
        for _ in range(args.runs):  # interleaved, so drifting machine load hits every side alike
            result = ours_update_ms(size, args.updates)
            ours.append(result["median_ms"])
            params = result["parameters"]
            fused.append(torch_update_ms(size, args.updates, fused=True))
            plain.append(torch_update_ms(size, args.updates, fused=False))
        row = {"size": size, "parameters": params, "threads": threads,
               "ours_ms": statistics.median(ours), "torch_fused_ms": statistics.median(fused),
               "torch_default_ms": statistics.median(plain)}
        row["ours_vs_fused"] = row["ours_ms"] / row["torch_fused_ms"]
        rows.append(row)
    print(f"| model | parameters | koelectra-ft ms/update | torch AdamW(fused=True) | torch AdamW() | "
          f"ours ÷ fused |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['size']} | {r['parameters'] / 1e6:.1f} M | {r['ours_ms']:.1f} | {r['torch_fused_ms']:.1f} | "
              f"{r['torch_default_ms']:.1f} | {r['ours_vs_fused']:.2f}× |")
    out = ROOT / "target" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "optim.json").write_text(json.dumps(rows, indent=1) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
