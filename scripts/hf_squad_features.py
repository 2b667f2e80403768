#!/usr/bin/env python3
"""Hugging Face side of the KorQuAD feature-parity test (tests/squad/features.rs).

  hf_squad_features.py (--vocab VOCAB | --xlmr DIR [--multi-sep]) --data FILE --mode eval|train
                       [--max-seq-length 512] [--doc-stride 128] [--max-query-length 64] [--threads 4]

Runs transformers' own SQuAD conversion (`SquadV1Processor` + `squad_convert_examples_to_features`,
transformers 4.57) on FILE, in evaluation mode (`get_dev_examples`, all answers) or in training mode
(`get_train_examples`: first answer, answer sanity check, training targets), and prints one JSON object
per feature on stdout, in feature order:

  {"qas_id", "example_index", "unique_id", "input_ids" (non-padded part), "token_type_ids" (same length),
   "tokens", "doc_offset", "token_to_orig" (values of token_to_orig_map for keys doc_offset..),
   "max_context" (token_is_max_context for the same keys, as 0/1), "paragraph_len", "start_position",
   "end_position", "is_impossible"}

followed by one summary line {"summary": {"examples": N, "examples_without_features": K, "features": F}}.

XLM-R (`--xlmr DIR`, a folder with `sentencepiece.bpe.model`): the slow `XLMRobertaTokenizer` does
everything. transformers (3.3.1 and still 4.57) does not list XLM-R among its double-separator
tokenizers (`MULTI_SEP_TOKENS_TOKENIZERS_SET` holds "roberta", not "xlmroberta"), so the document maps
and targets are keyed at `len(q) + 2`, one before the document (the reference's off-by-one);
`--multi-sep` adds "xlmroberta" to that set, which gives the corrected layout (`len(q) + 3`).

Tokenizer. `squad_convert_example_to_features` cannot run with `ElectraTokenizerFast` in 4.57: it passes
the truncated query as a list of token ids to `encode_plus`, which the fast tokenizer rejects
("TypeError: TextInputSequence must be str"). The script therefore runs the conversion with the slow
`ElectraTokenizer` class (whose `encode_plus` takes id and token lists and implements the
`only_second` truncation with `stride` and `overflowing_tokens` the conversion relies on) but delegates
every `tokenize` call, the only place text is tokenized (doc words, question, answer text), to an
`ElectraTokenizerFast` built from the same vocab with `do_lower_case=False`. Token/id lookups go
through the same vocab file in both classes.
"""
import argparse
import json
import sys

import transformers.data.processors.squad as hf_squad
from transformers import ElectraTokenizer, ElectraTokenizerFast, XLMRobertaTokenizer
from transformers.data.processors.squad import SquadV1Processor, squad_convert_examples_to_features


class FastTokenizeElectraTokenizer(ElectraTokenizer):
    """Slow ELECTRA tokenizer whose text tokenization is ElectraTokenizerFast's."""

    def __init__(self, vocab_file, **kwargs):
        super().__init__(vocab_file=vocab_file, **kwargs)
        self._fast = ElectraTokenizerFast(vocab_file=vocab_file, do_lower_case=kwargs.get("do_lower_case", False))

    def tokenize(self, text, **kwargs):
        return self._fast.tokenize(text)


def main() -> None:
    ap = argparse.ArgumentParser()
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--vocab")
    which.add_argument("--xlmr", help="folder with sentencepiece.bpe.model")
    ap.add_argument("--multi-sep", action="store_true", help="XLM-R as a double-separator tokenizer")
    ap.add_argument("--data", required=True)
    ap.add_argument("--mode", choices=["eval", "train"], required=True)
    ap.add_argument("--max-seq-length", type=int, default=512)
    ap.add_argument("--doc-stride", type=int, default=128)
    ap.add_argument("--max-query-length", type=int, default=64)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()

    if args.xlmr:
        tokenizer = XLMRobertaTokenizer.from_pretrained(args.xlmr)
        if args.multi_sep:
            hf_squad.MULTI_SEP_TOKENS_TOKENIZERS_SET.add("xlmroberta")
    else:
        tokenizer = FastTokenizeElectraTokenizer(args.vocab, do_lower_case=False)
    processor = SquadV1Processor()
    is_training = args.mode == "train"
    if is_training:
        examples = processor.get_train_examples(None, filename=args.data)
    else:
        examples = processor.get_dev_examples(None, filename=args.data)
    features = squad_convert_examples_to_features(
        examples=examples,
        tokenizer=tokenizer,
        max_seq_length=args.max_seq_length,
        doc_stride=args.doc_stride,
        max_query_length=args.max_query_length,
        is_training=is_training,
        threads=args.threads,
        tqdm_enabled=False,
    )
    pad = tokenizer.pad_token_id
    out = sys.stdout
    for f in features:
        ids = f.input_ids
        n = ids.index(pad) if pad in ids else len(ids)
        keys = sorted(f.token_to_orig_map)
        offset = keys[0] if keys else 0
        assert keys == list(range(offset, offset + len(keys))), f.qas_id
        assert sorted(f.token_is_max_context) == keys, f.qas_id
        assert len(keys) == f.paragraph_len, f.qas_id
        assert f.tokens == tokenizer.convert_ids_to_tokens(ids[:n]), f.qas_id
        record = {
            "qas_id": f.qas_id,
            "example_index": f.example_index,
            "unique_id": f.unique_id,
            "input_ids": ids[:n],
            "token_type_ids": f.token_type_ids[:n],
            "tokens": f.tokens,
            "doc_offset": offset,
            "token_to_orig": [f.token_to_orig_map[k] for k in keys],
            "max_context": [int(bool(f.token_is_max_context[k])) for k in keys],
            "paragraph_len": f.paragraph_len,
            "start_position": int(f.start_position),
            "end_position": int(f.end_position),
            "is_impossible": bool(f.is_impossible),
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    with_features = len({f.example_index for f in features})
    summary = {"examples": len(examples), "examples_without_features": len(examples) - with_features,
               "features": len(features)}
    out.write(json.dumps({"summary": summary}) + "\n")


if __name__ == "__main__":
    main()
