#!/usr/bin/env python3
"""Write tests/fixtures/squad_eval/*.json: reference values for the KorQuAD evaluation
(src/tasks/squad/decode.rs, metrics.rs and files.rs; src/text).

Run from the repository root with the repo venv (transformers 4.57, numpy):

    .venv/bin/python scripts/make_squad_eval_fixtures.py
    .venv/bin/python scripts/make_squad_eval_fixtures.py --rust-tables   # print src/text/unicode_tables.rs

The reference is `transformers.data.metrics.squad_metrics` (4.57), which is the 3.3.1 algorithm except for the
BasicTokenizer that `get_final_text` builds: 4.57 cleans the text (drops NUL, U+FFFD and every C* char except
\\t \\n \\r; maps Zs to a space) and NFC-normalizes it; 3.3.1 does neither (spec §2.4). Every decoding run is done
twice: once with `squad_metrics.BasicTokenizer` replaced by `BasicTokenizer331` (the 3.3.1 `tokenize`, copied
below) -- these are the expected values -- and once with the stock 4.57 class, recorded under `hf457` only where it
differs.

Files:
* decode.json  (compact) [{"name", "n_best_size", "max_answer_length", "do_lower_case", "version_2",
                 "null_score_diff_threshold", "examples": [{"qas_id", "doc_words", "features": [{"tokens",
                 "token_to_orig_map": [[tok, word]..], "token_is_max_context": [[tok, bool]..], "start_logits",
                 "end_logits"}], "answer", "nbest": [{"text", "probability", "start_logit", "end_logit"}],
                 "null_odds": x|null}], "predictions_file", "nbest_file", "null_odds_file": text|null,
                 "hf457": null | {"answers": [..], "nbest_texts": [[..]..]}}]
               compute_predictions_logits on synthetic windows (logits are float32 values); the *_file fields are
               the exact text HF writes. An example's "nbest" is null unless a later example of the case reuses its
               qas_id (the file keeps one entry per id: first position, last value); read it from nbest_file.
* final_text.json  [{"pred_text", "orig_text", "do_lower_case", "expected", "hf457"}]  get_final_text
* basic_tokenizer.json  [{"text", "do_lower_case", "tokens"}]  BasicTokenizer331(...).tokenize
* scoring.json  [{"name", "gold": [[qas_id, [answers..]]..], "preds": [[qas_id, text]..],
                  "na_probs": [[qas_id, p]..]|null, "na_thresh": x, "official": {"exact_match", "f1"},
                  "official_raises": bool, "library": [[key, value]..], "library_raises": bool}]
               official = KorQuAD v1.0 evaluate_v1_0.py (written below from spec §8.5(b)); library = HF
               squad_evaluate. Where the real scripts raise (a question without gold answers in the official
               scorer; a missing prediction of an answerable question or an empty question set in HF), the values
               come from the documented Rust fallback (`*_raises` true): a question without gold scores 0; HF's
               subset averages run over the scored questions; an average over nothing is 0.
* json_text.json  [{"kind": "predictions"|"null_odds", "items": [[key, value]..], "text"}]
               json.dumps(OrderedDict(items), indent=4) + "\\n" (ensure_ascii escapes, float repr, duplicate keys);
               a null_odds value is written as the 16 hex digits of the double's bits (exact transport)
* unicode_tables.json  {"unidata_version", "punct_p": [[lo, hi]..], "mn": [..], "word": [..], "space": [..]}
               the Python 3.11 classes src/text/unicode_tables.rs hard-codes (P*, Mn, re `\\w`, str.isspace)

Everything is drawn from a fixed seed: rerunning gives the same files for the same library versions.
"""
import collections
import json
import os
import random
import re
import string
import struct
import sys
import tempfile
import unicodedata
from collections import Counter

import numpy as np
import transformers
from transformers.data.metrics import squad_metrics as sm
from transformers.models.bert.tokenization_bert import BasicTokenizer as BasicTokenizer457
from transformers.models.bert.tokenization_bert import whitespace_tokenize
from transformers.models.electra.tokenization_electra import ElectraTokenizer

SEED = 20240917
OUT_DIR = "tests/fixtures/squad_eval"


# ----------------------------------------------------------------------------------------------------------------
# transformers 3.3.1 BasicTokenizer.tokenize (no _clean_text, no NFC; lower + strip accents when do_lower_case)


class BasicTokenizer331(BasicTokenizer457):
    def tokenize(self, text, never_split=None):
        never_split = self.never_split.union(set(never_split)) if never_split else self.never_split
        if self.tokenize_chinese_chars:
            text = self._tokenize_chinese_chars(text)
        orig_tokens = whitespace_tokenize(text)
        split_tokens = []
        for token in orig_tokens:
            if self.do_lower_case and token not in never_split:
                token = token.lower()
                token = self._run_strip_accents(token)
            split_tokens.extend(self._run_split_on_punc(token, never_split))
        output_tokens = whitespace_tokenize(" ".join(split_tokens))
        return output_tokens


class _Tok:
    """The tokenizer argument of compute_predictions_logits: only convert_tokens_to_string is used."""

    @staticmethod
    def convert_tokens_to_string(tokens):
        return ElectraTokenizer.convert_tokens_to_string(None, tokens)


Example = collections.namedtuple("Example", ["qas_id", "doc_tokens"])
Feature = collections.namedtuple(
    "Feature", ["example_index", "unique_id", "tokens", "token_to_orig_map", "token_is_max_context"]
)
Result = collections.namedtuple("Result", ["unique_id", "start_logits", "end_logits"])


def with_tokenizer(cls, fn, *args, **kwargs):
    saved = sm.BasicTokenizer
    sm.BasicTokenizer = cls
    try:
        return fn(*args, **kwargs)
    finally:
        sm.BasicTokenizer = saved


# ----------------------------------------------------------------------------------------------------------------
# Synthetic text

KOREAN = [
    "서울", "대학교", "1990", "년", "에", "의", "는", "한국", "과학", "기술", "원", "을", "를", "이", "가", "세종",
    "대왕", "조선", "왕조", "문화", "재", "삼성", "전자", "주식", "회사", "토지", "박경리", "소설", "월", "일",
    "에서", "으로", "하였다", "였다", "까지", "부터",
]
LATIN = ["The", "the", "Beatles", "ABC", "abc", "New", "York", "a", "an", "KAIST", "iPhone", "DNA"]
DIGITS = ["19", "2", "15", "3.14", "100", "0", "2020", "7"]
PUNCT = ["(", ")", "《", "》", "'", '"', "‘", "’", ",", ".", "·", "…", "「", "」", "-", "~", "$", "^", "[", "]",
         "〈", "〉", "<", ">", "!", "?", "%", "/", "：", "、"]
HANJA = ["大韓", "民國", "世宗", "漢字", "學", "𠀀"]
COMPAT = ["豈", "更", "樂", "丽"]  # U+F900, U+F901, U+F914 (CJK compatibility), U+2F800 (compat supplement)
ACCENT = ["Café", "naïve", "ÉCOLE", "ΟΔΟΣ", "İstanbul", "Straße"]
WEIRD = ["\u00a0", "\u200b", "\u00ad", "\x08", "\u200e", "\ufeff", "\x1c", "\u0301", "\u1100\u1161", "\ufffd",
         "\x00", "\u3000", "\u2028", "\x7f", "😀", "\u0085"]


def rand_piece(rng, weird_rate):
    r = rng.random()
    if r < weird_rate:
        return rng.choice(WEIRD)
    r = rng.random()
    if r < 0.55:
        return rng.choice(KOREAN)
    if r < 0.65:
        return rng.choice(LATIN)
    if r < 0.75:
        return rng.choice(DIGITS)
    if r < 0.87:
        return rng.choice(PUNCT)
    if r < 0.94:
        return rng.choice(HANJA)
    if r < 0.97:
        return rng.choice(COMPAT)
    return rng.choice(ACCENT)


def rand_word(rng, weird_rate):
    """A doc word: no char of the SQuAD doc-word split set (space, \\t, \\r, \\n, U+202F)."""
    return "".join(rand_piece(rng, weird_rate) for _ in range(rng.choice([1, 1, 2, 2, 3])))


def tokenize_word(rng, word, do_lower_case, unk_rate):
    """Simulated WordPiece output of one doc word (any split works: only the strings matter)."""
    out = []
    for bt in BasicTokenizer331(do_lower_case=do_lower_case).tokenize(word):
        odd = any(unicodedata.category(c)[0] == "C" or c in "\u00a0\u0301\ufffd" for c in bt)
        if rng.random() < (0.8 if odd else unk_rate):
            out.append("[UNK]")
            continue
        chars = list(bt)
        cuts = sorted(rng.sample(range(1, len(chars)), min(len(chars) - 1, rng.choice([0, 0, 1, 2])))) if len(
            chars) > 1 else []
        bounds = [0] + cuts + [len(chars)]
        for i in range(len(bounds) - 1):
            piece = "".join(chars[bounds[i]:bounds[i + 1]])
            out.append(piece if i == 0 else "##" + piece)
    return out


def windows(n_doc, budget, stride):
    """Spec §5.3: window k starts at k * stride and holds min(n_doc - start, budget) tokens."""
    spans = []
    k = 0
    while k * stride < n_doc:
        start = k * stride
        length = min(n_doc - start, budget)
        spans.append((start, length))
        if start + length == n_doc:
            break
        k += 1
    return spans


def max_context(spans, cur, pos):
    best_score, best_idx = None, None
    for idx, (start, length) in enumerate(spans):
        end = start + length - 1
        if pos < start or pos > end:
            continue
        score = min(pos - start, end - pos) + 0.01 * length
        if best_score is None or score > best_score:
            best_score, best_idx = score, idx
    return cur == best_idx


def f32_list(arr):
    return [float(x) for x in np.asarray(arr, dtype=np.float32)]


def make_logits(rng, nprng, n, mode):
    if mode == "normal":
        x = nprng.standard_normal(n) * 3.0
    elif mode == "ties":
        x = np.round(nprng.standard_normal(n) * 2.0, 0) / 2.0
    elif mode == "flat":
        x = np.zeros(n)
    elif mode == "large":
        x = nprng.standard_normal(n) * 40.0
    elif mode == "tiny":
        x = nprng.standard_normal(n) * 1e-6
    else:
        raise ValueError(mode)
    return x


def make_example(rng, nprng, qas_id, kind, do_lower_case):
    weird_rate = 0.25 if kind == "weird" else 0.02
    n_words = rng.randint(0, 3) if kind == "tiny" else rng.randint(1, 30)
    doc_words = [rand_word(rng, weird_rate) for _ in range(n_words)]
    all_doc_tokens, tok_to_word = [], []
    for wi, w in enumerate(doc_words):
        for t in tokenize_word(rng, w, do_lower_case, 0.03):
            all_doc_tokens.append(t)
            tok_to_word.append(wi)
    q = [rng.choice(KOREAN) for _ in range(rng.randint(1, 4))]
    max_seq = rng.randint(len(q) + 5, len(q) + 40)
    budget = max_seq - len(q) - 3
    stride = rng.randint(max(1, budget // 3), max(1, budget))
    spans = windows(len(all_doc_tokens), budget, stride)
    feats = []
    mode = rng.choice(["normal", "normal", "normal", "ties", "ties", "flat", "large", "tiny"])
    for si, (start, length) in enumerate(spans):
        tokens = ["[CLS]"] + q + ["[SEP]"]
        t2o, maxc = {}, {}
        for i in range(length):
            p = len(tokens)
            t2o[p] = tok_to_word[start + i]
            maxc[p] = max_context(spans, si, start + i)
            tokens.append(all_doc_tokens[start + i])
        tokens.append("[SEP]")
        n_pos = max_seq if rng.random() < 0.8 else len(tokens)
        s = make_logits(rng, nprng, n_pos, mode)
        e = make_logits(rng, nprng, n_pos, mode)
        if kind == "question_wins":  # the top logits sit on the question and padding
            s[: len(q) + 2] += 100.0
            e[: len(q) + 2] += 100.0
            s[len(tokens):] += 100.0
        if kind == "no_max_context":
            maxc = {k: False for k in maxc}
        if kind == "odd_map" and t2o:
            keys = sorted(t2o)
            r = rng.random()
            if r < 0.3:  # decreasing word indices: empty orig slice
                for k in keys:
                    t2o[k] = len(doc_words) - 1 - t2o[k]
            elif r < 0.6:  # out-of-range word indices: Python slices clamp
                for k in keys[len(keys) // 2:]:
                    t2o[k] = t2o[k] + 1000
            else:  # position 0 ([CLS]) mapped as a doc token: a "" text that skips the dedupe
                t2o[0] = 0
                maxc[0] = True
                s[0] += 50.0
        feats.append(
            {"tokens": tokens, "t2o": t2o, "maxc": maxc, "start_logits": f32_list(s), "end_logits": f32_list(e)}
        )
    return {"qas_id": qas_id, "doc_words": doc_words, "features": feats}


def run_hf(tok_cls, examples, params):
    all_examples, all_features, all_results = [], [], []
    uid = 1000000000
    for ei, ex in enumerate(examples):
        all_examples.append(Example(ex["qas_id"], ex["doc_words"]))
        for f in ex["features"]:
            all_features.append(Feature(ei, uid, f["tokens"], f["t2o"], f["maxc"]))
            all_results.append(Result(uid, f["start_logits"], f["end_logits"]))
            uid += 1
    with tempfile.TemporaryDirectory() as d:
        pf, nf, of = (os.path.join(d, n) for n in ("predictions.json", "nbest.json", "null_odds.json"))
        preds = with_tokenizer(
            tok_cls,
            sm.compute_predictions_logits,
            all_examples,
            all_features,
            all_results,
            params["n_best_size"],
            params["max_answer_length"],
            params["do_lower_case"],
            pf,
            nf,
            of,
            False,
            params["version_2"],
            params["null_score_diff_threshold"],
            _Tok,
        )
        texts = {}
        for key, path in (("predictions_file", pf), ("nbest_file", nf), ("null_odds_file", of)):
            if os.path.exists(path):
                with open(path, encoding="utf-8") as fh:
                    texts[key] = fh.read()
            else:
                texts[key] = None
    nbest = json.loads(texts["nbest_file"])
    null_odds = json.loads(texts["null_odds_file"]) if texts["null_odds_file"] else {}
    return preds, nbest, null_odds, texts


def decode_cases(rng, nprng):
    cases = []
    kinds = ["plain"] * 10 + ["weird"] * 3 + ["tiny", "question_wins", "no_max_context", "odd_map"]
    attempts = 0
    while len(cases) < 180:
        attempts += 1
        ci = len(cases)
        do_lower_case = rng.random() < 0.12
        version_2 = rng.random() < 0.2
        small = rng.random() < 0.3
        params = {
            "n_best_size": rng.choice([1, 2, 3, 5]) if small else 20,
            "max_answer_length": rng.choice([1, 2, 3, 5]) if rng.random() < 0.3 else 30,
            "do_lower_case": do_lower_case,
            "version_2": version_2,
            "null_score_diff_threshold": rng.choice([0.0, 0.0, -1.5, 2.0]),
        }
        examples = []
        for k in range(rng.randint(1, 4)):
            kind = rng.choice(kinds)
            ex = make_example(rng, nprng, f"q{ci}-{k}", kind, do_lower_case)
            if version_2 and not ex["features"]:
                continue  # HF indexes features[0] for the null entry: IndexError without features
            examples.append(ex)
        if len(examples) >= 2 and rng.random() < 0.1:
            examples[-1]["qas_id"] = examples[0]["qas_id"]  # duplicate id: the dict keeps one key
        try:
            preds, nbest, null_odds, texts = run_hf(BasicTokenizer331, examples, params)
        except AttributeError:
            continue  # version_2 with only "" entries: HF dereferences best_non_null_entry = None
        preds457, nbest457, _, texts457 = run_hf(BasicTokenizer457, examples, params)
        case = dict(params)
        case["name"] = f"decode-{ci}"
        case["examples"] = []
        # Per-example expectations: run each example alone (a duplicate id hides the earlier one in the files).
        ids = [ex["qas_id"] for ex in examples]
        for ex in examples:
            p1, nb1, no1, _ = run_hf(BasicTokenizer331, [ex], params)
            case["examples"].append(
                {
                    "qas_id": ex["qas_id"],
                    "doc_words": ex["doc_words"],
                    "features": [
                        {
                            "tokens": f["tokens"],
                            "token_to_orig_map": sorted([k, v] for k, v in f["t2o"].items()),
                            "token_is_max_context": sorted([k, v] for k, v in f["maxc"].items()),
                            "start_logits": f["start_logits"],
                            "end_logits": f["end_logits"],
                        }
                        for f in ex["features"]
                    ],
                    "answer": p1[ex["qas_id"]],
                    # The file holds the n-best list of every id; only an id hidden by a later duplicate needs it here.
                    "nbest": nb1[ex["qas_id"]] if ids.count(ex["qas_id"]) > 1 else None,
                    "null_odds": no1.get(ex["qas_id"]),
                }
            )
        case["predictions_file"] = texts["predictions_file"]
        case["nbest_file"] = texts["nbest_file"]
        case["null_odds_file"] = texts["null_odds_file"] if version_2 else None
        if texts457["predictions_file"] != texts["predictions_file"] or texts457["nbest_file"] != texts["nbest_file"]:
            case["hf457"] = {
                "answers": [preds457[ex["qas_id"]] for ex in examples],
                "nbest_texts": [[e["text"] for e in nbest457[ex["qas_id"]]] for ex in examples],
            }
        else:
            case["hf457"] = None
        cases.append(case)
    return cases


# ----------------------------------------------------------------------------------------------------------------
# get_final_text and the BasicTokenizer

FINAL_TEXT_HAND = [
    ("1990년", "1990년에", False),
    ("1990", "1990년에", False),
    ("##년에", "1990년에", False),
    ("년에", "1990년에", False),
    ("서울 대학교", "서울 대학교에서", False),
    ("[UNK]", "서울\u00a0대학교", False),
    ("서울", "서울\u00a0대학교", False),
    ("서울", "서울\x08대학교", False),
    ("서울\x08대학교", "서울\x08대학교를", False),
    ("서울", "서울\u200b대학교", False),
    ("서울", "서울\x1c대학교", False),
    ("대학교", "서울\x1c대학교", False),
    ("서울", "서울\x00대학교", False),
    ("서울", "서울\ufffd대학교", False),
    ("가", "\u1100\u1161나다", False),
    ("豈", "豈樂", False),
    ("樂", "豈樂에", False),
    ("大 韓", "大韓民國", False),
    ("大 韓 民 國", "大韓民國의", False),
    ("《 토지 》", "《토지》를", False),
    ("토지", "《토지》를", False),
    ("( 주 ) 삼성", "(주)삼성전자", False),
    ("steve smith", "Steve Smith's", True),
    ("cafe", "Café는", True),
    ("", "abc", False),
    ("", "", False),
    ("a", "", False),
    ("abc", "abc", False),
    ("b c", "ab c", False),
    ("a b", "a\tb", False),
    ("a b", "a\u3000b", False),
    ("a b", "a  b", False),
    ("😀", "😀!", False),
    ("𠀀", "x𠀀y", False),
    ("ab", "ab ab", False),
    ("〈 가 〉", "〈가〉", False),
    ("1", "1\u0301", False),
    ("istanbul", "İstanbul", True),
    ("ος", "ΟΔΟΣ", True),
]


def final_text_cases(rng):
    cases = []

    def add(pred, orig, lower):
        exp = with_tokenizer(BasicTokenizer331, sm.get_final_text, pred, orig, lower)
        h = sm.get_final_text(pred, orig, lower)
        cases.append({"pred_text": pred, "orig_text": orig, "do_lower_case": lower, "expected": exp, "hf457": h})

    for pred, orig, lower in FINAL_TEXT_HAND:
        add(pred, orig, lower)
    while len(cases) < 400:
        lower = rng.random() < 0.15
        words = [rand_word(rng, 0.1) for _ in range(rng.randint(1, 4))]
        orig = " ".join(words)
        toks = []
        for w in words:
            toks.extend(tokenize_word(rng, w, lower, 0.03))
        if not toks:
            add("x", orig, lower)
            continue
        i = rng.randrange(len(toks))
        j = min(len(toks), i + rng.randint(1, 4))
        pred = " ".join(toks[i:j]).replace(" ##", "").strip()
        pred = " ".join(pred.split())
        if rng.random() < 0.3:  # trim the text inside a word
            cs = list(pred)
            a = rng.randrange(len(cs)) if rng.random() < 0.3 else 0
            b = rng.randint(a + 1, len(cs)) if cs else 0
            pred = "".join(cs[a:b]).strip()
        add(pred, orig, lower)
    return cases


def basic_tokenizer_cases(rng):
    cases = []
    texts = [w for w, _, _ in FINAL_TEXT_HAND] + [o for _, o, _ in FINAL_TEXT_HAND]
    texts += ["", " ", "\x1c\x1d\x1e\x1f", "a\x0bb\x0cc", "[UNK]", "[UNK]서울", "a\u180eb", "x\u2028y\u2029z",
              "\u0085a\u0085", "$+<=>^`|~", "«»¡¿※†‡§¶", "“인용”", "ｆｕｌｌ", "Ⅻ", "½", "ℌ"]
    for w in WEIRD + PUNCT + HANJA + COMPAT + ACCENT:
        texts.append("가" + w + "나")
    while len(texts) < 300:
        texts.append(" ".join(rand_word(rng, 0.15) for _ in range(rng.randint(1, 5))))
    for t in texts:
        for lower in (False, True):
            cases.append({"text": t, "do_lower_case": lower, "tokens": BasicTokenizer331(do_lower_case=lower).tokenize(t)})
    return cases


# ----------------------------------------------------------------------------------------------------------------
# Official KorQuAD v1.0 scorer (evaluate_v1_0.py, spec §8.5(b))


def official_normalize_answer(s):
    def remove_(text):
        text = re.sub("'", " ", text)
        text = re.sub('"', " ", text)
        text = re.sub("《", " ", text)
        text = re.sub("》", " ", text)
        text = re.sub("<", " ", text)
        text = re.sub(">", " ", text)
        text = re.sub("〈", " ", text)
        text = re.sub("〉", " ", text)
        text = re.sub("\\(", " ", text)
        text = re.sub("\\)", " ", text)
        text = re.sub("‘", " ", text)
        text = re.sub("’", " ", text)
        return text

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_punc(lower(remove_(s))))


def official_f1_score(prediction, ground_truth):
    prediction_tokens = official_normalize_answer(prediction).split()
    ground_truth_tokens = official_normalize_answer(ground_truth).split()
    prediction_chars = []
    for tok in prediction_tokens:
        prediction_chars.extend([a for a in tok])
    ground_truth_chars = []
    for tok in ground_truth_tokens:
        ground_truth_chars.extend([a for a in tok])
    common = Counter(prediction_chars) & Counter(ground_truth_chars)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_chars)
    recall = 1.0 * num_same / len(ground_truth_chars)
    return (2 * precision * recall) / (precision + recall)


def official_exact_match_score(prediction, ground_truth):
    return official_normalize_answer(prediction) == official_normalize_answer(ground_truth)


def official_evaluate(gold, predictions, lenient=False):
    """gold: [(qas_id, [answer texts])]; predictions: dict. lenient = the Rust fallbacks (see the docstring)."""
    f1 = exact_match = total = 0
    for qid, answers in gold:
        total += 1
        if qid not in predictions:
            continue
        prediction = predictions[qid]
        if lenient and not answers:
            continue
        exact_match += max(official_exact_match_score(prediction, gt) for gt in answers)
        f1 += max(official_f1_score(prediction, gt) for gt in answers)
    if lenient and total == 0:
        return {"exact_match": 0.0, "f1": 0.0}
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


# ----------------------------------------------------------------------------------------------------------------
# HF squad_evaluate, plus the lenient variant for inputs on which it raises

GoldExample = collections.namedtuple("GoldExample", ["qas_id", "answers"])


def lenient_make_eval_dict(exact_scores, f1_scores, qid_list=None):
    if qid_list is None:
        qid_list = list(exact_scores)
    else:
        qid_list = [k for k in qid_list if k in exact_scores]
    total = len(qid_list)
    if total == 0:
        return collections.OrderedDict([("exact", 0.0), ("f1", 0.0), ("total", 0)])
    return collections.OrderedDict(
        [
            ("exact", 100.0 * sum(exact_scores[k] for k in qid_list) / total),
            ("f1", 100.0 * sum(f1_scores[k] for k in qid_list) / total),
            ("total", total),
        ]
    )


def lenient_find_best_thresh(preds, scores, na_probs, qid_to_has_ans):
    num_no_ans = sum(1 for k in qid_to_has_ans if not qid_to_has_ans[k])
    cur_score = num_no_ans
    best_score = cur_score
    best_thresh = 0.0
    qid_list = sorted(na_probs, key=lambda k: na_probs[k])
    for qid in qid_list:
        if qid not in scores:
            continue
        if qid_to_has_ans[qid]:
            diff = scores[qid]
        else:
            diff = -1 if preds[qid] else 0
        cur_score += diff
        if cur_score > best_score:
            best_score = cur_score
            best_thresh = na_probs[qid]
    if len(scores) == 0:
        return 0.0, best_thresh
    return 100.0 * best_score / len(scores), best_thresh


def library_evaluate(gold, preds, na_probs, na_thresh):
    examples = [GoldExample(qid, [{"text": a} for a in answers]) for qid, answers in gold]
    preds_d = collections.OrderedDict(preds)
    na_d = collections.OrderedDict(na_probs) if na_probs is not None else None
    try:
        with open(os.devnull, "w") as devnull:
            saved = sys.stdout
            sys.stdout = devnull
            try:
                res = sm.squad_evaluate(examples, preds_d, na_d, na_thresh)
            finally:
                sys.stdout = saved
        return list(res.items()), False
    except (KeyError, ZeroDivisionError):
        pass
    saved_m, saved_f = sm.make_eval_dict, sm.find_best_thresh
    sm.make_eval_dict, sm.find_best_thresh = lenient_make_eval_dict, lenient_find_best_thresh
    try:
        with open(os.devnull, "w") as devnull:
            saved = sys.stdout
            sys.stdout = devnull
            try:
                res = sm.squad_evaluate(examples, preds_d, na_d, na_thresh)
            finally:
                sys.stdout = saved
    finally:
        sm.make_eval_dict, sm.find_best_thresh = saved_m, saved_f
    return list(res.items()), True


WORKED = [
    ("1989년 2월", "1989년 2월 15일"),
    ("《토지》", "토지"),
    ("(주)삼성전자", "주 삼성전자"),
    ("The Beatles", "beatles"),
    ("‘가나’다", "가나다"),
    ("A-B", "ab"),
]

ANSWER_PIECES = KOREAN + LATIN + DIGITS + PUNCT + HANJA + ["The", "A", "An", "the", "a", "an", "THE", "_the",
                                                           "thé", "the\u0301", "Ⓐ", "ΣΑΣ", "İ", " ", "  ", "\t"]


def rand_answer(rng):
    n = rng.randint(1, 5)
    out = []
    for _ in range(n):
        out.append(rng.choice(ANSWER_PIECES))
        if rng.random() < 0.4:
            out.append(" ")
    return "".join(out)


def perturb(rng, s):
    r = rng.random()
    if r < 0.2:
        return s
    if r < 0.3:
        return s.upper()
    if r < 0.45:
        return rng.choice(["《", "(", "'", "‘", "\"", "<", "〈"]) + s + rng.choice(["》", ")", "'", "’", "\"", ">", "〉"])
    if r < 0.6:
        return s + rng.choice(["에", "의", "는", "이다", "을", ".", ","])
    if r < 0.7:
        cs = list(s)
        if len(cs) > 1:
            del cs[rng.randrange(len(cs))]
        return "".join(cs)
    if r < 0.8:
        return rng.choice(["the ", "a ", "The ", ""]) + s
    if r < 0.85:
        return ""
    if r < 0.9:
        return rng.choice(["...", "!!", "《》", "()", " ", "·"])
    return rand_answer(rng)


def scoring_cases(rng):
    cases = []

    def add(name, gold, preds, na_probs=None, na_thresh=1.0):
        lib, lib_raises = library_evaluate(gold, preds, na_probs, na_thresh)
        pd = dict(preds)
        try:
            off = official_evaluate(gold, pd)
            off_raises = False
        except (ValueError, ZeroDivisionError):
            off = official_evaluate(gold, pd, lenient=True)
            off_raises = True
        cases.append(
            {
                "name": name,
                "gold": [[q, a] for q, a in gold],
                "preds": [[q, t] for q, t in preds],
                "na_probs": [[q, p] for q, p in na_probs] if na_probs is not None else None,
                "na_thresh": na_thresh,
                "official": off,
                "official_raises": off_raises,
                "library": [[k, v] for k, v in lib],
                "library_raises": lib_raises,
            }
        )

    for i, (p, g) in enumerate(WORKED):
        add(f"worked-{i}", [("w", [g])], [("w", p)])
    add("worked-all", [(f"w{i}", [g]) for i, (_, g) in enumerate(WORKED)], [(f"w{i}", p) for i, (p, _) in enumerate(WORKED)])
    # Single-question cases over random pairs
    while len(cases) < 160:
        golds = [rand_answer(rng)]
        for _ in range(rng.choice([0, 0, 1, 2])):
            golds.append(perturb(rng, golds[0]))
        pred = perturb(rng, rng.choice(golds))
        add(f"single-{len(cases)}", [("q", golds)], [("q", pred)])
    # Multi-question sets: missing and extra predictions, no-answer questions, no-answer probabilities
    while len(cases) < 260:
        n = rng.randint(1, 8)
        gold, preds, na = [], [], []
        for k in range(n):
            qid = f"m{len(cases)}-{k}"
            r = rng.random()
            if r < 0.12:
                golds = []
            elif r < 0.18:
                golds = ["", " ", "."][: rng.randint(1, 3)]
            else:
                golds = [rand_answer(rng) for _ in range(rng.randint(1, 3))]
            gold.append((qid, golds))
            if rng.random() < 0.85:
                pred = "" if (not golds and rng.random() < 0.5) else perturb(rng, rng.choice(golds) if golds else "x")
                preds.append((qid, pred))
                na.append((qid, rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, rng.random()])))
        if rng.random() < 0.2:
            preds.append((f"extra{len(cases)}", "무관"))
            na.append((f"extra{len(cases)}", 0.5))
        rng.shuffle(preds)
        use_na = rng.random() < 0.5
        na_thresh = rng.choice([1.0, 0.5, 0.3]) if use_na else 1.0
        add(f"multi-{len(cases)}", gold, preds, na if use_na else None, na_thresh)
    add("empty-set", [], [])
    add("no-preds", [("a", ["x"]), ("b", ["y"])], [])
    add("dup-pred-ids", [("a", ["서울"]), ("b", ["부산"])], [("a", "부산"), ("b", "부산"), ("a", "서울")])
    return cases


# ----------------------------------------------------------------------------------------------------------------
# JSON text


def json_text_cases(rng):
    cases = []
    strings = ["", "가", "a\"b\\c", "\x00\x01\x1f\x7f\x80", "\t\n\r\b\f", "😀𠀀", "\ud7a3\ue000\uffff", "/", "<>&'",
               "\u2028\u2029", "é", "empty"]
    items = [[f"id{i}", s] for i, s in enumerate(strings)]
    cases.append({"kind": "predictions", "items": items})
    cases.append({"kind": "predictions", "items": []})
    cases.append({"kind": "predictions", "items": [["a", "1"], ["b", "2"], ["a", "3"]]})
    cases.append({"kind": "predictions", "items": [["키\u00e9", "값"]]})
    floats = [0.0, -0.0, 1.0, -1.5, 1e16, 1e-5, 0.0001, 123456789.123, 1e300, -2.5e-300, 5e-324, float("inf"),
              float("-inf"), float("nan"), 1 / 3]
    floats += [rng.uniform(-30, 30) for _ in range(20)]
    cases.append({"kind": "null_odds", "items": [[f"n{i}", x] for i, x in enumerate(floats)]})
    cases.append({"kind": "null_odds", "items": []})
    for c in cases:
        c["text"] = json.dumps(collections.OrderedDict((k, v) for k, v in c["items"]), indent=4) + "\n"
        if c["kind"] == "null_odds":  # values travel as the 16 hex digits of their IEEE-754 bits
            c["items"] = [[k, struct.pack(">d", v).hex()] for k, v in c["items"]]
    return cases


# ----------------------------------------------------------------------------------------------------------------
# Unicode tables


def ranges(pred):
    out = []
    for cp in range(0x110000):
        if pred(chr(cp)):
            if out and out[-1][1] == cp - 1:
                out[-1][1] = cp
            else:
                out.append([cp, cp])
    return out


WORD_RE = re.compile(r"\w")


def unicode_tables():
    return {
        "unidata_version": unicodedata.unidata_version,
        "punct_p": ranges(lambda c: unicodedata.category(c).startswith("P")),
        "mn": ranges(lambda c: unicodedata.category(c) == "Mn"),
        "word": ranges(lambda c: WORD_RE.match(c) is not None),
        "space": ranges(lambda c: c.isspace()),
    }


def rust_table(name, rs, doc):
    flat = [f"0x{x:X}" for r in rs for x in r]
    lines = [f"/// {doc}", f"pub const {name}: [u32; {len(flat)}] = ["]
    line = "   "
    for item in flat:
        if len(line) + len(item) + 2 > 120:
            lines.append(line)
            line = "   "
        line += " " + item + ","
    lines.append(line)
    lines.append("];")
    return "\n".join(lines)


def print_rust_tables():
    t = unicode_tables()
    v = t["unidata_version"]
    print("//! Unicode tables of Python 3.11 (`unicodedata` 14.0.0), checked against")
    print("//! tests/fixtures/squad_eval/unicode_tables.json. Generated: do not edit by hand; regenerate with")
    print("//! `scripts/make_squad_eval_fixtures.py --rust-tables > src/text/unicode_tables.rs`, then `rustfmt` it.")
    print()
    print(f"// Generated by scripts/make_squad_eval_fixtures.py --rust-tables (Python unicodedata {v}).")
    print(rust_table("PUNCT_P", t["punct_p"], "Inclusive code-point ranges (lo, hi pairs) of general category P*."))
    print(rust_table("MN", t["mn"], "Inclusive code-point ranges of general category Mn."))
    print(rust_table("PY_WORD", t["word"], "Inclusive code-point ranges matched by Python's `re` `\\w` (str)."))


def write(name, obj, compact=False):
    path = os.path.join(OUT_DIR, name)
    with open(path, "w", encoding="utf-8") as fh:
        if compact:
            json.dump(obj, fh, ensure_ascii=False, separators=(",", ":"))
        else:
            json.dump(obj, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    return path


def main():
    if "--rust-tables" in sys.argv:
        print_rust_tables()
        return
    rng = random.Random(SEED)
    nprng = np.random.default_rng(SEED)
    os.makedirs(OUT_DIR, exist_ok=True)
    dec = decode_cases(rng, nprng)
    ft = final_text_cases(rng)
    bt = basic_tokenizer_cases(rng)
    sc = scoring_cases(rng)
    jt = json_text_cases(rng)
    write("decode.json", dec, compact=True)
    write("final_text.json", ft)
    write("basic_tokenizer.json", bt)
    write("scoring.json", sc)
    write("json_text.json", jt)
    write("unicode_tables.json", unicode_tables(), compact=True)
    n_ex = sum(len(c["examples"]) for c in dec)
    n_empty = sum(1 for c in dec for e in c["examples"] if e["answer"] == "empty")
    n_457 = sum(1 for c in dec if c["hf457"] is not None)
    n_ft457 = sum(1 for c in ft if c["expected"] != c["hf457"])
    print(f"transformers {transformers.__version__}, unicodedata {unicodedata.unidata_version}")
    print(f"decode: {len(dec)} cases, {n_ex} examples ({n_empty} 'empty'), {n_457} cases where 4.57 differs")
    print(f"final_text: {len(ft)} cases, {n_ft457} where 4.57 differs; basic_tokenizer: {len(bt)} cases")
    print(
        f"scoring: {len(sc)} cases ({sum(c['official_raises'] for c in sc)} official / "
        f"{sum(c['library_raises'] for c in sc)} library fallbacks); json_text: {len(jt)} cases"
    )


if __name__ == "__main__":
    main()
