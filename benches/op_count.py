#!/usr/bin/env python3
"""Operators dispatched per training update, koelectra-ft vs the HF peer: the host's work per
update, which on a GPU sets the pace of small batches (there the host, not the card, is the
bottleneck below batch ~128: see the README's H200 table). Measured here on the CPU, no GPU needed.

Both sides count what libtorch's RecordFunction sees (every operator it dispatches, nested ones and
autograd's backward functions included): ours with KOELECTRA_FT_COUNT_OPS set
(`dispatched_ops_per_update` in metrics.jsonl), the peer (benches/hf_peer.py --count-ops) with
torch.profiler. Same KoELECTRA-small-shaped random model, NSMC rows, random batches of 32 padded to
their longest row, fused AdamW, clipping to 1.0; mean over the timed updates (ours: the second
logging window; HF: after 2 warm-up steps).

On the CPU the counts differ from CUDA's in a few places: attention in training is the explicit
softmax (CUDA: one SDPA call), dropout multiplies by the shim's mask, and AdamW zeroes the gradient
buffer and backward adds into it (~200 adds per update that CUDA's zero_grad(set_to_none) avoids).

Run from the repo root after scripts/setup.sh --dev and cargo build --release:
    .venv/bin/python benches/op_count.py [--precisions fp32,bf16] [--batch 32] [--bin PATH] [--no-peer]
(--bin: another build of ours, e.g. of an earlier commit, to see what a change saves.)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BIN = ROOT / "target" / "release" / "koelectra-ft"
SMALL = {"embedding_size": 128, "hidden_size": 256, "num_hidden_layers": 12, "num_attention_heads": 4,
         "intermediate_size": 1024, "max_position_embeddings": 512}


def nsmc_rows(work: Path, rows: int) -> Path:
    """The first `rows` reviews of the shared NSMC test file as train and test splits."""
    src = (SHARED / "data" / "nsmc" / "ratings_test.txt").read_text(encoding="utf-8").splitlines()
    data = work / "data" / "nsmc"
    data.mkdir(parents=True)
    for name in ("ratings_train.txt", "ratings_test.txt"):
        (data / name).write_text("\n".join(src[: rows + 1]) + "\n", encoding="utf-8")
    return data.parent


def ours(binary: Path, work: Path, data: Path, vocab: Path, precision: str, packing: bool, batch: int) -> float:
    name = f"ours-{precision}-{packing}"
    config = dict(SMALL, vocab_size=sum(1 for _ in vocab.open(encoding="utf-8")))
    flag = {"fp32": "tf32=false", "bf16": "bf16=true", "fp16": "fp16=true"}[precision]
    sets = [f"ckpt_dir={work}", f"output_dir={name}", f"data_dir={data}", "train_file=ratings_train.txt",
            "dev_file=", "test_file=ratings_test.txt", f"vocab_file={vocab}", f"model_config={json.dumps(config)}",
            "max_seq_len=128", f"train_batch_size={batch}", "max_steps=8", "num_train_epochs=1000",
            "logging_steps=4", "save_steps=0", "do_eval=false", "evaluate_test_during_training=false",
            "eval_all_checkpoints=false",
            "group_by_length=false", f"token_packing={str(packing).lower()}", flag]
    cmd = [str(binary), "seq-cls", "--task", "nsmc", "--config", str(ROOT / "tests/fixtures/templated.json"),
           "--device", "cpu", "--quiet"] + [a for s in sets for a in ("--set", s)]
    env = dict(os.environ, KOELECTRA_FT_COUNT_OPS="1", KOELECTRA_FT_CACHE="off")
    run = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"op_count.py: {name} failed (exit {run.returncode}): {run.stderr.strip()[-2000:]}")
    events = [json.loads(line) for line in (work / name / "metrics.jsonl").read_text().splitlines()]
    train = [e for e in events if e.get("event") == "train"]
    return train[-1]["dispatched_ops_per_update"]


def peer(work: Path, data: Path, vocab: Path, precision: str, batch: int) -> float:
    model = work / "hf-small"
    py = sys.executable
    if not model.exists():
        subprocess.run([py, str(ROOT / "benches/hf_peer.py"), "make-model", str(model), str(vocab), "small"],
                       check=True, stdout=subprocess.DEVNULL)
    nsmc = data / "nsmc"
    out = subprocess.run([py, str(ROOT / "benches/hf_peer.py"), "run", str(model), str(nsmc / "ratings_train.txt"),
                          str(nsmc / "ratings_test.txt"), "--padding", "longest", "--steps", "4", "--warmup", "2",
                          "--batch", str(batch), "--fused", "--count-ops", "--precision", precision],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"op_count.py: the HF peer failed (exit {out.returncode}): {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["dispatched_ops_per_update"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--precisions", default="fp32,bf16")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--bin", type=Path, default=BIN, help="the koelectra-ft binary to count")
    p.add_argument("--no-peer", action="store_true", help="ours only")
    args = p.parse_args()
    if not args.bin.exists():
        sys.exit(f"op_count.py: build first: cargo build --release ({args.bin} is missing)")
    vocab = SHARED / "vocab" / "koelectra-v3-vocab.txt"
    with tempfile.TemporaryDirectory(prefix="op_count.") as tmp:
        work = Path(tmp)
        data = nsmc_rows(work, 512)
        print(f"| precision | ours, packed | ours, no packing | HF peer | HF ÷ ours packed | HF ÷ ours no packing |\n"
              f"|---|---:|---:|---:|---:|---:|")
        for precision in args.precisions.split(","):
            packed = ours(args.bin, work, data, vocab, precision, True, args.batch)
            padded = ours(args.bin, work, data, vocab, precision, False, args.batch)
            if args.no_peer:
                print(f"| {precision} | {packed:,.0f} | {padded:,.0f} | – | – | – |", flush=True)
                continue
            hf = peer(work, data, vocab, precision, args.batch)
            print(f"| {precision} | {packed:,.0f} | {padded:,.0f} | {hf:,.0f} | {hf / packed:.2f}× | {hf / padded:.2f}× |",
                  flush=True)


if __name__ == "__main__":
    main()
