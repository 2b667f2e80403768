#!/usr/bin/env python3
"""Write tests/fixtures/sp/: small SentencePiece models in the KoBERT and XLM-R hub layouts.

Run from the repository root with the repo venv (sentencepiece 0.2.3, transformers 4.57.6,
kobert-transformers 0.6.0; converting the slow XLM-R tokenizer to tokenizer.json also needs the
`protobuf` package, which the tests do not):

    .venv/bin/python scripts/make_sp_fixtures.py

`--rust-tables` instead prints the Python Unicode tables at the end of src/text/kobert.rs.

What it writes (all from ../shared/data; training is single-threaded with a fixed seed and no
shuffling, so a rerun gives the same files for the same sentencepiece version):

* `kobert/`: a Unigram model (vocab 3000, nmt_nfkc, the defaults otherwise: <unk>=0, <s>=1,
  </s>=2) trained on the NSMC test reviews and the KorQuAD dev contexts, saved as
  `tokenizer_78b3253a26.model`, with a KoBERT-style `vocab.txt`: [UNK] [PAD] [CLS] [SEP] [MASK],
  then the model's pieces sorted by string, so line numbers differ from sentencepiece ids; three
  pieces are left out of vocab.txt on purpose (they must map to [UNK]'s line, as in
  KoBertTokenizer); plus a `tokenizer_config.json`.
* `xlmr/`: what `XLMRobertaTokenizerFast` (converted from `XLMRobertaTokenizer` over the same
  model) saves: `tokenizer.json` (minified: same JSON, half the bytes), `tokenizer_config.json`, `special_tokens_map.json`, and
  `sentencepiece.bpe.model`, committed as a relative symlink to the KoBERT model (the same
  bytes; it keeps the fixtures under 1 MB).
* `udf.model`: a tiny model (vocab 1000, identity normalization) with user-defined symbols
  `ㅋㅋ` and `...`; `raw.model`: a tiny one with add_dummy_prefix, remove_extra_whitespaces off
  and treat_whitespace_as_suffix on. Both check the sentencepiece engine itself.
* `cases.json`: edge-case inputs (singles and pairs: rare and decomposed Hangul, digits with
  commas, quotes, special-token strings, odd whitespace, emoji, invisible characters); the tests
  run every reference on them at test time.
"""
import json
import os
import random
import shutil
import sys
import unicodedata

for _k in ("USE_TORCH", "USE_TF", "USE_FLAX"):
    os.environ.setdefault(_k, "0")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import sentencepiece as spm  # noqa: E402
from transformers import XLMRobertaTokenizerFast  # noqa: E402


OUT = "tests/fixtures/sp"
DATA = "../shared/data"
KOBERT_MODEL = "tokenizer_78b3253a26.model"
SEED = 20240611
SPECIALS = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]


def training_texts():
    texts = []
    with open(f"{DATA}/nsmc/ratings_test.txt", encoding="utf-8") as f:
        for line in f.read().splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) > 1 and cols[1].strip():
                texts.append(cols[1])
    with open(f"{DATA}/korquad/KorQuAD_v1.0_dev.json", encoding="utf-8") as f:
        doc = json.load(f)
    for article in doc["data"]:
        for para in article["paragraphs"]:
            texts.append(para["context"])
    return texts


def train(texts, prefix, **kw):
    spm.set_random_generator_seed(SEED)
    opts = dict(
        model_type="unigram",
        character_coverage=0.9995,
        num_threads=1,
        shuffle_input_sentence=False,
        input_sentence_size=0,
        minloglevel=2,
    )
    opts.update(kw)
    spm.SentencePieceTrainer.train(sentence_iterator=iter(texts), model_prefix=prefix, **opts)
    os.remove(prefix + ".vocab")
    return prefix + ".model"


def kobert_vocab(model_path):
    sp = spm.SentencePieceProcessor(model_file=model_path)
    pieces = [
        sp.id_to_piece(i)
        for i in range(len(sp))
        if not (sp.is_unknown(i) or sp.is_control(i))
    ]
    pieces.sort()
    # Left out on purpose: known to sentencepiece, unknown to vocab.txt -> [UNK]'s line.
    common = [p for p in ("▁영화", "▁정말", "▁이") if p in pieces]
    assert len(common) == 3, common
    pieces = [p for p in pieces if p not in common]
    return SPECIALS + pieces


def edge_cases():
    rng = random.Random(SEED)
    hangul = ["안녕하세요", "한국어", "영화", "정말", "재밌어요", "ㅋㅋㅋ", "ㅠㅠ", "뷁", "똠양꿍", "햏",
              "ㄱ", "ㅏ", "ᄀ", "ᅡ", "ᆨ", "대한민국", "이", "최고"]
    nfd = [unicodedata.normalize("NFD", s) for s in ("한국어", "안녕하세요 세계", "뷁")]
    other = ["Hello", "WORLD", "naïve", "café", "Ångström", "straße", "ﬁne", "Ｆｕｌｌ", "İstanbul",
             "Москва", "漢字", "大韓民國", "𠀀", "豈", "㈜", "①", "㎏", "½", "²"]
    digits = ["2024", "3.14", "1,000,000", "10,", "1,", "a1,", "٣,", "１,", "①,", "2,000원", "12,34,"]
    punct = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["``", "''", "```", "'''", "…", "·", "「", "“", "”",
                                                     "～", "—", "₩", "★", "♥", "。", "！"]
    emoji = ["😀", "👍🏽", "👨\u200d👩\u200d👧", "🇰🇷", "❤️", "😂😂"]
    invisible = ["\u200b", "\u200e", "\ufeff", "\u00ad", "\u200d", "\u0301", "\ufffd", "\u0007", "\u007f"]
    spaces = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2002", "\u202f", "\u1680", "\u001c"]
    specials = ["[SEP]", "[CLS]", "[UNK]", "[MASK]", "[PAD]", "<s>", "</s>", "<unk>", "<pad>", "<mask>",
                "x[SEP]y", "a <mask> b", "a<mask>b", "[MASK][MASK]", "<s></s>", "▁", "▁▁a", "ㅋㅋ", "..."]
    hand = [
        "", " ", "   \t\n ", "\u00a0\u3000", "\u200b", "a", "가", "  앞뒤 공백  ", "여러    칸   띄움",
        "영화가 정말 재밌어요!!", "1,000,000원입니다.", "가격은 12,000, 할인 3,000,", "``인용''",
        "Hello, world! 안녕, 세상!", "ＡＢＣ １２３ ㈜한국", "ﾊﾝｶｸ ｶﾀｶﾅ", "e\u0301cole", "한\u200b국",
    ] + nfd
    pool = hangul + nfd + other + digits + punct + emoji + invisible + specials
    cases = [(t, None) for t in hand + pool + spaces]
    for _ in range(120):
        parts = []
        for _ in range(rng.randint(1, 8)):
            parts.append(rng.choice(pool))
            parts.append(rng.choice(spaces + [""] * 6 + [" "] * 6))
        cases.append(("".join(parts), None))
    for _ in range(60):
        a = " ".join(rng.choice(hangul + other + digits) for _ in range(rng.randint(0, 12)))
        b = " ".join(rng.choice(hangul + other + punct) for _ in range(rng.randint(0, 12)))
        cases.append((a, b))
    return cases


def rust_tables() -> str:
    """The Python 3.11 (`unicodedata` 14.0.0) tables src/text/kobert.rs needs, as Rust source."""

    def ranges(pred):
        out, start = [], None
        for cp in range(0x110001):
            ok = cp < 0x110000 and pred(chr(cp))
            if ok and start is None:
                start = cp
            elif not ok and start is not None:
                out.append((start, cp - 1))
                start = None
        return out

    def table(name, doc, rs):
        body = ", ".join(f"0x{a:X}, 0x{b:X}" for a, b in rs)
        return f"/// {doc}\npub(crate) const {name}: [u32; {2 * len(rs)}] = [{body}];\n"

    return (
        f"// Generated by scripts/make_sp_fixtures.py --rust-tables (Python unicodedata {unicodedata.unidata_version}).\n"
        + table("PY_DIGIT", "Inclusive code-point ranges (lo, hi pairs) where `str.isdigit()` is true.",
                ranges(str.isdigit))
        + table("PY_COMBINING", "Inclusive code-point ranges where `unicodedata.combining(c) != 0`.",
                ranges(lambda c: unicodedata.combining(c) != 0))
        + table("PY_UNASSIGNED", "Inclusive code-point ranges of general category Cn (NFKD leaves them alone).",
                ranges(lambda c: unicodedata.category(c) == "Cn"))
    )


def main() -> None:
    if sys.argv[1:] == ["--rust-tables"]:
        sys.stdout.write(rust_tables())
        return
    try:
        import google.protobuf  # noqa: F401  (transformers' slow->fast converter needs it)
    except ImportError:
        raise SystemExit("make_sp_fixtures.py: needs the protobuf package (.venv/bin/pip install protobuf)")
    os.makedirs(OUT, exist_ok=True)
    texts = training_texts()

    kdir = f"{OUT}/kobert"
    shutil.rmtree(kdir, ignore_errors=True)
    os.makedirs(kdir)
    model = train(texts, f"{OUT}/main", vocab_size=3000)
    os.replace(model, f"{kdir}/{KOBERT_MODEL}")
    with open(f"{kdir}/vocab.txt", "w", encoding="utf-8") as f:
        for tok in kobert_vocab(f"{kdir}/{KOBERT_MODEL}"):
            f.write(tok + "\n")
    with open(f"{kdir}/tokenizer_config.json", "w", encoding="utf-8") as f:
        json.dump({"do_lower_case": False, "tokenizer_class": "KoBertTokenizer", "model_max_length": 512}, f, indent=2)
        f.write("\n")

    xdir = f"{OUT}/xlmr"
    shutil.rmtree(xdir, ignore_errors=True)
    # Converted from the slow tokenizer (transformers.convert_slow_tokenizer.XLMRobertaConverter).
    fast = XLMRobertaTokenizerFast(vocab_file=f"{kdir}/{KOBERT_MODEL}")
    fast.save_pretrained(xdir)
    for name in os.listdir(xdir):
        if name not in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "sentencepiece.bpe.model"):
            os.remove(f"{xdir}/{name}")
    os.remove(f"{xdir}/sentencepiece.bpe.model")
    os.symlink(f"../kobert/{KOBERT_MODEL}", f"{xdir}/sentencepiece.bpe.model")

    small = texts[:4000]
    train(small, f"{OUT}/udf", vocab_size=1000, normalization_rule_name="identity", hard_vocab_limit=False,
          user_defined_symbols=["ㅋㅋ", "..."], character_coverage=0.98)
    train(small, f"{OUT}/raw", vocab_size=1000, normalization_rule_name="identity", add_dummy_prefix=False, hard_vocab_limit=False,
          remove_extra_whitespaces=False, treat_whitespace_as_suffix=True, character_coverage=0.98)

    # HF's own output, minified (same content, less than half the bytes).
    with open(f"{xdir}/tokenizer.json", encoding="utf-8") as f:
        tj = json.load(f)
    with open(f"{xdir}/tokenizer.json", "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False, separators=(",", ":"))

    # Inputs only: the tests run the references on them at test time (scripts/hf_tokenize_sp.py).
    cases = [{"a": a, "b": b} for a, b in edge_cases()]
    with open(f"{OUT}/cases.json", "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=0)
        f.write("\n")
    total = 0
    for root, _, files in os.walk(OUT):
        for name in files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    print(f"wrote {OUT}: {len(cases)} edge cases, {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
