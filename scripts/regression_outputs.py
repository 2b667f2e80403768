#!/usr/bin/env python3
"""Every output file of a fixed set of runs, for comparing two builds with `diff -r`.

Runs a koelectra-ft binary on the templated fixture and on one real task per subcommand (question-pair, a slice of
the Naver NER test file, a slice of the KorQuAD dev file), then `predict` on a checkpoint of each,
and writes everything under OUT_DIR. Timings (seconds, samples/s, rows/s, ms, peak memory) are
removed from metrics.jsonl and temporary paths from training_args.json, so two builds that compute the same thing give identical trees:

    scripts/regression_outputs.py target/release/koelectra-ft /tmp/after
    scripts/regression_outputs.py /tmp/old-koelectra-ft /tmp/before
    diff -r /tmp/before /tmp/after

One intra-op thread (bit-exact training), a fresh feature cache per run, no network. Reads the
benchmark files in ../shared (beside the checkout). Takes about two minutes on 2 cores.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
VOCAB = SHARED / "vocab/koelectra-v3-vocab.txt"
TIMING_KEYS = {"seconds", "rows_per_second", "samples_per_second", "forward_ms", "backward_ms",
               "optimizer_ms", "peak_rss_mib"}
TINY = {"vocab_size": 35000, "embedding_size": 32, "hidden_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 2, "intermediate_size": 128}


def run(binary, args, env, stdin=None, stdout=None):
    """Runs the binary; fails loudly with its stderr."""
    proc = subprocess.run([str(binary), *args], env=env, cwd=ROOT, input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr.decode()}")
    if stdout is not None:
        stdout.write_bytes(proc.stdout)


def write_config(path, cfg):
    path.write_text(json.dumps(cfg, indent=2, default=str))
    return path


def base_config(task, data_dir, ckpt_dir, extra):
    cfg = {"task": task, "data_dir": str(data_dir), "ckpt_dir": str(ckpt_dir), "output_dir": task,
           "model_type": "koelectra-small-v3", "model_name_or_path": "", "vocab_file": str(VOCAB),
           "model_config": TINY, "seed": 42, "no_cuda": True, "warmup_proportion": 0.1,
           "weight_decay": 0.01, "learning_rate": 1e-3, "num_train_epochs": 1}
    cfg.update(extra)
    return cfg


def normalize(run_dir, work):
    """metrics.jsonl without the wall-clock fields; the temporary folders' names in training_args.json
    replaced by placeholders."""
    for path in run_dir.rglob("training_args.json"):
        text = path.read_text().replace(str(run_dir), "<OUT>").replace(str(work), "<WORK>")
        path.write_text(text)
    for path in run_dir.rglob("metrics.jsonl"):
        lines = []
        for line in path.read_text().splitlines():
            event = json.loads(line)
            lines.append(json.dumps({k: v for k, v in event.items() if k not in TIMING_KEYS}))
        path.write_text("\n".join(lines) + "\n")


def slice_lines(src, dst, start, stop):
    dst.parent.mkdir(parents=True, exist_ok=True)
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    dst.write_text("".join(lines[start:stop]), encoding="utf-8")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="regression-"))
    env = dict(os.environ, OMP_NUM_THREADS="1", KOELECTRA_FT_CACHE=str(work / "cache"), HF_HUB_OFFLINE="1")

    # 1. The templated fixture (tiny, fast; the README demo is configs/nsmc/demo.json).
    run(binary, ["seq-cls", "--task", "nsmc", "--config", "tests/fixtures/templated.json", "--quiet",
                 "--set", f"ckpt_dir={out}", "--set", "output_dir=demo"], env, stdout=out / "demo.stdout")

    # 2. seq-cls on question-pair: train, dev and test files as they are.
    qp = write_config(work / "qp.json", base_config("question-pair", SHARED / "data", out, {
        "train_file": "train.tsv", "dev_file": "dev.tsv", "test_file": "test.tsv", "max_seq_len": 64,
        "train_batch_size": 32, "eval_batch_size": 128, "max_steps": 30, "logging_steps": 10,
        "save_steps": 10, "save_optimizer": True}))
    run(binary, ["seq-cls", "--task", "question-pair", "--config", str(qp), "--quiet"], env,
        stdout=out / "question-pair.stdout")
    pairs = "".join("\t".join(line.split("\t")[:2]) + "\n" for line in
                    (SHARED / "data/question-pair/test.tsv").read_text().splitlines()[1:301])
    for fmt in ["jsonl", "tsv"]:
        run(binary, ["predict", "--model", str(out / "question-pair/checkpoint-20"), "--format", fmt,
                     "--quiet"], env, stdin=pairs.encode(), stdout=out / f"question-pair.predict.{fmt}")

    # 3. ner on a slice of the Naver NER test file: 4,000 sentences to train, 300 to test.
    ner_data = work / "ner-data"
    src = SHARED / "data/naver-ner/test.tsv"
    slice_lines(src, ner_data / "naver-ner/train.tsv", 0, 4000)
    slice_lines(src, ner_data / "naver-ner/test.tsv", 4000, 4300)
    ner = write_config(work / "ner.json", base_config("naver-ner", ner_data, out, {
        "train_file": "train.tsv", "dev_file": "", "test_file": "test.tsv", "max_seq_len": 32,
        "train_batch_size": 32, "eval_batch_size": 64, "max_steps": 400, "logging_steps": 100,
        "save_steps": 200, "evaluate_test_during_training": True, "learning_rate": 2e-3,
        "num_train_epochs": 4}))
    run(binary, ["ner", "--task", "naver-ner", "--config", str(ner), "--quiet"], env,
        stdout=out / "naver-ner.stdout")
    for fmt in ["jsonl", "tsv"]:
        run(binary, ["predict", "--model", str(out / "naver-ner/checkpoint-400"), "--format", fmt, "--quiet",
                     "--input", str(ner_data / "naver-ner/test.tsv")], env, stdout=out / f"naver-ner.predict.{fmt}")

    # 4. squad on a slice of the KorQuAD dev file: 6 articles to train, 3 to predict.
    dev = json.loads((SHARED / "data/korquad/KorQuAD_v1.0_dev.json").read_text(encoding="utf-8"))
    squad_data = work / "squad-data/korquad"
    squad_data.mkdir(parents=True)
    for name, articles in [("train.json", dev["data"][:6]), ("predict.json", dev["data"][6:9])]:
        (squad_data / name).write_text(json.dumps({"version": dev["version"], "data": articles}))
    squad = write_config(work / "squad.json", base_config("korquad", squad_data.parent, out, {
        "train_file": "train.json", "predict_file": "predict.json", "max_seq_length": 128, "doc_stride": 64,
        "max_query_length": 32, "train_batch_size": 16, "eval_batch_size": 64, "max_steps": 6,
        "logging_steps": 3, "save_steps": 3, "threads": 2, "learning_rate": 5e-3}))
    run(binary, ["squad", "--task", "korquad", "--config", str(squad), "--quiet"], env, stdout=out / "korquad.stdout")
    checkpoint = str(out / "korquad/checkpoint-6")
    for fmt in ["jsonl", "tsv"]:
        run(binary, ["predict", "--model", checkpoint, "--format", fmt, "--quiet", "--input",
                     str(squad_data / "predict.json")], env, stdout=out / f"korquad.predict-json.{fmt}")
    lines = []
    for article in dev["data"][6:9]:
        for paragraph in article["paragraphs"]:
            context = " ".join(paragraph["context"].split())  # one line: no tab or newline inside
            lines += [" ".join(qa["question"].split()) + "\t" + context + "\n" for qa in paragraph["qas"]]
    run(binary, ["predict", "--model", checkpoint, "--quiet"], env, stdin="".join(lines).encode(),
        stdout=out / "korquad.predict-lines.jsonl")

    normalize(out, work)
    shutil.rmtree(work)
    print(f"outputs in {out}")


if __name__ == "__main__":
    main()
