//! The `BasicTokenizer` of transformers 3.3.1, as `get_final_text` builds it to project a SQuAD
//! prediction back onto the original text.
use tokenizers::NormalizedString;

use super::python::split_whitespace;
use super::unicode::{is_bert_punctuation, is_cjk_char, is_mn};

/// `_run_strip_accents`: NFD, then drop the Mn chars.
fn strip_accents(text: &str) -> String {
    let mut n = NormalizedString::from(text);
    n.nfd();
    n.get().chars().filter(|&c| !is_mn(c)).collect()
}

/// `_run_split_on_punc`: every punctuation char is a token; the runs between them are tokens.
fn split_on_punc(text: &str, out: &mut Vec<String>) {
    let mut current = String::new();
    for c in text.chars() {
        if is_bert_punctuation(c) {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            out.push(c.to_string());
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
}

/// transformers 3.3.1 `BasicTokenizer(do_lower_case).tokenize(text)` with no `never_split` (as `get_final_text`
/// builds it), spec §2.4 step 3:
/// * **no** text cleaning: NUL, U+FFFD, control and format chars stay inside words (4.x removes them);
/// * **no** NFC normalization (4.x applies NFC, which composes jamo sequences and maps the CJK compatibility
///   ideographs U+F900–FAFF / U+2F800–2FA1F to unified ones);
/// * spaces around CJK ideographs; split on Python whitespace; when `do_lower_case`, Python `lower()` then
///   NFD and removal of Mn chars; punctuation split (ASCII non-alphanumerics and P*).
pub fn basic_tokenize(text: &str, do_lower_case: bool) -> Vec<String> {
    let mut spaced = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_cjk_char(c) {
            spaced.push(' ');
            spaced.push(c);
            spaced.push(' ');
        } else {
            spaced.push(c);
        }
    }
    let mut split_tokens = Vec::new();
    for token in split_whitespace(&spaced) {
        if do_lower_case {
            let lowered = strip_accents(&token.to_lowercase());
            split_on_punc(&lowered, &mut split_tokens);
        } else {
            split_on_punc(token, &mut split_tokens);
        }
    }
    let joined = split_tokens.join(" ");
    split_whitespace(&joined).map(str::to_string).collect()
}
