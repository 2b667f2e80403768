#!/usr/bin/env python3
"""Write tests/fixtures/metrics/*.json: reference values for src/tasks/seq_cls/metrics.rs and for
Python's float repr (src/text/python.rs).

Run from the repository root with the repo venv (numpy, scipy, scikit-learn installed):

    .venv/bin/python scripts/make_metric_fixtures.py

Files (compact JSON; a NaN expectation is written as null):
* accuracy.json     [{"preds": [..], "labels": [..], "acc": x}]           sklearn accuracy_score
* correlation.json  [{"kind": k, "x": [..], "y": [..], "pearson": r, "spearman": s}]
                    scipy.stats.pearsonr / spearmanr; kinds: random, ties, small, large, constant
* correlation_large.json  [{"seed", "n": 2000, "ties", "a_milli", "pearson", "spearman"}]: 100 large-n cases
                    whose inputs tests/seq_cls/metrics.rs regenerates with the same SplitMix64 generator (see
                    generated_pair; a = a_milli / 1000)
* macro_prf.json    [{"kind": k, "preds": [..], "labels": [..], "p": .., "r": .., "f1": ..}]
                    sklearn precision_recall_fscore_support(labels, preds, average="macro", zero_division=0)
* repr.json         [{"bits": "<16 hex digits of the IEEE-754 double>", "repr": repr(x)}]
                    the value travels as raw bits so no JSON float parsing can change it; includes random
                    bit patterns and ~170 exact ties (x halfway between two shortest candidates: repr takes
                    the even last digit).

Everything is drawn from a fixed seed, so rerunning gives the same files for the same library versions.
"""
import json
import math
import os
import random
import struct
import sys
import warnings
from decimal import Decimal

import numpy as np
import scipy
import scipy.stats
import sklearn
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

SEED = 20240612
OUT_DIR = "tests/fixtures/metrics"

rng = np.random.default_rng(SEED)
prng = random.Random(SEED)


def num(x):
    """A float for JSON, or None for NaN."""
    x = float(x)
    return None if math.isnan(x) else x


def dump(name, cases):
    path = os.path.join(OUT_DIR, name)
    with open(path, "w") as f:
        json.dump(cases, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"{path}: {len(cases)} cases", file=sys.stderr)


# ------------------------------------------------------------------------------------------------
# accuracy
# ------------------------------------------------------------------------------------------------
def accuracy_cases():
    cases = []
    for i in range(120):
        n = int(rng.integers(1, 400)) if i >= 5 else i + 1
        k = int(rng.integers(2, 4))
        labels = rng.integers(0, k, size=n)
        # Mix of agreement rates: copy the gold label with probability q, else random.
        q = float(rng.random())
        copy = rng.random(n) < q
        preds = np.where(copy, labels, rng.integers(0, k, size=n))
        cases.append({
            "preds": preds.tolist(),
            "labels": labels.tolist(),
            "acc": num(accuracy_score(labels, preds)),
        })
    return cases


# ------------------------------------------------------------------------------------------------
# correlation
# ------------------------------------------------------------------------------------------------
def sig(v, digits=10):
    """Round to `digits` significant digits (keeps the JSON small; the value is still an arbitrary double)."""
    return float(f"{float(v):.{digits}g}")


def corr_case(kind, x, y):
    x = [sig(v) for v in x]
    y = [sig(v) for v in y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = scipy.stats.pearsonr(x, y).statistic
        s = scipy.stats.spearmanr(x, y).statistic
    return {"kind": kind, "x": x, "y": y, "pearson": num(p), "spearman": num(s)}


def korsts_gold(n):
    """KorSTS-like gold scores: 0..5 in steps of 0.2 (many ties)."""
    return np.round(rng.integers(0, 26, size=n) * 0.2, 1)


MASK64 = (1 << 64) - 1


def splitmix64(state):
    """SplitMix64: returns (new_state, output). tests/seq_cls/metrics.rs has the same generator."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def generated_pair(seed, n, ties, a):
    """Large inputs rebuilt in Rust from (seed, n, ties, a), so the fixture stores no arrays.

    Only exactly rounded IEEE operations, in the same order as tests/seq_cls/metrics.rs."""
    state = seed
    x, y = [], []
    for _ in range(n):
        state, r1 = splitmix64(state)
        state, r2 = splitmix64(state)
        u1 = (r1 >> 11) / 9007199254740992.0
        u2 = (r2 >> 11) / 9007199254740992.0
        gold = float(int(u1 * 26.0)) / 5.0 if ties else u1 * 10.0 - 5.0
        x.append(gold * a + (u2 - 0.5) * 3.0)
        y.append(gold)
    return x, y


def generated_cases():
    """Large-n (2000) correlation cases as generator parameters: {"seed", "n", "ties", "a_milli", ...}."""
    cases = []
    for i in range(100):
        seed = prng.getrandbits(64)
        ties = i % 2 == 0
        a_milli = prng.randint(-1000, 1000)
        x, y = generated_pair(seed, 2000, ties, a_milli / 1000.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = scipy.stats.pearsonr(x, y).statistic
            s = scipy.stats.spearmanr(x, y).statistic
        cases.append({"seed": seed, "n": 2000, "ties": ties, "a_milli": a_milli, "pearson": num(p), "spearman": num(s)})
    return cases


def correlation_cases():
    cases = []
    # Random continuous data, varying correlation strength and scale.
    for _ in range(110):
        n = int(rng.integers(4, 150))
        scale = 10.0 ** float(rng.uniform(-6, 6))
        shift = float(rng.normal()) * scale * float(rng.choice([0.0, 1.0, 1000.0]))
        x = rng.normal(size=n) * scale + shift
        a = float(rng.uniform(-1, 1))
        y = a * x / scale + rng.normal(size=n) * float(rng.uniform(0.01, 2.0))
        cases.append(corr_case("random", x, y))
    # Many ties: KorSTS-like gold with predictions that are continuous, rounded, or a few levels.
    for i in range(110):
        n = int(rng.integers(5, 200))
        gold = korsts_gold(n)
        noise = rng.normal(size=n) * float(rng.uniform(0.1, 2.0))
        pred = np.clip(gold + noise, -0.5, 5.5)
        mode = i % 3
        if mode == 1:
            pred = np.round(pred * 5) / 5  # 0.2 grid like the gold
        elif mode == 2:
            pred = np.round(pred)  # only a handful of distinct values
        cases.append(corr_case("ties", pred, gold))
    # Small n: 2 and 3 elements, including ties in one variable.
    for i in range(110):
        n = 2 if i % 2 == 0 else 3
        if i % 5 == 0:
            x = rng.integers(0, 3, size=n).astype(float)
            y = rng.integers(0, 3, size=n).astype(float)
        else:
            x = rng.normal(size=n)
            y = rng.normal(size=n)
        cases.append(corr_case("small", x, y))
    # Large n (2000), values rounded to 6 decimals to keep the file small; some against tied gold.
    for i in range(8):
        n = 2000
        gold = korsts_gold(n) if i % 2 == 0 else np.round(rng.normal(size=n), 6)
        pred = np.round(gold * float(rng.uniform(0.2, 1.0)) + rng.normal(size=n), 6)
        cases.append(corr_case("large", pred, gold))
    # Constant input: scipy returns NaN.
    cases.append(corr_case("constant", [1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    cases.append(corr_case("constant", [1.0, 2.0, 3.0], [0.4, 0.4, 0.4]))
    cases.append(corr_case("constant", [2.5, 2.5], [2.5, 2.5]))
    cases.append(corr_case("constant", [0.0] * 50, rng.normal(size=50)))
    return cases


# ------------------------------------------------------------------------------------------------
# macro precision / recall / F1
# ------------------------------------------------------------------------------------------------
def prf_case(kind, preds, labels):
    preds = [int(v) for v in preds]
    labels = [int(v) for v in labels]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, _ = precision_recall_fscore_support(labels, preds, average="macro", zero_division=0)
    return {"kind": kind, "preds": preds, "labels": labels, "p": num(p), "r": num(r), "f1": num(f)}


def macro_prf_cases():
    cases = []
    for i in range(150):
        n = int(rng.integers(1, 300)) if i >= 6 else i + 1
        labels = rng.integers(0, 3, size=n)
        q = float(rng.random())
        preds = np.where(rng.random(n) < q, labels, rng.integers(0, 3, size=n))
        kind = "random"
        mode = i % 6
        if mode == 1:
            # A class (present in gold) is never predicted.
            c = int(rng.integers(0, 3))
            preds = np.where(preds == c, (c + 1) % 3, preds)
            kind = "never_predicted"
        elif mode == 2:
            # A class is never in gold but is predicted.
            c = int(rng.integers(0, 3))
            labels = np.where(labels == c, (c + 2) % 3, labels)
            preds[0] = c
            kind = "never_gold"
        elif mode == 3:
            # All predictions are one class.
            preds = np.full(n, int(rng.integers(0, 3)))
            kind = "all_one_pred"
        elif mode == 4:
            # Gold is one class, predictions vary.
            labels = np.full(n, int(rng.integers(0, 3)))
            kind = "all_one_gold"
        elif mode == 5:
            # Perfect or perfectly wrong predictions.
            preds = labels.copy() if i % 12 == 5 else (labels + 1) % 3
            kind = "perfect" if i % 12 == 5 else "all_wrong"
        cases.append(prf_case(kind, preds, labels))
    # Hate-speech has 3 classes (none/offensive/hate); also a few with sparse, large label ids.
    for _ in range(10):
        n = int(rng.integers(1, 50))
        labels = rng.choice([0, 7, 1000, 123456], size=n)
        preds = rng.choice([0, 7, 99, 123456], size=n)
        cases.append(prf_case("sparse_ids", preds, labels))
    return cases


# ------------------------------------------------------------------------------------------------
# repr(float)
# ------------------------------------------------------------------------------------------------
def is_repr_tie(v):
    """True when v lies exactly halfway between two decimal strings as short as repr(v)."""
    s = repr(v)
    mant, _, exp = s.partition("e")
    mant = mant.lstrip("-")
    nfrac = len(mant.split(".")[1]) if "." in mant and not mant.endswith(".0") else 0
    unit = Decimal(1).scaleb(int(exp or 0) - nfrac)
    return abs(Decimal(v) - Decimal(s)) * 2 == unit


def repr_cases():
    vals = [
        0.0, -0.0, 1.0, -1.0, 100.0, 0.1, 0.2, 0.1 + 0.2, 1 / 3, 2 / 3, 1e-05, 5e-05, 1e-4, 9.99e-05,
        0.0001, 0.00011, 1e-5 * 3, 123456789012345678.0, 1e16, 1e15, 9999999999999998.0, 1e16 - 2,
        1234567890123456.0, 12345678901234567.0, 1e22, 1e23, 1e100, 1e-100, 1.5e-07, 1.2345e-07,
        5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931308602157e308, -1.7976931308602157e308,
        0.9062783286116474, 0.90628, 0.5, 0.25, 0.125, 2.0 ** 53, 2.0 ** 53 + 2, 2.0 ** 60, 2.0 ** -20,
        float("nan"), float("inf"), float("-inf"), 1e300 * 10, 8.0e-5, 4.3e15, 4.3e16, -123.456,
        0.8231292517006803, 49.99999999999999, 50.0, 85.0, 84.9, 0.1 * 3, 1.1 * 1.1, 7e-5, 6.25e-05,
    ]
    # Random magnitudes 1e-12 .. 1e20, both signs.
    for _ in range(100):
        e = prng.uniform(-12, 20)
        v = 10.0 ** e
        vals.append(v if prng.random() < 0.8 else -v)
    # Whole numbers across magnitudes.
    for _ in range(30):
        vals.append(float(prng.randrange(0, 10 ** prng.randint(1, 19))))
    # Values near the fixed/scientific boundaries.
    for base in (1e-4, 1e-5, 1e15, 1e16):
        for _ in range(5):
            vals.append(base * prng.uniform(0.5, 2.0))
    # Typical metric values: ratios of small integers, rounded and unrounded.
    for _ in range(30):
        b = prng.randint(1, 5000)
        vals.append(prng.randint(0, b) / b)
        vals.append(round(prng.random() * 100, prng.randint(0, 6)))
    # Random bit patterns (finite doubles of every magnitude).
    for _ in range(300):
        v = struct.unpack(">d", prng.getrandbits(64).to_bytes(8, "big"))[0]
        if math.isfinite(v):
            vals.append(v)
    # Exact ties between two shortest candidates, where repr rounds half to even (Rust's `{:e}` does not):
    # k + 0.25 and k + 0.75 in [2**50, 2**51), and m * 2**e with a short exact expansion.
    for _ in range(20):
        vals.append(float(prng.randrange(2 ** 50, 2 ** 51)) + prng.choice([0.25, 0.75]))
    ties, others = [], []
    while len(ties) < 150 or len(others) < 150:
        v = prng.randint(1, 2 ** prng.randint(1, 53)) * 2.0 ** prng.randint(-60, 80)
        (ties if is_repr_tie(v) else others).append(v)
    vals += ties[:150] + others[:150]
    cases = []
    for v in vals:
        bits = struct.pack(">d", v).hex()
        cases.append({"bits": bits, "repr": repr(v)})
    return cases


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    print(f"numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}", file=sys.stderr)
    dump("accuracy.json", accuracy_cases())
    dump("correlation.json", correlation_cases())
    dump("macro_prf.json", macro_prf_cases())
    dump("correlation_large.json", generated_cases())
    dump("repr.json", repr_cases())


if __name__ == "__main__":
    main()
