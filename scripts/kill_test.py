#!/usr/bin/env python3
"""Kill test: SIGKILL a short training run at random moments and check that it stays recoverable.

An uninterrupted reference run trains the demo model (tests/fixtures/templated.json) with
`save_steps: 1` and `save_optimizer: true`. Then, for each trial, the same run is started in a
fresh folder, SIGKILLed after a random delay (uniform over the reference's wall time, so kills
land in start-up, in training and in checkpoint writes), and afterwards:
  1. every `checkpoint-*` folder is complete: config.json and trainer_state.json parse, and
     model.safetensors and optimizer.safetensors load;
  2. with `--save-total-limit N` (the config key `save_total_limit`): at most N + 1 checkpoints
     remain (one more when the kill fell between a save and the deletion it triggers), and at least
     one once the run has logged a save;
  3. the run continues with `--resume` (or starts again when no checkpoint was written yet) and
     its final weights equal the reference's exactly.

Runs pin OMP_NUM_THREADS=1 (--threads): bit-exact resume is promised on one thread only, because
libtorch's multi-threaded CPU kernels now and then round differently in a fresh process.
`--threads 0` leaves the tool's default (one per core) to measure how often that happens.

Usage: .venv/bin/python scripts/kill_test.py [--trials 20] [--steps 80] [--seed 1] [--threads 1]
           [--save-total-limit N] [--out FILE]
Needs a release build (cargo build --release) and the dev requirements (safetensors, numpy).
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target/release/koelectra-ft"


SAVE_TOTAL_LIMIT = 0


def command(run_root: Path, steps: int, resume: bool) -> list:
    sets = [
        f"ckpt_dir={run_root}", "output_dir=run", "do_eval=false", "logging_steps=0",
        "save_steps=1", "save_optimizer=true", f"max_steps={steps}", f"save_total_limit={SAVE_TOTAL_LIMIT}",
    ]
    cmd = [str(BINARY), "seq-cls", "--task", "nsmc", "--config", "tests/fixtures/templated.json", "--quiet"]
    for s in sets:
        cmd += ["--set", s]
    return cmd + (["--resume"] if resume else [])


def environment() -> dict:
    env = dict(os.environ, KOELECTRA_FT_CACHE="off")
    env.pop("RUST_LOG", None)
    return env


def run_to_end(run_root: Path, steps: int, resume: bool) -> None:
    result = subprocess.run(command(run_root, steps, resume), cwd=ROOT, env=environment(),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"run failed ({result.returncode}): {result.stderr.strip().splitlines()[-1:]}")


def checkpoints(run_dir: Path) -> list:
    if not run_dir.is_dir():
        return []
    found = [p for p in run_dir.iterdir() if p.name.startswith("checkpoint-")]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def check_complete(checkpoint: Path) -> None:
    json.loads((checkpoint / "config.json").read_text())
    json.loads((checkpoint / "trainer_state.json").read_text())
    for name in ["model.safetensors", "optimizer.safetensors"]:
        tensors = load_file(str(checkpoint / name))
        if not tensors:
            raise RuntimeError(f"{checkpoint / name}: no tensors")


def same_weights(a: Path, b: Path) -> bool:
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    return wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


def trial(root: Path, steps: int, reference: Path, delay: float) -> dict:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "stderr.txt", "wb") as log:
        proc = subprocess.Popen(command(root, steps, False), cwd=ROOT, env=environment(),
                                stdout=subprocess.DEVNULL, stderr=log)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    run_dir = root / "run"
    found = checkpoints(run_dir)
    for checkpoint in found:
        check_complete(checkpoint)
    if SAVE_TOTAL_LIMIT > 0:
        saved = re.search(r"\bsaved \S*checkpoint-", (root / "stderr.txt").read_text(errors="replace"))
        if len(found) > SAVE_TOTAL_LIMIT + 1:
            raise RuntimeError(f"{len(found)} checkpoints with save_total_limit {SAVE_TOTAL_LIMIT}")
        if saved and not found:
            raise RuntimeError("a save was logged but no checkpoint is left")
    run_to_end(root, steps, resume=bool(found))
    final = run_dir / f"checkpoint-{steps}"
    return {
        "delay_s": round(delay, 3),
        "checkpoints_at_kill": len(found),
        "all_complete": True,
        "resumed": bool(found),
        "same_final_weights": same_weights(final, reference),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS for every run (0: one per core)")
    parser.add_argument("--save-total-limit", type=int, default=0,
                        help="run with save_total_limit N and check the number of checkpoints left")
    parser.add_argument("--out", type=Path, help="write the per-trial results as JSON here")
    args = parser.parse_args()
    global SAVE_TOTAL_LIMIT
    SAVE_TOTAL_LIMIT = args.save_total_limit
    os.environ.pop("OMP_NUM_THREADS", None)
    if args.threads > 0:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if not BINARY.exists():
        sys.exit(f"{BINARY} is missing: run cargo build --release first")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="kill-test-") as tmp:
        tmp = Path(tmp)
        started = time.monotonic()
        run_to_end(tmp / "reference", args.steps, resume=False)
        wall = time.monotonic() - started
        reference = tmp / "reference/run" / f"checkpoint-{args.steps}"
        print(f"reference run: {args.steps} steps in {wall:.1f} s")
        results = []
        for i in range(args.trials):
            delay = rng.uniform(0.0, wall)
            try:
                result = trial(tmp / f"trial-{i}", args.steps, reference, delay)
            except Exception as e:  # a failed check is a result, not a crash of the script
                result = {"delay_s": round(delay, 3), "error": str(e), "same_final_weights": False}
            results.append(result)
            ok = "ok" if result.get("same_final_weights") else "FAILED"
            print(f"trial {i + 1:2d}: kill after {delay:5.2f} s, "
                  f"{result.get('checkpoints_at_kill', '?')} checkpoint(s) complete -> {ok}"
                  + (f" ({result['error']})" if "error" in result else ""))
    passed = sum(r.get("same_final_weights", False) for r in results)
    print(f"kill test: {passed}/{args.trials} passed")
    if args.out:
        args.out.write_text(json.dumps({"passed": passed, "trials": results}, indent=1) + "\n")
    return 0 if passed == args.trials else 1


if __name__ == "__main__":
    sys.exit(main())
