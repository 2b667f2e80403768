#!/usr/bin/env python3
"""Write tests/fixtures/tokenizer/cases.json: HF ElectraTokenizerFast ids for varied inputs.

Run from the repository root with the repo venv (transformers installed):

    .venv/bin/python scripts/make_tokenizer_fixtures.py

Every input is encoded with `ElectraTokenizerFast(vocab_file=..., do_lower_case=...)` and
`truncation=True, max_length=N`; single inputs also record the ids and (char) offsets of the
text tokenized alone without special tokens or truncation. Inputs are the same for both
KoELECTRA vocabularies (v3 and v1, cased); a smaller set uses do_lower_case=True. The random
part uses a fixed seed, so rerunning gives the same file for the same transformers version.
"""
import json
import os
import random
import sys

import tokenizers
import transformers
from transformers import ElectraTokenizerFast

SEED = 20240611
VOCABS = ["../shared/vocab/koelectra-v3-vocab.txt", "../shared/vocab/koelectra-v1-vocab.txt"]
OUT = "tests/fixtures/tokenizer/cases.json"

HANGUL = [
    "안녕하세요", "한국어", "자연어", "처리", "모델", "학습", "데이터", "영화", "정말", "재미있다",
    "재밌어요", "최고", "별로", "ㅋㅋㅋ", "ㅠㅠ", "ㅎㅎ", "대한민국", "서울특별시", "부산", "김치찌개",
    "먹었다", "는", "은", "이", "가", "을", "를", "에서", "으로", "했습니다", "그리고", "하지만",
    "뷁", "똠양꿍", "갹", "햏", "ㄱ", "ㅏ", "ᄀ", "ᅡ", "ᆨ",  # rare syllables, compat and conjoining jamo
]
HANJA = ["漢字", "大韓民國", "故", "中國", "日本", "學校", "𠀀", "豈", "㐀", "金"]
LATIN = [
    "Hello", "WORLD", "iPhone", "ELECTRA", "KoELECTRA", "transformer", "BERT", "naïve", "café",
    "Ångström", "straße", "ﬁne", "Ｆｕｌｌ", "ǅ", "İstanbul", "Σίσυφος", "Москва", "x", "A",
]
DIGITS = ["2024", "3.14", "1,000,000", "010-1234-5678", "１２３", "٣", "½", "2020년", "10%", "1e-5"]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + [
    "…", "·", "「", "」", "《", "》", "“", "”", "‘", "’", "～", "—", "€", "₩", "※", "★", "♥",
    "。", "、", "！", "？", "¿", "¡", "§", "°",
]
EMOJI = ["😀", "👍🏽", "👨\u200d👩\u200d👧", "🇰🇷", "❤️", "🤖", "☕", "😂😂"]
INVISIBLE = [
    "\u200b", "\u200e", "\ufeff", "\u0000", "\u0008", "\u001c", "\u00ad", "\u200d", "\u2028",
    "\u0085", "\ufffd", "\u0007", "\u001f", "\u007f", "\u0301",
]
SPACES = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2002", "\u2009", "\u202f", "\u1680"]
SPECIAL = [
    "[SEP]", "[CLS]", "[PAD]", "[UNK]", "[MASK]", "[sep]", "[ SEP ]", "[SEP][SEP]", "x[SEP]y",
    "[unused0]", "[unused199]", "##", "##가", "[SEP",
]

HAND = [
    "",
    " ",
    "   \t\n ",
    "\u00a0\u3000",
    "\u200b",
    "\u0000",
    "\ufeff\u200e\u200b",
    "한국어 텍스트입니다.",
    "굳 ㅋ",
    "GDNTOPCLASSINTHECLUB",
    "이 영화 진짜 최고!!! 👍👍",
    "漢字와 한글이 섞인 文章",
    "Hello, World! 안녕?",
    "[CLS] 안녕 [SEP] 세상 [SEP]",
    "안녕[SEP]세상",
    "안녕 [sep] 세상",
    "[MASK]는 가면이다",
    "[UNK][PAD][CLS]",
    "soft\u00adhyphen 소프트\u00ad하이픈",
    "zero\u200bwidth 제로\u200b폭",
    "bidi\u200emark",
    "bom\ufeffinside",
    "nul\u0000char",
    "back\u0008space",
    "file\u001csep",
    "탭\t구분\t텍스트",
    "줄\n바꿈\r\n문자",
    "non\u00a0breaking\u00a0space",
    "ideographic\u3000space 전각\u3000공백",
    "가" * 100,
    "가" * 101,
    "a" * 100,
    "a" * 101,
    "가나다" * 40 + " 짧은 단어",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "ｶﾀｶﾅ カタカナ ひらがな",
    "e\u0301 é",  # combining accent vs precomposed
    "한\u0301글",
    "ᄒᆞᆫ글 옛한글",
    "𠀀𠀁 CJK ext B",
    "😀😀😀",
    "👨\u200d👩\u200d👧 family",
    "$100 + 50 = <150> ^_^ `code` |pipe| ~tilde~",
    "email@example.com http://www.naver.com/path?q=1&r=2",
    "...!?!?...",
    "010-1234-5678로 전화주세요",
    "2019년 3월 1일 오후 3시 30분",
    "KoELECTRA-Base-v3는 35000개의 어휘를 가진다",
    "\t leading and trailing \n",
    "UPPER lower MiXeD",
    "İIıi ß ẞ",
    "\ud55c\uad6d",  # 한국 via escapes
    "ㄱㄴㄷㄹ ㅏㅑㅓㅕ",
    "ᄀᄂᄃ conjoining jamo",
    "#해시태그 @멘션",
    "(괄호) [대괄호] {중괄호} <꺾쇠>",
    "「인용」 『겹낫표』 《책》 〈편〉",
    "‘작은따옴표’ “큰따옴표”",
    "a\u0301\u0302\u0303",
    "\u2028line sep\u2029para sep",
    "\u0085next line",
    "tab\u000bvt\u000cff",
    "\ufffd replacement",
    "[unused5] [unused0]",
]


def load_vocab_words(path):
    with open(path, encoding="utf-8") as f:
        toks = [t.rstrip("\n") for t in f]
    whole = [t for t in toks if t and not t.startswith("##") and not t.startswith("[")]
    hangul_whole = [t for t in whole if all("\uac00" <= c <= "\ud7a3" for c in t)]
    return whole, hangul_whole


def random_text(rng, whole, max_frags):
    pools = [
        (HANGUL, 8), (whole, 10), (HANJA, 2), (LATIN, 3), (DIGITS, 2), (PUNCT, 3),
        (EMOJI, 1), (INVISIBLE, 1), (SPECIAL, 1), (SPACES, 1),
    ]
    weights = [w for _, w in pools]
    n = rng.randint(0, max_frags)
    out = []
    for _ in range(n):
        pool = rng.choices(pools, weights)[0][0]
        frag = rng.choice(pool)
        if pool is whole and rng.random() < 0.2:
            frag = frag + rng.choice(whole)  # glue two vocab words: exercises ## pieces
        if pool is LATIN and rng.random() < 0.3:
            frag = rng.choice([frag.upper(), frag.lower(), frag.title()])
        out.append(frag)
        out.append(rng.choices([" ", "", "\u00a0", "\t", "\n"], [10, 3, 1, 1, 1])[0])
    return "".join(out)


def tokens_text(rng, hangul_whole, k):
    """k Hangul vocab words separated by spaces: exactly k tokens each."""
    return " ".join(rng.choice(hangul_whole) for _ in range(k))


def build_inputs(rng, whole, hangul_whole):
    singles = list(HAND)
    singles += [random_text(rng, whole, 12) for _ in range(200)]
    singles += [random_text(rng, whole, 80) for _ in range(30)]
    pairs = []
    for _ in range(110):
        a = random_text(rng, whole, rng.choice([3, 10, 40, 90]))
        b = random_text(rng, whole, rng.choice([3, 10, 40, 90]))
        pairs.append((a, b))
    pairs += [("", ""), ("", "b"), ("a", ""), (" ", "\u200b"), ("[SEP]", "[CLS]")]
    pairs += [(s, s) for s in rng.sample(singles[60:], 10)]  # identical texts: exact ties
    # Ties and near-ties in token count, around every truncation budget.
    for ka, kb in [
        (7, 7), (8, 8), (6, 7), (7, 6), (14, 14), (15, 15), (14, 15), (15, 14), (13, 1),
        (1, 13), (20, 20), (40, 40), (63, 63), (62, 63), (63, 62), (70, 70), (100, 100),
        (100, 3), (3, 100), (64, 64), (65, 64), (200, 200), (120, 10), (10, 120),
    ]:
        pairs.append((tokens_text(rng, hangul_whole, ka), tokens_text(rng, hangul_whole, kb)))
    return singles, pairs


def encode(tok, a, b, max_length):
    # Batch form on purpose: HF's single-call form silently drops an empty text_pair
    # (`if text_pair` in PreTrainedTokenizerFast._encode_plus), while batches, the
    # `tokenizers` library and the reference (transformers 3.3.1 batch_encode_plus) keep
    # `[CLS] a [SEP] [SEP]`. Our `encode(a, Some(""), n)` follows the batch form.
    enc = tok([a], None if b is None else [b], truncation=True, max_length=max_length)
    return {
        "input_ids": enc["input_ids"][0],
        "token_type_ids": enc["token_type_ids"][0],
        "attention_mask": enc["attention_mask"][0],
    }


def tie_like(a, b, tok):
    """True when the two texts are within one token of each other (tie-breaking matters)."""
    na = len(tok(a, add_special_tokens=False)["input_ids"])
    nb = len(tok(b, add_special_tokens=False)["input_ids"])
    return abs(na - nb) <= 1


def make_set(vocab, lower, singles, pairs):
    tok = ElectraTokenizerFast(vocab_file=vocab, do_lower_case=lower)
    cases = []
    for i, a in enumerate(singles):
        for ml in [512] + ([16, 32] if i % 3 == 0 else []):
            case = {"a": a, "b": None, "max_length": ml, **encode(tok, a, None, ml)}
            if ml == 512:
                raw = tok(a, add_special_tokens=False, return_offsets_mapping=True)
                case["raw_ids"] = raw["input_ids"]
                case["raw_offsets"] = [list(o) for o in raw["offset_mapping"]]
            cases.append(case)
    for a, b in pairs:
        # 15/31/127 give even pair budgets (12/28/124), 16/32/128 odd ones (13/29/125).
        for ml in [15, 16, 31, 32, 127, 128] if tie_like(a, b, tok) else [16, 32, 128]:
            cases.append({"a": a, "b": b, "max_length": ml, **encode(tok, a, b, ml)})
    return {
        "vocab": vocab,
        "do_lower_case": lower,
        "n_inputs": len(singles) + len(pairs),
        "cases": cases,
    }


def main():
    if not os.path.isdir("tests/fixtures"):
        sys.exit("run from the repository root")
    rng = random.Random(SEED)
    whole, hangul_whole = load_vocab_words(VOCABS[0])
    singles, pairs = build_inputs(rng, whole, hangul_whole)
    sets = [make_set(v, False, singles, pairs) for v in VOCABS]
    lower_singles = HAND[7:30] + ["ÀÉÎÕÜ àéîõü", "CAFÉ Café café", "ΣΊΣΥΦΟΣ", "İSTANBUL"]
    lower_pairs = pairs[:5] + pairs[-6:]
    sets.append(make_set(VOCABS[0], True, lower_singles, lower_pairs))
    doc = {
        "generator": "scripts/make_tokenizer_fixtures.py",
        "seed": SEED,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "tokenizer": "ElectraTokenizerFast(vocab_file=vocab, do_lower_case=...); "
        "tok([a], [b] or None, truncation=True, max_length=max_length) (batch form: an empty "
        "b stays a pair); raw_* = "
        "tok(a, add_special_tokens=False, return_offsets_mapping=True)",
        "sets": sets,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    n = sum(len(s["cases"]) for s in sets)
    print(f"wrote {OUT}: {len(sets)} sets, {n} cases "
          f"({len(singles)} single + {len(pairs)} pair inputs per cased vocab)")


if __name__ == "__main__":
    main()
