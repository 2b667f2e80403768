#!/usr/bin/env python3
"""Loads a checkpoint directory with `transformers` and prints its logits on given inputs as JSON.

Usage: .venv/bin/python scripts/hf_logits.py CHECKPOINT_DIR INPUTS.json
INPUTS.json holds input_ids, attention_mask and token_type_ids (nested lists). The output is
{"logits": ...}; for question answering the start and end logits are stacked on the last axis.
Used by tests/model/main.rs to prove that checkpoints koelectra-ft saves load in transformers.
"""
import json
import sys

import torch
from transformers import AutoConfig, ElectraForQuestionAnswering, ElectraForSequenceClassification, ElectraForTokenClassification

HEADS = {
    "ElectraForSequenceClassification": ElectraForSequenceClassification,
    "ElectraForTokenClassification": ElectraForTokenClassification,
    "ElectraForQuestionAnswering": ElectraForQuestionAnswering,
}


def main() -> None:
    ckpt, inputs_path = sys.argv[1], sys.argv[2]
    arch = AutoConfig.from_pretrained(ckpt).architectures[0]
    model = HEADS[arch].from_pretrained(ckpt, attn_implementation="eager").eval()
    with open(inputs_path) as f:
        case = json.load(f)
    inputs = {k: torch.tensor(case[k]) for k in ("input_ids", "attention_mask", "token_type_ids")}
    with torch.no_grad():
        out = model(**inputs)
    if arch == "ElectraForQuestionAnswering":
        logits = torch.stack([out.start_logits, out.end_logits], dim=-1)
    else:
        logits = out.logits
    json.dump({"logits": logits.tolist()}, sys.stdout)


if __name__ == "__main__":
    main()
