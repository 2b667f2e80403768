#!/usr/bin/env python3
"""Tokenize inputs with Hugging Face ElectraTokenizerFast and print the ids as JSON.

Input: a JSON list of {"a": str, "b": str | null} (from --input FILE or stdin).
Output (stdout): a JSON list, one object per input, with input_ids, token_type_ids,
attention_mask (and offset_mapping with --offsets).

Used at test time by tests/text/tokenizer.rs to check that the Rust tokenizer gives HF's ids.

    .venv/bin/python scripts/hf_tokenize.py --vocab ../shared/vocab/koelectra-v3-vocab.txt \
        --max-length 128 < inputs.json
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vocab", required=True, help="WordPiece vocab.txt")
    p.add_argument(
        "--max-length",
        type=int,
        default=None,
        help="truncate (longest first) to this many tokens; omitted: no truncation",
    )
    p.add_argument("--lower-case", action="store_true", help="do_lower_case=True")
    p.add_argument(
        "--no-special-tokens", action="store_true", help="add_special_tokens=False"
    )
    p.add_argument("--offsets", action="store_true", help="also output offset_mapping")
    p.add_argument("--input", default="-", help="JSON file (default: stdin)")
    p.add_argument("--batch-size", type=int, default=4096)
    args = p.parse_args()

    if args.input == "-":
        items = json.load(sys.stdin)
    else:
        with open(args.input, encoding="utf-8") as f:
            items = json.load(f)

    tok = ElectraTokenizerFast(vocab_file=args.vocab, do_lower_case=args.lower_case)
    kwargs = dict(
        add_special_tokens=not args.no_special_tokens,
        return_offsets_mapping=args.offsets,
    )
    if args.max_length is not None:
        kwargs.update(truncation=True, max_length=args.max_length)

    out = []
    # HF batches must be all-single or all-pair, so group consecutive items by kind.
    i = 0
    while i < len(items):
        is_pair = items[i].get("b") is not None
        j = i
        while (
            j < len(items)
            and j - i < args.batch_size
            and (items[j].get("b") is not None) == is_pair
        ):
            j += 1
        a = [it["a"] for it in items[i:j]]
        if is_pair:
            enc = tok(a, [it["b"] for it in items[i:j]], **kwargs)
        else:
            enc = tok(a, **kwargs)
        for k in range(j - i):
            row = {
                "input_ids": enc["input_ids"][k],
                "token_type_ids": enc["token_type_ids"][k],
                "attention_mask": enc["attention_mask"][k],
            }
            if args.offsets:
                row["offset_mapping"] = [list(o) for o in enc["offset_mapping"][k]]
            out.append(row)
        i = j

    json.dump(out, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
