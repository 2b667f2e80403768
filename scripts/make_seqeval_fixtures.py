#!/usr/bin/env python3
"""Write tests/fixtures/seqeval/cases.json: seqeval 1.2.2 reference values for src/tasks/ner/seqeval.rs.

Run from the repository root with the repo venv (seqeval 1.2.2 installed):

    .venv/bin/python scripts/make_seqeval_fixtures.py

Every case is a pair of tag sequences (lists of sentences) in the suffix style of Naver NER (`PER-B`,
`PER-I`, `O`) and what seqeval returns for it with `suffix=True` and the default (non-strict) mode:

    {"kind": k, "gold": [[tag, ..], ..], "pred": [[tag, ..], ..],
     "score_error": null | "<ExceptionName>",   # precision_score raised
     "precision": p, "recall": r, "f1": f,      # precision_score / recall_score / f1_score (micro)
     "per_type": [[name, p, r, f1, support], ..],  # precision_recall_fscore_support(average=None), sorted
     "gold_entities": [[type, start, end], ..], "pred_entities": [..],   # get_entities(.., suffix=True)
     "reports": {"2": text | null, ..},          # classification_report(digits=d); null where it raised
     "report_error": null | "<ExceptionName>"}

Tags are drawn from the 29 Naver NER tags, plus E/S (IOBES) tags, bare and malformed tags, non-ASCII and
long type names and up to 150 types (numpy's pairwise summation inside the macro average). Warnings
(UndefinedMetricWarning, "seems not to be NE tag") are silenced; the returned values are recorded.
Everything is drawn from a fixed seed, so rerunning gives the same file for the same library versions.
"""
import json
import math
import os
import random
import sys
import warnings
from importlib.metadata import version

from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import get_entities, precision_recall_fscore_support

SEED = 20240613
OUT_DIR = "tests/fixtures/seqeval"

TYPES = ["PER", "FLD", "AFW", "ORG", "LOC", "CVL", "DAT", "TIM", "NUM", "EVT", "ANM", "PLT", "MAT", "TRM"]
NAVER_TAGS = ["O"] + [f"{t}-{s}" for t in TYPES for s in "BI"]
assert len(NAVER_TAGS) == 29

rng = random.Random(SEED)


def num(x):
    x = float(x)
    assert not math.isnan(x)
    return x


def entities(seqs):
    return [[t, s, e] for t, s, e in get_entities(seqs, suffix=True)]


def run_case(kind, gold, pred, digits=(2,)):
    case = {"kind": kind, "gold": gold, "pred": pred}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            case["precision"] = num(precision_score(gold, pred, suffix=True))
            case["recall"] = num(recall_score(gold, pred, suffix=True))
            case["f1"] = num(f1_score(gold, pred, suffix=True))
            p, r, f, s = precision_recall_fscore_support(gold, pred, average=None, suffix=True)
            names = sorted({t for t, _, _ in get_entities(gold, suffix=True)}
                           | {t for t, _, _ in get_entities(pred, suffix=True)})
            assert len(names) == len(p)
            case["per_type"] = [[n, num(a), num(b), num(c), int(d)] for n, a, b, c, d in zip(names, p, r, f, s)]
            case["score_error"] = None
        except Exception as e:  # noqa: BLE001 - the exception type is the expectation
            case["score_error"] = type(e).__name__
        try:
            case["gold_entities"] = entities(gold)
            case["pred_entities"] = entities(pred)
        except Exception as e:  # noqa: BLE001
            case["entities_error"] = type(e).__name__
        case["reports"] = {}
        case["report_error"] = None
        for d in digits:
            try:
                case["reports"][str(d)] = classification_report(gold, pred, suffix=True, digits=d)
            except Exception as e:  # noqa: BLE001
                case["reports"][str(d)] = None
                case["report_error"] = type(e).__name__
    return case


# ------------------------------------------------------------------------------------------------
# generators


def rand_sentences(tags, n_sent, max_len, min_len=0):
    return [[rng.choice(tags) for _ in range(rng.randint(min_len, max_len))] for _ in range(n_sent)]


def valid_bio(n_sent, max_len, p_o=0.6, types=TYPES):
    """Well-formed BIO sentences: entities start with B and continue with I of the same type."""
    out = []
    for _ in range(n_sent):
        sent = []
        n = rng.randint(0, max_len)
        while len(sent) < n:
            if rng.random() < p_o:
                sent.append("O")
            else:
                t = rng.choice(types)
                sent.append(f"{t}-B")
                for _ in range(rng.randint(0, 3)):
                    sent.append(f"{t}-I")
        out.append(sent[:n])
    return out


def corrupt(seqs, p, tags):
    return [[rng.choice(tags) if rng.random() < p else t for t in s] for s in seqs]


def shift_boundaries(seqs, p):
    """Prediction errors typical of a tagger: B<->I swaps and type switches inside entities."""
    out = []
    for s in seqs:
        new = []
        for t in s:
            if t != "O" and rng.random() < p:
                typ, st = t.rsplit("-", 1)
                choice = rng.random()
                if choice < 0.4:
                    t = f"{typ}-{'I' if st == 'B' else 'B'}"
                elif choice < 0.8:
                    t = f"{rng.choice(TYPES)}-{st}"
                else:
                    t = "O"
            elif t == "O" and rng.random() < p / 4:
                t = f"{rng.choice(TYPES)}-I"
            new.append(t)
        out.append(new)
    return out


cases = []

# 1. uniform random over the 29 tags (very entity-dense, lots of invalid orders)
for i in range(70):
    n_sent = rng.choice([1, 1, 2, 3, 5, 8])
    gold = rand_sentences(NAVER_TAGS, n_sent, rng.choice([3, 8, 20]))
    pred = [[rng.choice(NAVER_TAGS) for _ in s] for s in gold]
    cases.append(run_case("random", gold, pred, digits=(2, 4) if i % 7 == 0 else (2,)))

# 2. random with few types / mostly O: small per-type counts give ties like 0.125 in the averages
for i in range(40):
    types = rng.sample(TYPES, rng.randint(1, 5))
    tags = ["O"] * rng.randint(1, 8) + [f"{t}-{s}" for t in types for s in "BI"]
    gold = rand_sentences(tags, rng.randint(1, 6), 10)
    pred = [[rng.choice(tags) for _ in s] for s in gold]
    cases.append(run_case("random_few", gold, pred))

# 3. realistic: well-formed gold, prediction = gold with tagger-like errors
for i in range(60):
    gold = valid_bio(rng.randint(1, 30), rng.choice([5, 15, 40]))
    pred = shift_boundaries(gold, rng.choice([0.0, 0.05, 0.15, 0.3, 0.6]))
    if rng.random() < 0.3:
        pred = corrupt(pred, 0.05, NAVER_TAGS)
    cases.append(run_case("realistic", gold, pred, digits=(2, 3) if i % 10 == 0 else (2,)))

# 4. IOBES-style tags (E and S states) mixed with B/I/O
IOBES_TAGS = ["O"] + [f"{t}-{s}" for t in ["PER", "ORG", "LOC"] for s in "BIES"]
for i in range(35):
    gold = rand_sentences(IOBES_TAGS, rng.randint(1, 5), 12)
    if i % 2:
        pred = [[rng.choice(IOBES_TAGS) for _ in s] for s in gold]
    else:
        pred = corrupt(gold, 0.3, IOBES_TAGS)
    cases.append(run_case("iobes", gold, pred))

# 5. malformed / unusual tags: bare states, '.', unknown states, several dashes, non-ASCII, long types
WEIRD_TAGS = ["O", "B", "I", "E", "S", ".", "-B", "_-B", "PER-.", "PER-X", "PER-O", "A-B-I", "A-B-B", "PER_B",
              "인물-B", "인물-I", "VERY_LONG_TYPE_NAME-B", "VERY_LONG_TYPE_NAME-I", "PER-B", "PER-I", "O-B", "x",
              "--I", "PER--B", "ÄÖ-S", "ORG-E"]
for i in range(30):
    gold = rand_sentences(WEIRD_TAGS, rng.randint(1, 4), 10)
    pred = [[rng.choice(WEIRD_TAGS) for _ in s] for s in gold]
    cases.append(run_case("weird", gold, pred, digits=(2, 5) if i % 5 == 0 else (2,)))

# 6. many types: the macro average runs numpy's pairwise sum (8-way unrolled up to 128, split above)
for n_types in [7, 8, 9, 16, 17, 100, 128, 129, 150]:
    types = [f"T{k:03d}" for k in range(n_types)]
    tags = ["O"] + [f"{t}-{s}" for t in types for s in "BI"]
    gold = rand_sentences(tags, 20, 40, min_len=10)
    pred = corrupt(gold, 0.4, tags)
    cases.append(run_case("many_types", gold, pred))

# 7. hand-written adversarial cases
S = lambda text: [t for t in text.split()]  # noqa: E731
adversarial = [
    # spec section 12 worked examples (gold = pred)
    ([S("PER-B PER-I O ORG-I ORG-I LOC-B LOC-B DAT-I NUM-I")], None),
    ([S("O PER-B ORG-I ORG-I"), S("PER-I O")], None),
    ([S("CVL-B CVL-B O TIM-B TIM-I TIM-I")], None),
    # lone I, I after O, type switches, consecutive B
    ([S("PER-I")], [S("PER-B")]),
    ([S("O PER-I O")], [S("O PER-B O")]),
    ([S("O PER-I PER-I O")], [S("O PER-B PER-I O")]),
    ([S("PER-B ORG-I")], [S("PER-B PER-I")]),
    ([S("PER-B ORG-I ORG-I")], [S("PER-B ORG-B ORG-I")]),
    ([S("PER-B PER-B PER-B")], [S("PER-B PER-I PER-I")]),
    ([S("PER-B PER-B PER-I")], [S("PER-B PER-I PER-B")]),
    ([S("PER-I PER-B")], [S("PER-I PER-I")]),
    ([S("ORG-I PER-I LOC-I")], [S("ORG-B PER-B LOC-B")]),
    # entities at the sentence end followed by an entity at the next sentence start
    ([S("O PER-B"), S("PER-I O")], [S("O PER-B"), S("PER-B O")]),
    ([S("O PER-I"), S("PER-I PER-I")], [S("O PER-B"), S("PER-I PER-I")]),
    ([S("PER-B"), S("PER-B"), S("PER-I")], [S("PER-I"), S("PER-I"), S("PER-I")]),
    ([S("LOC-B LOC-I"), [], S("LOC-I")], [S("LOC-B LOC-I"), [], S("LOC-B")]),
    # all O / no entities at all / no predictions
    ([S("O O O")], [S("O O O")]),
    ([S("O"), S("O O")], [S("O"), S("O O")]),
    ([[]], [[]]),
    ([[], [], []], [[], [], []]),
    ([S("O O PER-B")], [S("O O O")]),
    ([S("PER-B PER-I O ORG-B")], [S("O O O O")]),
    ([S("O O O")], [S("O ORG-B O")]),
    ([S("O O O"), S("O")], [S("PER-I ORG-B O"), S("DAT-B")]),
    # precision 1, recall < 1 and the other way round
    ([S("PER-B O ORG-B O LOC-B")], [S("PER-B O O O O")]),
    ([S("PER-B O O O O")], [S("PER-B O ORG-B O LOC-B")]),
    # 0.125-style ties in the macro average (one type right out of several)
    ([S("AFW-B O ANM-B O CVL-B O DAT-B")], [S("AFW-B O ANM-I ANM-I CVL-I O O")]),
    ([S("A-B O A-B O B-B O C-B O D-B O")], [S("A-B O A-B A-I B-B B-I C-B C-I D-B D-I")]),
    # E / S states
    ([S("PER-S PER-S PER-B PER-E")], [S("PER-S PER-B PER-E PER-E")]),
    ([S("PER-E PER-E PER-I PER-S PER-I")], [S("PER-B PER-I PER-E O PER-S")]),
    ([S("ORG-B ORG-I ORG-E O LOC-S")], [S("ORG-B ORG-E ORG-E O LOC-B")]),
    ([S("PER-S ORG-I ORG-E"), S("PER-E")], [S("PER-S ORG-B ORG-E"), S("PER-S")]),
    # bare tags and odd states
    ([S("B I I O B")], [S("B B I O I")]),
    ([S(". PER-. PER-I . PER-I")], [S("O PER-B PER-I O PER-I")]),
    ([S("PER-X PER-X ORG-X O")], [S("PER-B PER-I ORG-B O")]),
    ([S("PER-B PER-X PER-I O")], [S("PER-B PER-I PER-I O")]),
    ([S("A-B-I A-B-I A-C-B")], [S("A-B-B A-B-I A-C-I")]),
    ([S("인물-B 인물-I O 장소-B")], [S("인물-B 인물-I O 장소-I")]),
    ([S("VERY_LONG_TYPE_NAME-B O PER-B")], [S("VERY_LONG_TYPE_NAME-B O PER-I")]),
    ([S("THIRTEEN_CHAR-B O")], [S("THIRTEEN_CHAR-B O")]),
    ([S("TWELVE_CHARS-B O")], [S("TWELVE_CHARS-I O")]),
    # one sentence vs many sentences with the same tags
    ([S("PER-B PER-I O ORG-B ORG-I O")], [S("PER-B O O ORG-B ORG-I O")]),
    ([S("PER-B PER-I"), S("ORG-B ORG-I")], [S("PER-B O"), S("ORG-B ORG-I")]),
    ([S("PER-B"), S("PER-I"), S("O"), S("ORG-B"), S("ORG-I"), S("O")],
     [S("PER-B"), S("O"), S("O"), S("ORG-B"), S("ORG-I"), S("O")]),
    # inputs seqeval rejects
    ([], []),                                     # TypeError: not a list of lists
    ([S("PER-B O")], [S("PER-B")]),               # ValueError: sentence lengths differ
    ([S("PER-B O"), S("O")], [S("PER-B O")]),     # ValueError: sentence counts differ
    ([S("O"), S("O O")], [S("O"), S("O O"), []]),  # ValueError: sentence counts differ
    ([S("PER-B O"), S("O O")], [S("PER-B O"), S("O")]),  # ValueError: second sentence shorter
    ([[], S("O")], [S("O"), []]),                 # ValueError: lengths swapped
    ([["PER-B", ""]], [["PER-B", "O"]]),          # IndexError: empty tag
]
for gold, pred in adversarial:
    cases.append(run_case("adversarial", gold, gold if pred is None else pred, digits=(2, 0, 4, 14)))

# 8. long sentences / large corpora
for n_sent, length in [(1, 2000), (1, 500), (300, 20), (50, 100)]:
    gold = valid_bio(n_sent, length, p_o=0.7)
    gold = [s + ["O"] * (length - len(s)) if n_sent == 1 else s for s in gold]
    pred = shift_boundaries(gold, 0.1)
    cases.append(run_case("long", gold, pred))

# 9. prediction all O against a non-empty gold, and the reverse
for i in range(10):
    gold = valid_bio(rng.randint(1, 5), 15, p_o=0.5)
    empty = [["O"] * len(s) for s in gold]
    cases.append(run_case("all_o", gold, empty) if i % 2 == 0 else run_case("all_o", empty, gold))

os.makedirs(OUT_DIR, exist_ok=True)
path = os.path.join(OUT_DIR, "cases.json")
with open(path, "w", encoding="utf-8") as f:
    json.dump({"seqeval_version": version("seqeval"), "cases": cases}, f, separators=(",", ":"),
              ensure_ascii=False, allow_nan=False)
    f.write("\n")
counts = {}
for c in cases:
    counts[c["kind"]] = counts.get(c["kind"], 0) + 1
print(f"{path}: {len(cases)} cases {counts}; score errors: "
      f"{sum(c['score_error'] is not None for c in cases)}, report errors: "
      f"{sum(c['report_error'] is not None for c in cases)}", file=sys.stderr)
