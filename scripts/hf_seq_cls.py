#!/usr/bin/env python3
"""Hugging Face side of the seq-cls end-to-end tests (tests/seq_cls/run.rs).

  hf_seq_cls.py make-model OUT_DIR VOCAB NUM_LABELS
      a tiny random ElectraForSequenceClassification with the vocab's size, saved with the vocab
  hf_seq_cls.py predict MODEL_DIR TSV TEXT_A_COL TEXT_B_COL MAX_LEN
      logits for every data row of a headed TSV (lines stripped, split on tabs), one JSON list per line
"""
import json
import shutil
import sys

import torch
from transformers import ElectraConfig, ElectraForSequenceClassification, ElectraTokenizerFast


def make_model(out_dir: str, vocab: str, num_labels: int) -> None:
    torch.manual_seed(3)
    tokenizer = ElectraTokenizerFast(vocab_file=vocab, do_lower_case=False)
    config = ElectraConfig(
        vocab_size=tokenizer.vocab_size, embedding_size=16, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=4, intermediate_size=48, max_position_embeddings=512, num_labels=num_labels,
    )
    model = ElectraForSequenceClassification(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.save_pretrained(out_dir)
    shutil.copy(vocab, f"{out_dir}/vocab.txt")


def predict(model_dir: str, tsv: str, col_a: int, col_b: int, max_len: int) -> None:
    tokenizer = ElectraTokenizerFast(vocab_file=f"{model_dir}/vocab.txt", do_lower_case=False)
    model = ElectraForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager").eval()
    with open(tsv, encoding="utf-8") as f:
        rows = [line.strip().split("\t") for line in f.read().splitlines()[1:] if line.strip()]
    for start in range(0, len(rows), 64):
        chunk = rows[start:start + 64]
        a = [r[col_a] for r in chunk]
        b = [r[col_b] for r in chunk] if col_b >= 0 else None
        enc = tokenizer(a, b, truncation=True, max_length=max_len, padding=True, return_tensors="pt")
        with torch.no_grad():
            logits = model(**enc).logits
        for row in logits.tolist():
            print(json.dumps(row))


if __name__ == "__main__":
    if sys.argv[1] == "make-model":
        make_model(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        predict(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
