#!/usr/bin/env python3
"""Hugging Face side of the ner eval-only parity test (tests/ner/run.rs).

  hf_ner.py make-model OUT_DIR VOCAB
      a tiny random ElectraForTokenClassification with the 29 Naver NER tags as id2label (the order of
      src/tasks/ner/mod.rs NAVER_NER_LABELS), the vocab's size and a fixed seed, saved with the vocab. The
      classifier is scaled up so that the argmax varies from word to word across many tags.
  hf_ner.py predict MODEL_DIR TSV MAX_LEN N
      reference features (spec §5.2) for the first N sentences of a Naver NER file: each word tokenized
      on its own with ElectraTokenizerFast, an empty result -> [UNK], the first sub-token labelled, a cut
      to MAX_LEN - 2 sub-tokens, then [CLS] ... [SEP]. Prints one JSON object per sentence:
      {"tags": [...], "margins": [...], "loss_sum": x}: the predicted tag of every kept word (argmax of
      HF's logits at its first sub-token), the gap between the best and second-best logit there, and
      the summed cross-entropy of the kept words' gold tags (the reference's eval loss is the mean over
      input-order batches of sum(loss_sum) / sum(len(tags))).
"""
import json
import shutil
import sys

import torch
from transformers import ElectraConfig, ElectraForTokenClassification, ElectraTokenizerFast
from transformers.utils import logging

logging.set_verbosity_error()

LABELS = [
    "O", "PER-B", "PER-I", "FLD-B", "FLD-I", "AFW-B", "AFW-I", "ORG-B", "ORG-I", "LOC-B", "LOC-I",
    "CVL-B", "CVL-I", "DAT-B", "DAT-I", "TIM-B", "TIM-I", "NUM-B", "NUM-I", "EVT-B", "EVT-I",
    "ANM-B", "ANM-I", "PLT-B", "PLT-I", "MAT-B", "MAT-I", "TRM-B", "TRM-I",
]


def make_model(out_dir: str, vocab: str) -> None:
    torch.manual_seed(7)
    tokenizer = ElectraTokenizerFast(vocab_file=vocab, do_lower_case=False)
    config = ElectraConfig(
        vocab_size=tokenizer.vocab_size, embedding_size=16, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=4, intermediate_size=48, max_position_embeddings=512,
        num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    model = ElectraForTokenClassification(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        # Word-dependent logits of a few units: many different tags win, few near-ties.
        model.classifier.weight.normal_(0.0, 0.5)
        model.classifier.bias.normal_(0.0, 0.1)
    model.save_pretrained(out_dir)
    shutil.copy(vocab, f"{out_dir}/vocab.txt")


def read_sentences(tsv: str, n: int):
    """Like the reference reader: universal newlines, line.strip(), split on the tab, str.split()."""
    with open(tsv, encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    sentences = []
    for line in lines[:n]:
        words, tags = line.split("\t")
        words, tags = words.split(), tags.split()
        assert len(words) == len(tags)
        sentences.append((words, tags))
    return sentences


def features(tok, words, max_len):
    """(input_ids, positions of the kept words' first sub-tokens) for one sentence."""
    ids, firsts = [], []
    for word in words:
        pieces = tok.tokenize(word) or [tok.unk_token]
        firsts.append(len(ids))
        ids.extend(tok.convert_tokens_to_ids(pieces))
    ids = ids[: max_len - 2]
    firsts = [i + 1 for i in firsts if i < len(ids)]  # +1 for [CLS]
    return [tok.cls_token_id] + ids + [tok.sep_token_id], firsts


def predict(model_dir: str, tsv: str, max_len: int, n: int) -> None:
    torch.set_num_threads(1)  # tiny matrices: extra threads only contend (much slower on 2 busy cores)
    tok = ElectraTokenizerFast(vocab_file=f"{model_dir}/vocab.txt", do_lower_case=False)
    model = ElectraForTokenClassification.from_pretrained(model_dir, attn_implementation="eager").eval()
    id2label = model.config.id2label
    label2id = model.config.label2id
    sentences = read_sentences(tsv, n)
    feats = [features(tok, words, max_len) for words, _ in sentences]
    for start in range(0, len(feats), 64):
        chunk = feats[start:start + 64]
        longest = max(len(ids) for ids, _ in chunk)
        ids = torch.full((len(chunk), longest), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), longest), dtype=torch.long)
        for row, (seq, _) in enumerate(chunk):
            ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).logits
        for row, (_, firsts) in enumerate(chunk):
            at = logits[row, firsts]
            gold = torch.tensor([label2id[t] for t in sentences[start + row][1][: len(firsts)]])
            loss_sum = torch.nn.functional.cross_entropy(at, gold, reduction="sum").item()
            top2 = at.topk(2, dim=-1).values
            tags = [id2label[int(i)] for i in at.argmax(dim=-1)]
            margins = (top2[:, 0] - top2[:, 1]).tolist()
            print(json.dumps({"tags": tags, "margins": margins, "loss_sum": loss_sum}, ensure_ascii=False))


if __name__ == "__main__":
    if sys.argv[1] == "make-model":
        make_model(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "predict":
        predict(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__)
