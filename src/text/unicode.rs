//! Character classes of Python 3.11 and of BERT's tokenizer, over the generated tables in
//! [`super::unicode_tables`].
use super::unicode_tables::{MN, PUNCT_P, PY_WORD};

/// Whether `cp` lies in one of `table`'s ranges (a generated table of inclusive lo, hi pairs).
pub(crate) fn in_ranges(table: &[u32], cp: u32) -> bool {
    // `table` holds inclusive (lo, hi) pairs, sorted and disjoint.
    let (mut lo, mut hi) = (0usize, table.len() / 2);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if table[2 * mid] <= cp {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo > 0 && cp <= table[2 * (lo - 1) + 1]
}

/// BERT's `_is_punctuation`: ASCII 33–47, 58–64, 91–96, 123–126, or general category P* (Unicode 14).
pub fn is_bert_punctuation(c: char) -> bool {
    let cp = c as u32;
    if (33..=47).contains(&cp) || (58..=64).contains(&cp) || (91..=96).contains(&cp) || (123..=126).contains(&cp) {
        return true;
    }
    cp >= 0x80 && in_ranges(&PUNCT_P, cp)
}

/// BERT's `_is_chinese_char` (CJK ideograph blocks; Hangul is not in them).
pub fn is_cjk_char(c: char) -> bool {
    matches!(
        c as u32,
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B820..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

/// General category Mn (Unicode 14).
pub fn is_mn(c: char) -> bool {
    in_ranges(&MN, c as u32)
}

/// Python `re` `\w` on str patterns: `str.isalnum()` or `_` (Unicode 14).
pub fn is_py_word_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric() || (c as u32 >= 0x80 && in_ranges(&PY_WORD, c as u32))
}
