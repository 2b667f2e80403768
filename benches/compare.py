#!/usr/bin/env python3
"""Side-by-side benchmark: koelectra-ft vs Hugging Face transformers on the same machine.

Both sides train the same random KoELECTRA-small-shaped checkpoint (12 layers, hidden 256,
embedding 128, the v3 vocab) on the same NSMC rows (../shared/data/nsmc/ratings_test.txt), batch 32,
max_seq_len 128, the same thread count, and evaluate on the same held-out rows. The HF side is
benches/hf_peer.py: ElectraForSequenceClassification with the reference loop, padding to max_length
(as the reference scripts) and, as the tuned peer, to the longest sequence of each batch. Ours runs
with its defaults, with group_by_length false (the peer's random batches), and with token_packing
false as well (every position computed, as the peer does).

Run from the repo root after scripts/setup.sh --dev:
    .venv/bin/python benches/compare.py [--runs 3] [--threads N]
Prints a markdown table of medians and the ratios; writes target/bench/results.json.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
WORK = ROOT / "target" / "bench"
BINARY = ROOT / "target" / "release" / "koelectra-ft"
PYTHON = sys.executable
METRICS = ["train_samples_per_s", "eval_samples_per_s", "feature_rows_per_s", "peak_rss_mib"]


def prepare(train_rows: int, eval_rows: int) -> Path:
    """Train/test files (NSMC format) and the shared random checkpoint."""
    data = WORK / "data" / "nsmc"
    data.mkdir(parents=True, exist_ok=True)
    lines = (SHARED / "data" / "nsmc" / "ratings_test.txt").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    (data / "train.txt").write_text("\n".join([header] + rows[:train_rows]) + "\n", encoding="utf-8")
    (data / "test.txt").write_text("\n".join([header] + rows[-eval_rows:]) + "\n", encoding="utf-8")
    model = WORK / "model-small"
    if not (model / "config.json").exists():
        vocab = SHARED / "vocab" / "koelectra-v3-vocab.txt"
        subprocess.run([PYTHON, str(ROOT / "benches" / "hf_peer.py"), "make-model", str(model), str(vocab)], check=True)
    return model


def run_ours(model: Path, steps: int, threads: int, group_by_length: bool, token_packing: bool = True) -> dict:
    out = WORK / "ckpt"
    config = {
        "task": "nsmc", "data_dir": str(WORK / "data"), "ckpt_dir": str(out), "output_dir": "ours",
        "train_file": "train.txt", "dev_file": "", "test_file": "test.txt", "overwrite_output_dir": True,
        "evaluate_test_during_training": True, "do_train": True, "do_eval": True, "eval_all_checkpoints": False,
        "max_seq_len": 128, "num_train_epochs": 1, "max_steps": steps, "logging_steps": steps, "save_steps": 0,
        "model_type": "koelectra-small-v3", "model_name_or_path": str(model), "seed": 42,
        "train_batch_size": 32, "eval_batch_size": 128, "learning_rate": 5e-5, "group_by_length": group_by_length,
        "token_packing": token_packing,
        "no_cuda": True,
    }
    path = WORK / "ours.json"
    path.write_text(json.dumps(config))
    env = dict(os.environ, KOELECTRA_FT_CACHE="off", OMP_NUM_THREADS=str(threads))
    subprocess.run([str(BINARY), "seq-cls", "--task", "nsmc", "--config", str(path), "--quiet"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    events = [json.loads(line) for line in (out / "ours" / "metrics.jsonl").read_text().splitlines()]
    pick = lambda kind, **kw: [e for e in events if e["event"] == kind and all(e.get(k) == v for k, v in kw.items())]
    train = pick("train")[-1]
    return {
        "train_samples_per_s": train["samples_per_second"],
        "eval_samples_per_s": pick("eval", step=steps)[-1]["samples_per_second"],
        "feature_rows_per_s": pick("features", split="train")[0]["rows_per_second"],
        "peak_rss_mib": pick("end")[-1]["peak_rss_mib"],
        "time_split_ms": {k: train[k] for k in ("forward_ms", "backward_ms", "optimizer_ms")},
    }


def run_hf(model: Path, padding: str, steps: int, threads: int) -> dict:
    cmd = [PYTHON, str(ROOT / "benches" / "hf_peer.py"), "run", str(model), str(WORK / "data/nsmc/train.txt"),
           str(WORK / "data/nsmc/test.txt"), "--padding", padding, "--steps", str(steps), "--threads", str(threads)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def median(runs: list) -> dict:
    return {m: statistics.median(r[m] for r in runs) for m in METRICS}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--train-rows", type=int, default=4000)
    p.add_argument("--eval-rows", type=int, default=2000)
    p.add_argument("--steps-ours", type=int, default=62, help="two length-grouped mega-batches of 4000 rows")
    p.add_argument("--steps-hf", type=int, default=20)
    args = p.parse_args()
    if not BINARY.exists():
        sys.exit(f"{BINARY} is missing: run scripts/setup.sh first")
    model = prepare(args.train_rows, args.eval_rows)
    started = time.time()
    rows = {}
    rows["koelectra-ft (default: group_by_length)"] = [run_ours(model, args.steps_ours, args.threads, True)
                                                       for _ in range(args.runs)]
    rows["koelectra-ft (group_by_length: false)"] = [run_ours(model, args.steps_ours, args.threads, False)
                                                     for _ in range(args.runs)]
    rows["koelectra-ft (group_by_length: false, token_packing: false)"] = [
        run_ours(model, args.steps_ours, args.threads, False, False) for _ in range(args.runs)]
    rows["HF, padding=max_length (reference)"] = [run_hf(model, "max_length", args.steps_hf, args.threads)
                                                  for _ in range(args.runs)]
    rows["HF, dynamic padding (tuned peer)"] = [run_hf(model, "longest", args.steps_hf, args.threads)
                                                for _ in range(args.runs)]
    medians = {name: median(runs) for name, runs in rows.items()}
    ours = medians["koelectra-ft (default: group_by_length)"]
    print(f"\nthreads {args.threads}, {args.runs} runs each (median), {time.time() - started:.0f}s in all\n")
    print("| run | train samples/s | eval samples/s | feature rows/s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    for name, m in medians.items():
        print(f"| {name} | {m['train_samples_per_s']:.1f} | {m['eval_samples_per_s']:.1f} | "
              f"{m['feature_rows_per_s']:.0f} | {m['peak_rss_mib']:.0f} |")
    print("\n| koelectra-ft ÷ | train | eval | features | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    for name in ("HF, padding=max_length (reference)", "HF, dynamic padding (tuned peer)"):
        r = {k: ours[k] / medians[name][k] for k in METRICS}
        print(f"| {name} | {r['train_samples_per_s']:.2f}× | {r['eval_samples_per_s']:.2f}× | "
              f"{r['feature_rows_per_s']:.2f}× | {r['peak_rss_mib']:.2f}× |")
    plain = medians["koelectra-ft (group_by_length: false)"]["train_samples_per_s"]
    peer = medians["HF, dynamic padding (tuned peer)"]["train_samples_per_s"]
    print(f"\noverhead only (group_by_length: false vs HF dynamic padding, medians of {args.runs}): "
          f"{plain:.1f} vs {peer:.1f} train samples/s = {plain / peer:.2f}×")
    padded = medians["koelectra-ft (group_by_length: false, token_packing: false)"]["train_samples_per_s"]
    print(f"token packing (group_by_length: false, token_packing true vs false, medians of {args.runs}): "
          f"{plain:.1f} vs {padded:.1f} train samples/s = {plain / padded:.2f}×; without it, "
          f"{padded / peer:.2f}× the tuned peer")
    split = rows["koelectra-ft (default: group_by_length)"][0]["time_split_ms"]
    print(f"\nkoelectra-ft time per update (first run): forward {split['forward_ms']:.0f} ms, "
          f"backward {split['backward_ms']:.0f} ms, optimizer {split['optimizer_ms']:.0f} ms")
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "results.json").write_text(json.dumps({"runs": rows, "medians": medians}, indent=2))


if __name__ == "__main__":
    main()
