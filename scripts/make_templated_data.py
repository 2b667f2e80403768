#!/usr/bin/env python3
"""Write the project's own templated NSMC-format set into tests/fixtures/templated/nsmc/.

    python3 scripts/make_templated_data.py       # from the repository root

It is the tests' small, fast fixture (tests/fixtures/templated.json trains on it in seconds); the
README demo trains on real NSMC reviews instead (data/demo/nsmc, scripts/make_demo_data.py).

Outputs (deterministic: fixed seed, plain python3, no third-party packages):

* ratings_train.txt (600 rows) and ratings_test.txt (200 rows): `id<TAB>document<TAB>label` with a
  header line, label 1 = positive, 0 = negative, balanced. Every review is a short Korean sentence
  assembled from the hand-written template parts below (subjects, positive and negative predicates in
  several endings, intensifiers, tails, emoji and punctuation, a few contrast sentences and negations).
  No text is taken from NSMC or any other corpus. Texts are unique across both files.
* vocab.txt: a WordPiece vocabulary for a tiny model trained from scratch on this set: the five special
  tokens at ids 0-4, every char of the training texts and its `##` form, then the most frequent whole
  words (split like BERT's BasicTokenizer: whitespace, then punctuation) and the most frequent word
  suffixes as `##` pieces.

The cues are deliberately lexical (predicates and emoji carry the label), so a tiny ELECTRA learns the
set in seconds on a CPU; contrast sentences ("A는 별로였지만 B는 최고였다", labelled by the last
clause) and negations ("재미없지는 않았다" = 1, "좋지는 않았다" = 0) keep it from being a pure lookup.
"""
import os
import random
import unicodedata
from collections import Counter

SEED = 20201026
N_TRAIN, N_TEST = 600, 200
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "templated", "nsmc")
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_WORDS, MIN_WORD_COUNT = 700, 2
MAX_SUFFIXES, MIN_SUFFIX_COUNT = 500, 3

# Noun phrases the reviews talk about; OST is read 오에스티 (no final consonant).
SUBJECTS = [
    "영화", "이 영화", "이번 영화", "스토리", "줄거리", "배우 연기", "주인공 연기", "배우들 연기", "음악", "OST",
    "결말", "마지막 장면", "영상미", "연출", "감독 연출", "대사", "캐릭터", "전개", "액션", "분위기", "반전", "속편",
    "각본", "편집",
]

# Predicate forms: past, present, polite, casual (-음), contrast (-지만), and (-고).
POSITIVE = [
    ("재미있었다", "재미있다", "재미있어요", "재밌음", "재미있었지만", "재미있고"),
    ("최고였다", "최고다", "최고예요", "최고임", "최고였지만", "최고고"),
    ("감동적이었다", "감동적이다", "감동적이에요", "감동적임", "감동적이었지만", "감동적이고"),
    ("훌륭했다", "훌륭하다", "훌륭해요", "훌륭함", "훌륭했지만", "훌륭하고"),
    ("완벽했다", "완벽하다", "완벽해요", "완벽함", "완벽했지만", "완벽하고"),
    ("멋졌다", "멋지다", "멋져요", "멋짐", "멋졌지만", "멋지고"),
    ("좋았다", "좋다", "좋아요", "좋음", "좋았지만", "좋고"),
    ("인상적이었다", "인상적이다", "인상적이에요", "인상적임", "인상적이었지만", "인상적이고"),
    ("아름다웠다", "아름답다", "아름다워요", "아름다움", "아름다웠지만", "아름답고"),
    ("신선했다", "신선하다", "신선해요", "신선함", "신선했지만", "신선하고"),
]
NEGATIVE = [
    ("지루했다", "지루하다", "지루해요", "지루함", "지루했지만", "지루하고"),
    ("별로였다", "별로다", "별로예요", "별로임", "별로였지만", "별로고"),
    ("실망스러웠다", "실망스럽다", "실망스러워요", "실망스러움", "실망스러웠지만", "실망스럽고"),
    ("최악이었다", "최악이다", "최악이에요", "최악임", "최악이었지만", "최악이고"),
    ("엉망이었다", "엉망이다", "엉망이에요", "엉망임", "엉망이었지만", "엉망이고"),
    ("유치했다", "유치하다", "유치해요", "유치함", "유치했지만", "유치하고"),
    ("어색했다", "어색하다", "어색해요", "어색함", "어색했지만", "어색하고"),
    ("뻔했다", "뻔하다", "뻔해요", "뻔함", "뻔했지만", "뻔하고"),
    ("지겨웠다", "지겹다", "지겨워요", "지겨움", "지겨웠지만", "지겹고"),
    ("허술했다", "허술하다", "허술해요", "허술함", "허술했지만", "허술하고"),
]
INTENSIFIERS = ["정말", "너무", "진짜", "완전", "엄청", "아주", "참", "정말 정말", "생각보다", "역시"]
POSITIVE_TAILS = [
    "또 보고 싶다", "또 보고 싶어요", "강추", "강력 추천", "추천합니다", "꼭 보세요", "10점 만점에 10점",
    "시간 가는 줄 몰랐다", "인생 영화", "두 번 봤어요", "극장에서 또 볼래요", "올해 최고의 영화",
]
NEGATIVE_TAILS = [
    "시간 낭비", "시간 낭비였다", "비추", "돈 아깝다", "보지 마세요", "1점도 아깝다", "중간에 나왔다",
    "졸면서 봤다", "다시는 안 본다", "실망했다", "표값이 아깝다", "올해 최악의 영화",
]
POSITIVE_ENDS = ["", "", "!", "!!", "~", ".", " ㅋㅋ", " ㅎㅎ", " 👍", " 😍", " ^^", "!! 👍"]
NEGATIVE_ENDS = ["", "", ".", "...", "!", " ㅡㅡ", " ㅠㅠ", " 😡", " 👎", "..", " 하아", "... 👎"]
# Negated predicates and what they mean overall.
NEGATED = [
    ("재미없지는 않았다", 1), ("나쁘지 않았다", 1), ("나쁘지 않네요", 1), ("실망스럽지 않았다", 1),
    ("지루할 틈이 없었다", 1), ("후회하지 않는다", 1), ("아깝지 않았다", 1), ("기대 이상이었다", 1),
    ("재미있지는 않았다", 0), ("좋지는 않았다", 0), ("기대만큼은 아니었다", 0), ("추천하고 싶지 않다", 0),
    ("감동적이지 않았다", 0), ("볼 만하지 않았다", 0), ("기대 이하였다", 0), ("다시 보고 싶지 않다", 0),
]


def has_final_consonant(noun):
    """True when the last syllable has a batchim (picks 은/는 and 이/가); non-Hangul ends count as vowels."""
    last = ord(noun[-1])
    return 0xAC00 <= last <= 0xD7A3 and (last - 0xAC00) % 28 != 0


def topic(noun):
    return noun + ("은" if has_final_consonant(noun) else "는")


def nominative(noun):
    return noun + ("이" if has_final_consonant(noun) else "가")


def marked(rng, subject):
    return topic(subject) if rng.random() < 0.6 else nominative(subject)


def review(rng, label):
    """One review with the given label (1 positive, 0 negative)."""
    same, other = (POSITIVE, NEGATIVE) if label else (NEGATIVE, POSITIVE)
    tails = POSITIVE_TAILS if label else NEGATIVE_TAILS
    end = rng.choice(POSITIVE_ENDS if label else NEGATIVE_ENDS)
    subj = rng.choice(SUBJECTS)
    pred = rng.choice(same)
    form = rng.choice(pred[:4])
    intens = rng.choice(INTENSIFIERS)
    kind = rng.random()
    if kind < 0.28:  # 배우 연기는 정말 최고였다!
        text = f"{marked(rng, subj)} {intens} {form}"
    elif kind < 0.38:  # 진짜 지루했다 이 영화
        text = f"{intens} {pred[0]} {subj}"
    elif kind < 0.56:  # 스토리가 멋졌다. 강추
        text = f"{marked(rng, subj)} {rng.choice(['', intens + ' '])}{rng.choice(pred[:2])}. {rng.choice(tails)}"
    elif kind < 0.64:  # 비추. 결말이 허술함
        text = f"{rng.choice(tails)}. {marked(rng, subj)} {form}"
    elif kind < 0.78:  # 음악도 좋고 연출도 훌륭했다
        subj2 = rng.choice([s for s in SUBJECTS if s not in subj and subj not in s])
        pred2 = rng.choice(same)
        text = f"{subj}도 {pred[5]} {subj2}도 {intens} {rng.choice(pred2[:4])}"
    elif kind < 0.90:  # 스토리는 뻔했지만 배우 연기는 정말 좋았다 (label = last clause)
        subj2 = rng.choice([s for s in SUBJECTS if s not in subj and subj not in s])
        text = f"{topic(subj)} {rng.choice(other)[4]} {topic(subj2)} {intens} {rng.choice(pred[:3])}"
    else:  # 결말은 재미없지는 않았다 (negations)
        phrase = rng.choice([p for p, lab in NEGATED if lab == label])
        text = f"{rng.choice([topic(subj), '생각보다', '솔직히'])} {phrase}"
    return text + end


def make_reviews(rng, n):
    """n unique reviews, half of each label, shuffled."""
    seen, rows = set(), []
    for label in (1, 0):
        count = 0
        while count < n // 2:
            text = review(rng, label)
            if text in seen:
                continue
            seen.add(text)
            rows.append((text, label))
            count += 1
    rng.shuffle(rows)
    return rows


def is_punctuation(ch):
    """BERT BasicTokenizer's punctuation test (ASCII symbols count too)."""
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def basic_tokenize(text, splits=is_punctuation, drops=lambda ch: False):
    """Whitespace split, then each char for which `splits` holds on its own (default: punctuation),
    chars for which `drops` holds left out (no lowercasing: the vocab is cased)."""
    words = []
    for chunk in text.split():
        current = ""
        for ch in chunk:
            if drops(ch):
                continue
            if splits(ch):
                if current:
                    words.append(current)
                    current = ""
                words.append(ch)
            else:
                current += ch
        if current:
            words.append(current)
    return words


def build_vocab(words, max_words=MAX_WORDS, min_word_count=MIN_WORD_COUNT, max_suffixes=MAX_SUFFIXES,
                min_suffix_count=MIN_SUFFIX_COUNT):
    """WordPiece vocabulary from tokenized words: SPECIALS, every char and its ## form by frequency, the
    frequent whole words, then the frequent word suffixes as ## pieces. make_demo_data.py uses it too."""
    vocab, seen = [], set()

    def add(token):
        if token not in seen:
            seen.add(token)
            vocab.append(token)

    for token in SPECIALS:
        add(token)
    char_counts = Counter(ch for w in words for ch in w)
    chars = sorted(char_counts, key=lambda c: (-char_counts[c], c))
    for ch in chars:
        add(ch)
    for ch in chars:
        add("##" + ch)
    word_counts = Counter(w for w in words if len(w) > 1)
    frequent = [w for w, c in word_counts.items() if c >= min_word_count]
    for word in sorted(frequent, key=lambda w: (-word_counts[w], w))[:max_words]:
        add(word)
    suffix_counts = Counter("##" + w[k:] for w in words for k in range(1, len(w) - 1))
    frequent = [s for s, c in suffix_counts.items() if c >= min_suffix_count]
    for suffix in sorted(frequent, key=lambda s: (-suffix_counts[s], s))[:max_suffixes]:
        add(suffix)
    return vocab


def write_ratings(path, rows, ids):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("id\tdocument\tlabel\n")
        for (text, label), row_id in zip(rows, ids):
            f.write(f"{row_id}\t{text}\t{label}\n")


def main():
    rng = random.Random(SEED)
    rows = make_reviews(rng, N_TRAIN + N_TEST)
    # The label balance holds in each file: split each label's rows 3:1.
    pos = [r for r in rows if r[1] == 1]
    neg = [r for r in rows if r[1] == 0]
    cut_pos, cut_neg = N_TRAIN // 2, N_TRAIN // 2
    train = pos[:cut_pos] + neg[:cut_neg]
    test = pos[cut_pos:] + neg[cut_neg:]
    rng.shuffle(train)
    rng.shuffle(test)
    ids = rng.sample(range(1_000_000, 10_000_000), N_TRAIN + N_TEST)

    vocab = build_vocab([w for t, _ in train for w in basic_tokenize(t)])
    known_chars = {t for t in vocab if len(t) == 1}
    missing = sorted({ch for t, _ in test for w in basic_tokenize(t) for ch in w} - known_chars)
    if missing:
        raise SystemExit(f"test texts use chars missing from the vocab: {missing}")

    os.makedirs(OUT_DIR, exist_ok=True)
    write_ratings(os.path.join(OUT_DIR, "ratings_train.txt"), train, ids[:N_TRAIN])
    write_ratings(os.path.join(OUT_DIR, "ratings_test.txt"), test, ids[N_TRAIN:])
    with open(os.path.join(OUT_DIR, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(vocab) + "\n")
    print(f"train {len(train)}, test {len(test)}, vocab {len(vocab)} tokens -> {os.path.normpath(OUT_DIR)}")


if __name__ == "__main__":
    main()
