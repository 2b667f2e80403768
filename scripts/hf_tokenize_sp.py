#!/usr/bin/env python3
"""Tokenize inputs with a SentencePiece reference tokenizer and print the ids as JSON.

References (--kind):
  kobert     kobert_transformers.KoBertTokenizer.from_pretrained(DIR) (slow; no offsets)
  xlmr-slow  transformers.XLMRobertaTokenizer.from_pretrained(DIR) (sentencepiece.bpe.model)
  xlmr-fast  transformers.XLMRobertaTokenizerFast.from_pretrained(DIR) (tokenizer.json)
  sp         sentencepiece itself on --model FILE: EncodeAsPieces with char spans

Input: a JSON list of {"a": str, "b": str | null} (--input FILE or stdin). Output (stdout): a
JSON list, one object per input: input_ids, token_type_ids, attention_mask (and offset_mapping
with --offsets, fast only); for --kind sp: pieces, ids, spans ([begin, end) in chars).

Used at test time by tests/text/sentencepiece.rs (one call per sweep), and by
scripts/make_sp_fixtures.py.

    .venv/bin/python scripts/hf_tokenize_sp.py --kind kobert --dir tests/fixtures/sp/kobert \
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


def load_reference(kind, path):
    """The reference tokenizer of `kind` for the folder (or, for "sp", the model file) `path`."""
    if kind == "kobert":
        from kobert_transformers.tokenization_kobert import KoBertTokenizer

        return KoBertTokenizer.from_pretrained(path)
    if kind == "xlmr-slow":
        from transformers import XLMRobertaTokenizer

        return XLMRobertaTokenizer.from_pretrained(path)
    if kind == "xlmr-fast":
        from transformers import XLMRobertaTokenizerFast

        return XLMRobertaTokenizerFast.from_pretrained(path)
    if kind == "sp":
        import sentencepiece as spm

        return spm.SentencePieceProcessor(model_file=path)
    raise SystemExit(f"unknown --kind {kind}")


def sp_pieces(sp, text):
    """sentencepiece's EncodeAsPieces with ids and char spans."""
    enc = sp.encode(text, return_type="offset_mapping")
    return {"pieces": enc["pieces"], "ids": enc["ids"], "spans": [list(o) for o in enc["offsets"]]}


def run_reference(tok, items, max_length, special_tokens, offsets, batch_size=2048):
    """HF-tokenizes `items` in batches of consecutive singles or pairs (HF batches are one kind)."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    kwargs = dict(add_special_tokens=special_tokens)
    if offsets:
        kwargs["return_offsets_mapping"] = True
    if max_length is not None:
        kwargs.update(truncation=True, max_length=max_length)
    out = []
    i = 0
    while i < len(items):
        is_pair = items[i].get("b") is not None
        j = i
        while j < len(items) and j - i < batch_size and (items[j].get("b") is not None) == is_pair:
            j += 1
        a = [it["a"] for it in items[i:j]]
        # Batch form even for one item: a single call would drop an empty text_pair.
        enc = tok(a, [it["b"] for it in items[i:j]], **kwargs) if is_pair else tok(a, **kwargs)
        for k in range(j - i):
            row = {
                "input_ids": enc["input_ids"][k],
                "token_type_ids": enc["token_type_ids"][k]
                if "token_type_ids" in enc
                else [0] * len(enc["input_ids"][k]),
                "attention_mask": enc["attention_mask"][k],
            }
            if offsets:
                row["offset_mapping"] = [list(o) for o in enc["offset_mapping"][k]]
            out.append(row)
        i = j
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kind", required=True, choices=["kobert", "xlmr-slow", "xlmr-fast", "sp"])
    p.add_argument("--dir", help="model folder (kobert, xlmr-*)")
    p.add_argument("--model", help="sentencepiece .model (sp)")
    p.add_argument("--max-length", type=int, default=None, help="truncate (longest first); omitted: none")
    p.add_argument("--no-special-tokens", action="store_true", help="add_special_tokens=False")
    p.add_argument("--offsets", action="store_true", help="also output offset_mapping (xlmr-fast)")
    p.add_argument("--input", default="-", help="JSON file (default: stdin)")
    args = p.parse_args()

    if args.input == "-":
        items = json.load(sys.stdin)
    else:
        with open(args.input, encoding="utf-8") as f:
            items = json.load(f)

    if args.kind == "sp":
        sp = load_reference("sp", args.model)
        out = [sp_pieces(sp, it["a"]) for it in items]
    else:
        tok = load_reference(args.kind, args.dir)
        out = run_reference(tok, items, args.max_length, not args.no_special_tokens, args.offsets)
    json.dump(out, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
