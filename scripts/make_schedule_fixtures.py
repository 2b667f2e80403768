#!/usr/bin/env python3
"""Writes tests/fixtures/schedules/lr.json: transformers' `get_scheduler` learning rates at every step.

Run from the repo root with the project venv:  .venv/bin/python scripts/make_schedule_fixtures.py
For each `lr_scheduler_type`, a grid of totals and warmups: an SGD optimizer at lr 5e-5 under
`transformers.get_scheduler(name, optimizer, num_warmup_steps, num_training_steps)` (its default
arguments), and the learning rate before each of `total + 2` updates (`optimizer.param_groups[0]["lr"]`,
then `scheduler.step()`). tests/train/trainer.rs compares our multipliers to these, to 1e-12.
"""
import json
from pathlib import Path

import torch
import transformers
from transformers import get_scheduler

LR = 5e-5
NAMES = ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
         "inverse_sqrt"]
TOTALS = [1, 2, 7, 10, 64, 150]
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "schedules" / "lr.json"


def warmups(total: int) -> list[int]:
    return sorted({0, 1, 3, total // 10, total // 2, total - 1, total} - {-1})


def rates(name: str, total: int, warmup: int) -> list[float]:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=LR)
    sched = get_scheduler(name, opt, num_warmup_steps=warmup, num_training_steps=total)
    out = []
    for _ in range(total + 2):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def main() -> None:
    cases = []
    for name in NAMES:
        for total in TOTALS:
            for warmup in warmups(total):
                if name == "polynomial" and warmup == total:
                    continue  # HF divides by zero at step `total` (ours gives lr_end there)
                cases.append({"name": name, "total": total, "warmup": warmup, "lr": rates(name, total, warmup)})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc = {"transformers": transformers.__version__, "learning_rate": LR, "cases": cases}
    OUT.write_text(json.dumps(doc) + "\n")
    print(f"{OUT}: {len(cases)} cases, {sum(len(c['lr']) for c in cases)} learning rates")


if __name__ == "__main__":
    main()
