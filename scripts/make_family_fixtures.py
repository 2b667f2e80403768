#!/usr/bin/env python3
"""Writes tests/fixtures/families/: tiny random BERT, DistilBERT and XLM-RoBERTa checkpoints and Hugging
Face's outputs on them, for the encoder families of src/model/{bert,distilbert,roberta}.rs.

Run from the repo root with the project venv:  .venv/bin/python scripts/make_family_fixtures.py
Re-running rewrites the fixtures deterministically (fixed seeds; transformers 4.57.6, torch 2.11 CPU).

For each family (bert, distilbert, xlm-roberta) and head (seq-cls with 3 labels, token-cls with 5, qa)
it writes `<family>-<head>/`: `config.json` + `pytorch_model.bin` (`save_pretrained(...,
safe_serialization=False)`: the hub layout) and `expected.json`: the inputs (input_ids, attention_mask,
token_type_ids), the labels, HF's logits and loss in eval mode, and the gradients (after
`loss.backward()` in eval mode, so without dropout) of a few named parameters. `<family>-bare/` is the
seq-cls model's bare encoder (`BertModel` with its pooler, `DistilBertModel`, `XLMRobertaModel` without
one: names without the `bert.`/`distilbert.`/`roberta.` prefix, like `monologg/kobert`), with the keys
HF's `from_pretrained` reports missing and unexpected when each head loads it.

Inputs are real rows of ../shared/data (NSMC reviews, KorNLI pairs) tokenized with the tiny fixture
vocabulary (tests/fixtures/models/vocab.txt, BertTokenizerFast, no lower-casing); the rows were picked
for having few [UNK]s under that vocabulary. XLM-R gets the same word ids in its own layout,
`<s> a </s></s> b </s>`, with its specials (<s> 0, <pad> 1, </s> 2, <unk> 3) swapped in for BERT's.

  make_family_fixtures.py logits DIR...
      loads each checkpoint DIR with transformers (its `architectures` class) and prints one JSON line
      {"logits": ...} per DIR, on the input_ids, attention_mask and token_type_ids of DIR/inputs.json
      (QA: start and end logits stacked on the last axis); the Rust tests use it to check that
      checkpoints koelectra-ft saves load in transformers.
"""
import copy
import inspect
import json
import shutil
import sys
from pathlib import Path

import torch
import transformers
from transformers import (
    BertConfig,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertTokenizerFast,
    DistilBertConfig,
    DistilBertForQuestionAnswering,
    DistilBertForSequenceClassification,
    DistilBertForTokenClassification,
    XLMRobertaConfig,
    XLMRobertaForQuestionAnswering,
    XLMRobertaForSequenceClassification,
    XLMRobertaForTokenClassification,
)

TRANSFORMERS_VERSION = "4.57.6"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "families"
VOCAB = ROOT / "tests" / "fixtures" / "models" / "vocab.txt"
DATA = ROOT.parent / "shared" / "data"

# Data rows (0-based, header excluded) with few [UNK]s under the fixture vocabulary.
NSMC_ROWS = [16, 45, 351, 2479]
KORNLI_ROWS = [697, 696, 698, 41]
KORNLI_LABELS = {"contradiction": 0, "entailment": 1, "neutral": 2}
MAX_LEN = 32
# BERT's specials -> XLM-R's: [PAD] 0 -> <pad> 1, [UNK] 1 -> <unk> 3, [CLS] 2 -> <s> 0, [SEP] 3 -> </s> 2.
XLMR_IDS = {0: 1, 1: 3, 2: 0, 3: 2}

FAMILIES = {
    "bert": {
        "heads": (BertForSequenceClassification, BertForTokenClassification, BertForQuestionAnswering),
        "prefix": "bert",
        "grads": ["bert.embeddings.token_type_embeddings.weight", "bert.encoder.layer.0.attention.self.query.weight"],
        "seq_cls_grads": ["bert.pooler.dense.weight", "classifier.weight"],
    },
    "distilbert": {
        "heads": (
            DistilBertForSequenceClassification,
            DistilBertForTokenClassification,
            DistilBertForQuestionAnswering,
        ),
        "prefix": "distilbert",
        "grads": [
            "distilbert.embeddings.position_embeddings.weight",
            "distilbert.transformer.layer.0.attention.q_lin.weight",
        ],
        "seq_cls_grads": ["pre_classifier.weight", "classifier.weight"],
    },
    "xlm-roberta": {
        "heads": (
            XLMRobertaForSequenceClassification,
            XLMRobertaForTokenClassification,
            XLMRobertaForQuestionAnswering,
        ),
        "prefix": "roberta",
        "grads": [
            "roberta.embeddings.position_embeddings.weight",
            "roberta.embeddings.token_type_embeddings.weight",
            "roberta.encoder.layer.0.attention.self.query.weight",
        ],
        "seq_cls_grads": ["classifier.dense.weight", "classifier.out_proj.weight"],
    },
}
HEAD_GRADS = {"token-cls": ["classifier.weight"], "qa": ["qa_outputs.weight"]}


def tiny_config(family: str, vocab_size: int, **head):
    common = dict(vocab_size=vocab_size, max_position_embeddings=64, attn_implementation="eager", **head)
    if family == "distilbert":
        return DistilBertConfig(dim=32, n_layers=2, n_heads=4, hidden_dim=48, pad_token_id=0, **common)
    sizes = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48, **common)
    if family == "bert":
        return BertConfig(type_vocab_size=2, pad_token_id=0, **sizes)
    return XLMRobertaConfig(type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5, **sizes)


def perturb(model: torch.nn.Module) -> None:
    """Random init leaves LayerNorm at 1/0 and biases at 0: perturb everything so each is tested."""
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.05)


def data_rows(rel: str, rows: list) -> list:
    lines = (DATA / rel).read_text(encoding="utf-8").splitlines()[1:]
    return [lines[i].split("\t") for i in rows]


def encode(tokenizer, family: str, firsts: list, seconds) -> dict:
    if family != "xlm-roberta":
        enc = tokenizer(firsts, seconds, padding=True, truncation=True, max_length=MAX_LEN, return_tensors="pt")
        return {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    seqs = []
    for i, first in enumerate(firsts):
        a = [XLMR_IDS.get(t, t) for t in tokenizer(first, add_special_tokens=False)["input_ids"]]
        b = [XLMR_IDS.get(t, t) for t in tokenizer(seconds[i], add_special_tokens=False)["input_ids"]] if seconds else []
        room = MAX_LEN - (4 if seconds else 2)
        while len(a) + len(b) > room:
            (a if len(a) >= len(b) else b).pop()
        seqs.append([0] + a + [2] + ([2] + b + [2] if seconds else []))
    width = max(map(len, seqs))
    ids = torch.tensor([s + [1] * (width - len(s)) for s in seqs])
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs])
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}


def model_inputs(model, inputs: dict) -> dict:
    """The inputs the model's forward takes (DistilBERT has no token_type_ids)."""
    accepted = inspect.signature(model.forward).parameters
    return {k: v for k, v in inputs.items() if k in accepted}


def rounded(values):
    """Gradients with 8 significant digits (the tests compare within 1e-4), to keep the files small."""
    if isinstance(values, list):
        return [rounded(v) for v in values]
    return float(f"{values:.8g}")


def write_case(name: str, model, inputs: dict, labels: dict, outputs: dict, grad_names: list) -> None:
    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    params = dict(model.named_parameters())
    case = {k: v.tolist() for k, v in inputs.items()}
    case.update({k: v.tolist() for k, v in labels.items()})
    case.update({k: (v.tolist() if isinstance(v, torch.Tensor) else v) for k, v in outputs.items()})
    case["grads"] = {n: rounded(params[n].grad.tolist()) for n in grad_names}
    model.save_pretrained(out, safe_serialization=False)
    (out / "expected.json").write_text(json.dumps(case) + "\n")


def run_case(family: str, head: str, model, inputs: dict, labels: dict) -> dict:
    """HF's eval-mode forward with labels and the backward of its loss."""
    model.eval()
    model.zero_grad()
    out = model(**model_inputs(model, inputs), **labels)
    out.loss.backward()
    if head == "qa":
        outputs = {"start_logits": out.start_logits, "end_logits": out.end_logits}
    else:
        outputs = {"logits": out.logits}
    outputs = {k: v.detach() for k, v in outputs.items()}
    outputs["loss"] = out.loss.item()
    spec = FAMILIES[family]
    grads = spec["grads"] + (spec["seq_cls_grads"] if head == "seq-cls" else HEAD_GRADS[head])
    write_case(f"{family}-{head}", model, inputs, labels, outputs, grads)
    return outputs


def bare_case(family: str, seq_cls_model) -> None:
    """The seq-cls model's encoder alone, and what HF reports when each head loads it."""
    spec = FAMILIES[family]
    out = OUT / f"{family}-bare"
    shutil.rmtree(out, ignore_errors=True)
    base = getattr(seq_cls_model, spec["prefix"])
    base.config = copy.deepcopy(base.config)
    base.config.num_labels = 2  # HF's default head metadata, as a pretrained encoder has it
    base.config.problem_type = None
    base.save_pretrained(out, safe_serialization=False)
    report = {}
    for name, cls in zip(("seq-cls", "token-cls", "qa"), spec["heads"]):
        extra = {"num_labels": 3} if name == "seq-cls" else {}
        _, info = cls.from_pretrained(out, output_loading_info=True, **extra)
        report[name] = {"missing": sorted(info["missing_keys"]), "unexpected": sorted(info["unexpected_keys"])}
    (out / "expected.json").write_text(json.dumps(report, indent=1) + "\n")


def family_cases(family: str, tokenizer) -> None:
    vocab_size = tokenizer.vocab_size
    seq_cls, token_cls, qa = FAMILIES[family]["heads"]
    nli = data_rows("kornli/xnli.dev.ko.tsv", KORNLI_ROWS)
    nsmc = data_rows("nsmc/ratings_test.txt", NSMC_ROWS)

    id2label = {0: "contradiction", 1: "entailment", 2: "neutral"}
    head = {"num_labels": 3, "id2label": id2label, "label2id": {v: k for k, v in id2label.items()}}
    model = seq_cls(tiny_config(family, vocab_size, **head))
    perturb(model)
    inputs = encode(tokenizer, family, [r[0] for r in nli], [r[1] for r in nli])
    labels = torch.tensor([KORNLI_LABELS[r[2]] for r in nli])
    run_case(family, "seq-cls", model, inputs, {"labels": labels})
    bare_case(family, model)

    model = token_cls(tiny_config(family, vocab_size, num_labels=5))
    perturb(model)
    inputs = encode(tokenizer, family, [r[1] for r in nsmc], None)
    gen = torch.Generator().manual_seed(7)
    labels = torch.randint(0, 5, inputs["input_ids"].shape, generator=gen)
    labels[inputs["attention_mask"] == 0] = -100
    labels[:, 0] = -100
    run_case(family, "token-cls", model, inputs, {"labels": labels})

    model = qa(tiny_config(family, vocab_size))
    perturb(model)
    inputs = encode(tokenizer, family, [r[1] for r in nli], [r[0] for r in nli])
    # One target beyond the sequence (clamped and ignored, as HF does).
    positions = {"start_positions": torch.tensor([3, 1, 9, 200]), "end_positions": torch.tensor([4, 2, 12, 200])}
    run_case(family, "qa", model, inputs, positions)


def print_logits(dirs: list) -> None:
    for ckpt in dirs:
        with open(Path(ckpt) / "inputs.json") as f:
            case = json.load(f)
        inputs = {k: torch.tensor(case[k]) for k in ("input_ids", "attention_mask", "token_type_ids")}
        arch = transformers.AutoConfig.from_pretrained(ckpt).architectures[0]
        model = getattr(transformers, arch).from_pretrained(ckpt, attn_implementation="eager").eval()
        with torch.no_grad():
            out = model(**model_inputs(model, inputs))
        if arch.endswith("ForQuestionAnswering"):
            logits = torch.stack([out.start_logits, out.end_logits], dim=-1)
        else:
            logits = out.logits
        print(json.dumps({"logits": logits.tolist()}))


def main() -> None:
    if transformers.__version__ != TRANSFORMERS_VERSION:
        raise SystemExit(f"need transformers=={TRANSFORMERS_VERSION}, found {transformers.__version__}")
    if sys.argv[1:2] == ["logits"]:
        print_logits(sys.argv[2:])
        return
    transformers.logging.set_verbosity_error()
    torch.manual_seed(2024)
    OUT.mkdir(parents=True, exist_ok=True)
    tokenizer = BertTokenizerFast(vocab_file=str(VOCAB), do_lower_case=False)
    for family in FAMILIES:
        family_cases(family, tokenizer)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
