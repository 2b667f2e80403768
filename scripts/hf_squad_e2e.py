#!/usr/bin/env python3
"""Hugging Face side of the KorQuAD decoding/metric parity test (tests/squad/run.rs).

  hf_squad_e2e.py --vocab VOCAB --data FILE --out DIR
                  [--max-seq-length 512] [--doc-stride 128] [--max-query-length 64]
                  [--n-best-size 20] [--max-answer-length 30] [--batch-size 64] [--seed 20240917]

1. Builds a tiny random `ElectraForQuestionAnswering` (vocab 35000 from VOCAB, embedding 16, hidden 32,
   2 layers, 2 heads) from a fixed seed, then perturbs every weight (N(0, 0.2), the QA head N(0, 1)) so that
   the start/end logits spread over several units instead of the near-ties of the N(0, 0.02) init.
   Writes it to DIR/model (`save_pretrained`: config.json + model.safetensors, plus VOCAB as vocab.txt).
2. Runs the legacy pipeline of `run_squad.py` on FILE, in evaluation mode:
   `SquadV1Processor.get_dev_examples` -> `squad_convert_examples_to_features` (every window padded to
   max_seq_length; the slow `ElectraTokenizer` class with `ElectraTokenizerFast`'s `tokenize`, as
   scripts/hf_squad_features.py explains) -> the model on input_ids / attention_mask / token_type_ids (the
   reference passes token types for ELECTRA) -> `SquadResult` -> `compute_predictions_logits` with the
   transformers 3.3.1 BasicTokenizer in `get_final_text` (no text cleaning, no NFC; spec §2.4), borrowed
   from scripts/make_squad_eval_fixtures.py. Writes DIR/hf/predictions.json and DIR/hf/nbest_predictions.json
   (HF's own files).
3. Scores HF's predictions with the official KorQuAD v1.0 scorer (the port in make_squad_eval_fixtures.py,
   gold answers read straight from FILE as evaluate_v1_0.py does) and writes DIR/hf/official.json:
   {"exact_match", "f1", "questions", "features", "examples_without_features", "multi_window_questions"}.

Prints that JSON object on stdout. Everything is deterministic (fixed seed, CPU).

  hf_squad_e2e.py --data FILE --score PREDICTIONS.json [PREDICTIONS.json ...]

only scores prediction files (ours) with the same official scorer against FILE and prints one JSON list of
{"file", "exact_match", "f1"}.
"""
import argparse
import collections
import json
import os
import shutil
import sys

import torch
from transformers import ElectraConfig, ElectraForQuestionAnswering
from transformers.data.metrics import squad_metrics as sm
from transformers.data.processors.squad import SquadResult, SquadV1Processor, squad_convert_examples_to_features

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_squad_features import FastTokenizeElectraTokenizer  # noqa: E402
from make_squad_eval_fixtures import BasicTokenizer331, official_evaluate, with_tokenizer  # noqa: E402

TINY = {
    "vocab_size": 35000,
    "embedding_size": 16,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
}


class CachedTokenizer(FastTokenizeElectraTokenizer):
    """Memoizes `tokenize` (the conversion re-tokenizes a paragraph's words for each of its questions)."""

    def __init__(self, vocab_file, **kwargs):
        super().__init__(vocab_file, **kwargs)
        self._cache = {}

    def tokenize(self, text, **kwargs):
        tokens = self._cache.get(text)
        if tokens is None:
            tokens = self._cache[text] = super().tokenize(text)
        return list(tokens)


def gold_answers(path):
    """[(qas_id, [answer texts])] in file order, read as evaluate_v1_0.py reads them."""
    with open(path, encoding="utf-8") as fh:
        dataset = json.load(fh)["data"]
    return [
        (qa["id"], [a["text"] for a in qa["answers"]])
        for article in dataset
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]


def score(data, files):
    gold = gold_answers(data)
    out = []
    for path in files:
        with open(path, encoding="utf-8") as fh:
            predictions = json.load(fh)
        official = official_evaluate(gold, predictions)
        out.append({"file": path, "exact_match": official["exact_match"], "f1": official["f1"]})
    print(json.dumps(out))


def tiny_model(seed):
    torch.manual_seed(seed)
    model = ElectraForQuestionAnswering(ElectraConfig(**TINY))
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 1.0 if name.startswith("qa_outputs.") else 0.2
            p.add_(torch.randn(p.shape, generator=gen) * scale)
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab")
    ap.add_argument("--data", required=True)
    ap.add_argument("--out")
    ap.add_argument("--score", nargs="+", metavar="PREDICTIONS")
    ap.add_argument("--max-seq-length", type=int, default=512)
    ap.add_argument("--doc-stride", type=int, default=128)
    ap.add_argument("--max-query-length", type=int, default=64)
    ap.add_argument("--n-best-size", type=int, default=20)
    ap.add_argument("--max-answer-length", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=20240917)
    args = ap.parse_args()
    if args.score:
        score(args.data, args.score)
        return
    if not args.vocab or not args.out:
        ap.error("--vocab and --out are required (unless --score)")
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))

    model_dir = os.path.join(args.out, "model")
    hf_dir = os.path.join(args.out, "hf")
    os.makedirs(model_dir, exist_ok=True)
    os.makedirs(hf_dir, exist_ok=True)
    model = tiny_model(args.seed)
    model.save_pretrained(model_dir, safe_serialization=True)
    shutil.copyfile(args.vocab, os.path.join(model_dir, "vocab.txt"))

    tokenizer = CachedTokenizer(args.vocab, do_lower_case=False)
    examples = SquadV1Processor().get_dev_examples(None, filename=args.data)
    features = squad_convert_examples_to_features(
        examples=examples,
        tokenizer=tokenizer,
        max_seq_length=args.max_seq_length,
        doc_stride=args.doc_stride,
        max_query_length=args.max_query_length,
        is_training=False,
        threads=1,
        tqdm_enabled=False,
    )

    results = []
    with torch.no_grad():
        for at in range(0, len(features), args.batch_size):
            batch = features[at : at + args.batch_size]
            ids = torch.tensor([f.input_ids for f in batch], dtype=torch.long)
            mask = torch.tensor([f.attention_mask for f in batch], dtype=torch.long)
            types = torch.tensor([f.token_type_ids for f in batch], dtype=torch.long)
            out = model(input_ids=ids, attention_mask=mask, token_type_ids=types)
            for i, f in enumerate(batch):
                results.append(SquadResult(f.unique_id, out.start_logits[i].tolist(), out.end_logits[i].tolist()))

    pred_file = os.path.join(hf_dir, "predictions.json")
    nbest_file = os.path.join(hf_dir, "nbest_predictions.json")
    predictions = with_tokenizer(
        BasicTokenizer331,
        sm.compute_predictions_logits,
        examples,
        features,
        results,
        args.n_best_size,
        args.max_answer_length,
        False,  # do_lower_case
        pred_file,
        nbest_file,
        None,  # output_null_log_odds_file
        False,  # verbose_logging
        False,  # version_2_with_negative
        0.0,  # null_score_diff_threshold
        tokenizer,
    )

    official = official_evaluate(gold_answers(args.data), predictions)
    windows = collections.Counter(f.example_index for f in features)
    summary = {
        "exact_match": official["exact_match"],
        "f1": official["f1"],
        "questions": len(examples),
        "features": len(features),
        "examples_without_features": len(examples) - len(windows),
        "multi_window_questions": sum(1 for n in windows.values() if n > 1),
    }
    with open(os.path.join(hf_dir, "official.json"), "w", encoding="utf-8") as fh:
        json.dump(summary, fh)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
