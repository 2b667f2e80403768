#!/usr/bin/env python3
"""KorQuAD feature building: koelectra-ft vs transformers' legacy SQuAD converter, on the whole dev file
(../shared/data/korquad/KorQuAD_v1.0_dev.json, 5,774 questions), max_seq_length 512, doc_stride 128,
max_query_length 64, the v3 vocab, the same number of worker threads.

The legacy converter (`squad_convert_examples_to_features`) needs the slow `ElectraTokenizer` (it
passes token-id lists that the fast tokenizer refuses). koelectra-ft's time is the one its log reports
for building the windows of the predict file.

Run from the repo root after scripts/setup.sh --dev:  .venv/bin/python benches/squad_features.py
"""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import torch
from transformers import ElectraConfig, ElectraForQuestionAnswering, ElectraTokenizer
from transformers.data.processors.squad import SquadV1Processor, squad_convert_examples_to_features

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
WORK = ROOT / "target" / "bench-squad"
BINARY = ROOT / "target" / "release" / "koelectra-ft"
VOCAB = SHARED / "vocab" / "koelectra-v3-vocab.txt"
THREADS = os.cpu_count() or 1


def hf_seconds() -> tuple:
    tok = ElectraTokenizer(vocab_file=str(VOCAB), do_lower_case=False)
    examples = SquadV1Processor().get_dev_examples(str(SHARED / "data" / "korquad"), "KorQuAD_v1.0_dev.json")
    started = time.perf_counter()
    features = squad_convert_examples_to_features(
        examples, tok, max_seq_length=512, doc_stride=128, max_query_length=64, is_training=False,
        threads=THREADS, tqdm_enabled=False)
    return time.perf_counter() - started, len(features)


def our_seconds() -> tuple:
    model = WORK / "model"
    if not (model / "config.json").exists():
        torch.manual_seed(0)
        config = ElectraConfig(vocab_size=35000, embedding_size=16, hidden_size=16, num_hidden_layers=1,
                               num_attention_heads=1, intermediate_size=16)
        ElectraForQuestionAnswering(config).save_pretrained(model)
        (model / "vocab.txt").write_bytes(VOCAB.read_bytes())
    config = {"task": "korquad", "data_dir": str(SHARED / "data"), "ckpt_dir": str(WORK / "ckpt"),
              "output_dir": "run", "predict_file": "KorQuAD_v1.0_dev.json", "do_train": False, "do_eval": True,
              "model_type": "koelectra-small-v3", "model_name_or_path": str(model), "threads": THREADS,
              "max_seq_length": 512, "doc_stride": 128, "max_query_length": 64, "eval_batch_size": 64,
              "no_cuda": True}
    path = WORK / "config.json"
    path.write_text(json.dumps(config))
    out = subprocess.run([str(BINARY), "squad", "--task", "korquad", "--config", str(path), "--quiet"],
                         check=True, capture_output=True, text=True)
    match = re.search(r"test: (\d+) questions, (\d+) windows from .* \(([\d.]+)s\)", out.stderr)
    if not match:
        sys.exit(f"no feature timing in the log:\n{out.stderr}")
    return float(match.group(3)), int(match.group(2))


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    ours, n_ours = our_seconds()
    hf, n_hf = hf_seconds()
    print(f"KorQuAD dev, {THREADS} threads: koelectra-ft {ours:.2f}s ({n_ours} windows), "
          f"transformers legacy converter {hf:.1f}s ({n_hf} features): {hf / ours:.0f}x")


if __name__ == "__main__":
    main()
