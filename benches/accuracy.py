#!/usr/bin/env python3
"""Does length-grouped batching cost accuracy? Trains the same random checkpoint on NSMC rows for the
same number of steps with group_by_length true and false, three seeds each, and reports the held-out
accuracy of every run and the means.

Run from the repo root after scripts/setup.sh --dev:
    .venv/bin/python benches/accuracy.py [--steps 300] [--seeds 1 2 3]
Data: ../shared/data/nsmc/ratings_test.txt, the first --train-rows rows for training and the last
--eval-rows rows held out. Model: a 4-layer ELECTRA (hidden 128) with the v3 vocab, random init.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import torch
from transformers import ElectraConfig, ElectraForSequenceClassification, ElectraTokenizerFast

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
WORK = ROOT / "target" / "bench-accuracy"
BINARY = ROOT / "target" / "release" / "koelectra-ft"


def prepare(train_rows: int, eval_rows: int) -> Path:
    data = WORK / "data" / "nsmc"
    data.mkdir(parents=True, exist_ok=True)
    lines = (SHARED / "data" / "nsmc" / "ratings_test.txt").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    (data / "train.txt").write_text("\n".join([header] + rows[:train_rows]) + "\n", encoding="utf-8")
    (data / "test.txt").write_text("\n".join([header] + rows[-eval_rows:]) + "\n", encoding="utf-8")
    model = WORK / "model"
    if not (model / "config.json").exists():
        torch.manual_seed(0)
        tok = ElectraTokenizerFast(vocab_file=str(SHARED / "vocab" / "koelectra-v3-vocab.txt"), do_lower_case=False)
        config = ElectraConfig(vocab_size=tok.vocab_size, embedding_size=128, hidden_size=128, num_hidden_layers=4,
                               num_attention_heads=2, intermediate_size=512, num_labels=2)
        ElectraForSequenceClassification(config).save_pretrained(model)
        tok.save_pretrained(model)
    return model


def run(model: Path, steps: int, seed: int, group_by_length: bool) -> float:
    config = {
        "task": "nsmc", "data_dir": str(WORK / "data"), "ckpt_dir": str(WORK / "ckpt"), "output_dir": "run",
        "train_file": "train.txt", "dev_file": "", "test_file": "test.txt", "overwrite_output_dir": True,
        "evaluate_test_during_training": True, "do_train": True, "do_eval": True, "eval_all_checkpoints": False,
        "max_seq_len": 128, "num_train_epochs": 1, "max_steps": steps, "logging_steps": 0, "save_steps": 0,
        "model_type": "koelectra-small-v3", "model_name_or_path": str(model), "seed": seed,
        "train_batch_size": 32, "eval_batch_size": 256, "learning_rate": 5e-4, "warmup_proportion": 0.1,
        "group_by_length": group_by_length, "no_cuda": True,
    }
    path = WORK / "config.json"
    path.write_text(json.dumps(config))
    subprocess.run([str(BINARY), "seq-cls", "--task", "nsmc", "--config", str(path), "--quiet"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    summary = json.loads((WORK / "ckpt" / "run" / "summary.json").read_text())
    return summary["last"]["test"]["acc"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--train-rows", type=int, default=40000)
    p.add_argument("--eval-rows", type=int, default=10000)
    args = p.parse_args()
    if not BINARY.exists():
        sys.exit(f"{BINARY} is missing: run scripts/setup.sh first")
    model = prepare(args.train_rows, args.eval_rows)
    os.environ.setdefault("KOELECTRA_FT_CACHE", str(WORK / "cache"))
    results = {}
    for grouped in (True, False):
        results[grouped] = [run(model, args.steps, seed, grouped) for seed in args.seeds]
    print(f"\n{args.steps} steps, batch 32, {args.train_rows} training rows, {args.eval_rows} held out\n")
    print("| group_by_length | " + " | ".join(f"seed {s}" for s in args.seeds) + " | mean |")
    print("|---|" + "---:|" * (len(args.seeds) + 1))
    for grouped, accs in results.items():
        cells = " | ".join(f"{a * 100:.2f}" for a in accs)
        print(f"| {str(grouped).lower()} | {cells} | {statistics.mean(accs) * 100:.2f} |")
    gap = (statistics.mean(results[True]) - statistics.mean(results[False])) * 100
    print(f"\ndifference of the means: {gap:+.2f} points")


if __name__ == "__main__":
    main()
