#!/usr/bin/env python3
"""Write the README demo's slice of real NSMC reviews into data/demo/nsmc/.

    python3 scripts/make_demo_data.py            # from the repository root

Reads ../shared/data/nsmc/ratings_test.txt (the official e9t/nsmc test file, 50,000 movie reviews
from Naver Movies, CC0 1.0; ../shared/data/README.md says how it was obtained and verified) and
writes, deterministically (fixed seed, plain python3, no third-party packages):

* ratings_train.txt (N_TRAIN rows) and ratings_test.txt (N_TEST rows): rows copied verbatim from the
  source (`id<TAB>document<TAB>label`, header line; label 1 = positive, 0 = negative), half of each
  label in each file, shuffled. Reviews whose document is empty or whitespace are skipped; a
  document that occurs more than once in the source (compared with whitespace collapsed) is kept
  once, as its first row, and dropped when its copies disagree on the label. So the two files share
  no id and no document text.
* vocab.txt: a WordPiece vocabulary built from the training slice only: the five special tokens at
  ids 0-4, every char of the training texts and its `##` form, then the most frequent whole words
  (split like BERT's BasicTokenizer: whitespace, then punctuation and CJK ideographs), then the most
  frequent word suffixes as `##` pieces. A test word with a char the training slice lacks becomes
  [UNK], as with any fixed vocabulary.
* README.md is written by hand (source, licence, this recipe); this script does not touch it.
"""
import os
import random
import sys
import unicodedata

from make_templated_data import basic_tokenize as templated_tokenize  # the same vocabulary recipe
from make_templated_data import build_vocab, is_punctuation

SEED = 20201026
N_TRAIN, N_TEST = 12000, 1000
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SOURCE = os.path.join(ROOT, "..", "shared", "data", "nsmc", "ratings_test.txt")
OUT_DIR = os.path.join(ROOT, "data", "demo", "nsmc")
MAX_WORDS, MIN_WORD_COUNT = 3000, 2
MAX_SUFFIXES, MIN_SUFFIX_COUNT = 1500, 3


def read_source(path):
    """(id, document, label) rows of an NSMC file, header checked."""
    with open(path, encoding="utf-8", newline="\n") as f:
        lines = f.read().split("\n")
    if lines[0] != "id\tdocument\tlabel":
        raise SystemExit(f"{path}: unexpected header {lines[0]!r}")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != 3 or fields[2] not in ("0", "1"):
            raise SystemExit(f"{path}:{n}: expected id<TAB>document<TAB>0|1")
        rows.append((fields[0], fields[1], int(fields[2])))
    return rows


def candidates(rows):
    """Rows with a non-empty document, one per document text (first row), none with a disputed label."""
    labels, first = {}, {}
    for row_id, doc, label in rows:
        key = " ".join(doc.split())
        if not key:
            continue
        labels.setdefault(key, set()).add(label)
        first.setdefault(key, (row_id, doc, label))
    return [row for key, row in first.items() if len(labels[key]) == 1]


def is_cjk(ch):
    """BERT's CJK ideograph blocks (split into single-char words; Hangul is not among them)."""
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def is_control(ch):
    """What BERT's clean_text drops: control and format chars, U+FFFD."""
    return unicodedata.category(ch) in ("Cc", "Cf") or ch == "\ufffd"


def basic_tokenize(text):
    """Whitespace split, then each punctuation char and CJK ideograph on its own (cased: no lowercasing)."""
    return templated_tokenize(text, splits=lambda ch: is_punctuation(ch) or is_cjk(ch), drops=is_control)


def write_ratings(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("id\tdocument\tlabel\n")
        for row_id, doc, label in rows:
            f.write(f"{row_id}\t{doc}\t{label}\n")


def main():
    if not os.path.exists(SOURCE):
        raise SystemExit(f"{os.path.normpath(SOURCE)} is missing (the NSMC test file beside the checkout)")
    rng = random.Random(SEED)
    pool = candidates(read_source(SOURCE))
    train, test = [], []
    for label in (1, 0):
        rows = [r for r in pool if r[2] == label]
        rng.shuffle(rows)
        if len(rows) < (N_TRAIN + N_TEST) // 2:
            raise SystemExit(f"only {len(rows)} usable reviews with label {label}")
        test += rows[: N_TEST // 2]  # the test slice first: it stays the same when N_TRAIN changes
        train += rows[N_TEST // 2 : (N_TRAIN + N_TEST) // 2]
    rng.shuffle(test)
    rng.shuffle(train)

    def key(row):
        return " ".join(row[1].split())

    assert not {r[0] for r in train} & {r[0] for r in test}, "shared id"
    assert not {key(r) for r in train} & {key(r) for r in test}, "shared document"
    words = [w for _, doc, _ in train for w in basic_tokenize(doc)]
    vocab = build_vocab(words, MAX_WORDS, MIN_WORD_COUNT, MAX_SUFFIXES, MIN_SUFFIX_COUNT)

    os.makedirs(OUT_DIR, exist_ok=True)
    write_ratings(os.path.join(OUT_DIR, "ratings_train.txt"), train)
    write_ratings(os.path.join(OUT_DIR, "ratings_test.txt"), test)
    with open(os.path.join(OUT_DIR, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(vocab) + "\n")
    known_chars = {t for t in vocab if len(t) == 1}
    test_words = [w for _, doc, _ in test for w in basic_tokenize(doc)]
    unknown = sum(1 for w in test_words if any(ch not in known_chars for ch in w))
    size = sum(os.path.getsize(os.path.join(OUT_DIR, n)) for n in os.listdir(OUT_DIR))
    print(f"train {len(train)}, test {len(test)}, vocab {len(vocab)} tokens, "
          f"test words with an unknown char {unknown}/{len(test_words)}, {size} bytes -> {os.path.normpath(OUT_DIR)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
