#!/usr/bin/env python3
"""Writes tests/fixtures/models/: tiny random ELECTRA checkpoints and Hugging Face's outputs on them.

Run from the repo root with the project venv:  .venv/bin/python scripts/make_fixtures.py
The Rust tests (tests/model/main.rs) load every checkpoint and compare their logits and losses with the
ones recorded here, from each weights format (the case's own file and formats/). Re-running rewrites the
fixtures deterministically (fixed seeds), except the legacy-format files, which name their storages by
memory address.
"""
import json
import shutil
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file
from transformers import (
    ElectraConfig,
    ElectraForPreTraining,
    ElectraForQuestionAnswering,
    ElectraForSequenceClassification,
    ElectraForTokenClassification,
    ElectraTokenizerFast,
)

TRANSFORMERS_VERSION = "4.57.6"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "models"

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["영화", "배우", "연기", "스토리", "정말", "movie", "good", "bad", "the"]
TEXTS = [
    ("영화가 정말 재미있다!", "배우 연기가 최고"),
    ("스토리는 별로, 지루한 영화.", "감동적이야"),
    ("The movie is good 10/10", "bad?"),
    ("최고", "지루한 연기, 별로인 스토리, 그리고 긴 영화 정말 정말 지루하다"),
    ("", "영화"),
]


def build_vocab(path: Path) -> None:
    """Specials, every char of the texts (plus its ## form), and a few whole words."""
    chars = sorted({c for pair in TEXTS for text in pair for c in text if not c.isspace()})
    tokens = SPECIALS + chars + ["##" + c for c in chars] + WORDS + ["##" + w for w in WORDS]
    seen, vocab = set(), []
    for tok in tokens:
        if tok not in seen:
            seen.add(tok)
            vocab.append(tok)
    path.write_text("\n".join(vocab) + "\n", encoding="utf-8")


def tiny_config(vocab_size: int, **head) -> ElectraConfig:
    # embedding_size != hidden_size, so embeddings_project is exercised.
    return ElectraConfig(
        vocab_size=vocab_size,
        embedding_size=24,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=48,
        max_position_embeddings=64,
        type_vocab_size=2,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        layer_norm_eps=1e-12,
        pad_token_id=0,
        **head,
    )


def perturb(model: torch.nn.Module) -> None:
    """Random init leaves LayerNorm at 1/0 and biases at 0: perturb everything so each is tested."""
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.05)


def encode(tokenizer, pairs: bool) -> dict:
    firsts = [a for a, _ in TEXTS]
    seconds = [b for _, b in TEXTS] if pairs else None
    enc = tokenizer(firsts, seconds, padding=True, truncation=True, max_length=24, return_tensors="pt")
    return {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")}


def write_other_formats(model, out: Path, bin_format: bool) -> None:
    """formats/: the same weights in the formats save_pretrained did not write, so that every parity
    test runs on safetensors, the zip .bin and the legacy (pre-1.6) .bin."""
    formats = out / "formats"
    formats.mkdir()
    state = model.state_dict()
    if bin_format:
        save_file({k: v.contiguous() for k, v in state.items()}, str(formats / "model.safetensors"))
    else:
        torch.save(state, formats / "pytorch_model.bin")
    torch.save(state, formats / "legacy.bin", _use_new_zipfile_serialization=False)


def write_case(name: str, model, inputs: dict, labels: dict, outputs: dict, bin_format: bool) -> None:
    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(out, safe_serialization=not bin_format)
    write_other_formats(model, out, bin_format)
    case = {k: v.tolist() for k, v in inputs.items()}
    case.update({k: v.tolist() for k, v in labels.items()})
    case.update({k: (v.tolist() if isinstance(v, torch.Tensor) else v) for k, v in outputs.items()})
    (out / "expected.json").write_text(json.dumps(case) + "\n")


def seq_cls_case(name, vocab_size, tokenizer, num_labels, labels, bin_format):
    head = {"num_labels": num_labels}
    if num_labels == 3:
        head["id2label"] = {0: "contradiction", 1: "entailment", 2: "neutral"}
        head["label2id"] = {v: k for k, v in head["id2label"].items()}
    model = ElectraForSequenceClassification(tiny_config(vocab_size, **head)).eval()
    perturb(model)
    inputs = encode(tokenizer, pairs=True)
    with torch.no_grad():
        out = model(**inputs, labels=labels)
    write_case(name, model, inputs, {"labels": labels}, {"logits": out.logits, "loss": out.loss.item()}, bin_format)


def token_case(vocab_size, tokenizer):
    model = ElectraForTokenClassification(tiny_config(vocab_size, num_labels=5)).eval()
    perturb(model)
    inputs = encode(tokenizer, pairs=False)
    gen = torch.Generator().manual_seed(7)
    labels = torch.randint(0, 5, inputs["input_ids"].shape, generator=gen)
    labels[inputs["attention_mask"] == 0] = -100
    labels[:, 0] = -100
    with torch.no_grad():
        out = model(**inputs, labels=labels)
    write_case("token-cls", model, inputs, {"labels": labels}, {"logits": out.logits, "loss": out.loss.item()}, False)


def qa_case(vocab_size, tokenizer):
    model = ElectraForQuestionAnswering(tiny_config(vocab_size)).eval()
    perturb(model)
    inputs = encode(tokenizer, pairs=True)
    # One target beyond the sequence (clamped and ignored, as HF does).
    starts = torch.tensor([3, 1, 0, 5, 200])
    ends = torch.tensor([4, 2, 0, 9, 200])
    with torch.no_grad():
        out = model(**inputs, start_positions=starts, end_positions=ends)
    outputs = {"start_logits": out.start_logits, "end_logits": out.end_logits, "loss": out.loss.item()}
    write_case("qa", model, inputs, {"start_positions": starts, "end_positions": ends}, outputs, False)


def discriminator_cases(vocab_size):
    """A bare pretrained discriminator (no task head), in fp32 and fp16, and the fp16 one in the legacy
    (pre-1.6) torch.save format."""
    model = ElectraForPreTraining(tiny_config(vocab_size)).eval()
    perturb(model)
    for name, dtype in (("discriminator", torch.float32), ("discriminator-fp16", torch.float16)):
        out = OUT / name
        shutil.rmtree(out, ignore_errors=True)
        model.to(dtype).save_pretrained(out)
    legacy = OUT / "legacy-pickle"
    shutil.rmtree(legacy, ignore_errors=True)
    legacy.mkdir(parents=True)
    model.config.save_pretrained(legacy)
    torch.save(model.state_dict(), legacy / "pytorch_model.bin", _use_new_zipfile_serialization=False)


def main() -> None:
    if transformers.__version__ != TRANSFORMERS_VERSION:
        raise SystemExit(f"need transformers=={TRANSFORMERS_VERSION}, found {transformers.__version__}")
    torch.manual_seed(1234)
    OUT.mkdir(parents=True, exist_ok=True)
    vocab = OUT / "vocab.txt"
    build_vocab(vocab)
    tokenizer = ElectraTokenizerFast(vocab_file=str(vocab), do_lower_case=False)
    vocab_size = tokenizer.vocab_size
    seq_cls_case("seq-cls-3", vocab_size, tokenizer, 3, torch.tensor([0, 2, 1, 1, 0]), bin_format=True)
    seq_cls_case("seq-cls-regression", vocab_size, tokenizer, 1, torch.tensor([0.5, 4.2, 3.0, 1.25, 5.0]), False)
    token_case(vocab_size, tokenizer)
    qa_case(vocab_size, tokenizer)
    discriminator_cases(vocab_size)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
