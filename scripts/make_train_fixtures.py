#!/usr/bin/env python3
"""Writes tests/fixtures/train/: a few optimisation steps of HF ElectraForSequenceClassification
with the reference training recipe, for the Rust training-loop parity test (tests/train/trainer.rs).

Recipe: dropout 0, a fixed batch order, torch.optim.AdamW with weight decay 0.01 on every parameter
except biases and LayerNorm weights, linear warmup (proportion 0.2) then linear decay,
gradient accumulation 2, global-norm clipping 1.0, 6 optimiser steps. Starts from the checkpoints in
tests/fixtures/models (run scripts/make_fixtures.py first).
Run: .venv/bin/python scripts/make_train_fixtures.py
"""
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import ElectraForSequenceClassification, get_linear_schedule_with_warmup

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "tests" / "fixtures" / "models"
OUT = ROOT / "tests" / "fixtures" / "train"
RECIPE = {
    "learning_rate": 2e-3,
    "weight_decay": 0.01,
    "adam_epsilon": 1e-8,
    "warmup_proportion": 0.2,
    "gradient_accumulation_steps": 2,
    "max_grad_norm": 1.0,
    "updates": 6,
    "batch_size": 3,
}


def examples(vocab_size: int, n: int, gen: torch.Generator):
    """Random `[CLS] a [SEP] b [SEP]` id sequences of varied length (ids 5.. are ordinary tokens)."""
    out = []
    for _ in range(n):
        la, lb = torch.randint(1, 9, (2,), generator=gen).tolist()
        a = torch.randint(5, vocab_size, (la,), generator=gen).tolist()
        b = torch.randint(5, vocab_size, (lb,), generator=gen).tolist()
        out.append({"input_ids": [2] + a + [3] + b + [3], "token_type_ids": [0] * (la + 2) + [1] * (lb + 1)})
    return out


def pad(batch):
    longest = max(len(e["input_ids"]) for e in batch)
    ids = [e["input_ids"] + [0] * (longest - len(e["input_ids"])) for e in batch]
    types = [e["token_type_ids"] + [0] * (longest - len(e["token_type_ids"])) for e in batch]
    mask = [[1] * len(e["input_ids"]) + [0] * (longest - len(e["input_ids"])) for e in batch]
    return torch.tensor(ids), torch.tensor(mask), torch.tensor(types)


def run(name: str, regression: bool) -> None:
    gen = torch.Generator().manual_seed(99)
    model = ElectraForSequenceClassification.from_pretrained(
        MODELS / name, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, attn_implementation="eager"
    )
    model.train()
    n_micro = RECIPE["updates"] * RECIPE["gradient_accumulation_steps"]
    data = examples(model.config.vocab_size, 20, gen)
    for e in data:
        e["label"] = round(torch.rand(1, generator=gen).item() * 5, 2) if regression else int(
            torch.randint(0, model.config.num_labels, (1,), generator=gen).item()
        )
    batches = [torch.randint(0, len(data), (RECIPE["batch_size"],), generator=gen).tolist() for _ in range(n_micro)]

    no_decay = ["bias", "LayerNorm.weight"]
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
         "weight_decay": RECIPE["weight_decay"]},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=RECIPE["learning_rate"], eps=RECIPE["adam_epsilon"])
    warmup = int(RECIPE["updates"] * RECIPE["warmup_proportion"])
    scheduler = get_linear_schedule_with_warmup(optimizer, warmup, RECIPE["updates"])
    ga = RECIPE["gradient_accumulation_steps"]
    losses, running = [], 0.0
    for i, batch in enumerate(batches):
        ids, mask, types = pad([data[j] for j in batch])
        labels = torch.tensor([data[j]["label"] for j in batch], dtype=torch.float if regression else torch.long)
        loss = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels).loss / ga
        loss.backward()
        running += loss.item()
        if (i + 1) % ga == 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), RECIPE["max_grad_norm"])
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(running)
            running = 0.0

    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, out / "final.safetensors")
    case = {"recipe": RECIPE, "examples": data, "batches": batches, "losses": losses}
    (out / "expected.json").write_text(json.dumps(case) + "\n")


def main() -> None:
    torch.manual_seed(0)
    run("seq-cls-3", regression=False)
    run("seq-cls-regression", regression=True)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
