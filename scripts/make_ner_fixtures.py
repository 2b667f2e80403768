#!/usr/bin/env python3
"""Build Naver NER features the way the KoELECTRA reference does, with HF ElectraTokenizerFast.

Reads a Naver NER file like the reference processor (universal newlines, `line.strip()`,
`words, tags = line.split("\\t")`, `str.split()` on both) and converts every sentence like
`convert_examples_to_features` of the reference (spec §5.2): each word tokenized on its own with
`tokenizer.tokenize(word)`, an empty result replaced by `[UNK]`, the first sub-token carrying the
tag id and the others -100, a cut to `max_seq_len - 2` sub-tokens, then `[CLS]` ... `[SEP]`.
No padding. Blank lines at the end of the file are ignored (the reference would crash on them).

Output: one JSON object per line, `{"guid", "input_ids", "label_ids", "words_kept"}`, where
`words_kept` counts the label ids that are not -100 (words whose first sub-token survived the cut).

Used at test time by tests/ner/features.rs (one run over the whole test file):

    .venv/bin/python scripts/make_ner_fixtures.py --vocab ../shared/vocab/koelectra-v3-vocab.txt \
        --data ../shared/data/naver-ner/test.tsv --split test --max-seq-len 128 [--out FILE]
"""
import argparse
import json
import os
import sys

# Tokenizers only: skip importing torch (saves seconds per call).
for _k in ("USE_TORCH", "USE_TF", "USE_FLAX"):
    os.environ.setdefault(_k, "0")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from transformers import ElectraTokenizerFast  # noqa: E402
from transformers.utils import logging  # noqa: E402

logging.set_verbosity_error()

LABELS = [
    "O", "PER-B", "PER-I", "FLD-B", "FLD-I", "AFW-B", "AFW-I", "ORG-B", "ORG-I", "LOC-B", "LOC-I",
    "CVL-B", "CVL-I", "DAT-B", "DAT-I", "TIM-B", "TIM-I", "NUM-B", "NUM-I", "EVT-B", "EVT-I",
    "ANM-B", "ANM-I", "PLT-B", "PLT-I", "MAT-B", "MAT-I", "TRM-B", "TRM-I",
]
PAD_TOKEN_LABEL_ID = -100


def read_examples(path, split):
    with open(path, "r", encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    while lines and not lines[-1]:
        lines.pop()
    examples = []
    for i, line in enumerate(lines):
        words, tags = line.split("\t")
        words, tags = words.split(), tags.split()
        assert len(words) == len(tags), f"line {i + 1}: {len(words)} words, {len(tags)} tags"
        examples.append(("%s-%s" % (split, i), words, tags))
    return examples


def convert(tok, words, tags, max_seq_len):
    tokens, label_ids = [], []
    for word, tag in zip(words, tags):
        word_tokens = tok.tokenize(word)
        if not word_tokens:
            word_tokens = [tok.unk_token]
        tokens.extend(word_tokens)
        label_ids.extend([LABELS.index(tag)] + [PAD_TOKEN_LABEL_ID] * (len(word_tokens) - 1))
    if len(tokens) > max_seq_len - 2:
        tokens = tokens[: max_seq_len - 2]
        label_ids = label_ids[: max_seq_len - 2]
    tokens = [tok.cls_token] + tokens + [tok.sep_token]
    label_ids = [PAD_TOKEN_LABEL_ID] + label_ids + [PAD_TOKEN_LABEL_ID]
    return tok.convert_tokens_to_ids(tokens), label_ids


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vocab", required=True, help="WordPiece vocab.txt")
    p.add_argument("--data", required=True, help="Naver NER file (words<TAB>tags per line)")
    p.add_argument("--split", default="test", help="guid prefix")
    p.add_argument("--max-seq-len", type=int, default=128)
    p.add_argument("--out", default="-", help="output JSON-lines file (default: stdout)")
    args = p.parse_args()

    tok = ElectraTokenizerFast(vocab_file=args.vocab, do_lower_case=False)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    for guid, words, tags in read_examples(args.data, args.split):
        input_ids, label_ids = convert(tok, words, tags, args.max_seq_len)
        row = {
            "guid": guid,
            "input_ids": input_ids,
            "label_ids": label_ids,
            "words_kept": sum(1 for x in label_ids if x != PAD_TOKEN_LABEL_ID),
        }
        out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
