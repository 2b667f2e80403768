//! Naver NER: the sentence reader (spec §3, §4.8) and the word-aligned features (spec §5.2).
//!
//! A data file has no header; each line is `<words> \t <tags>`, both split on runs of Python whitespace,
//! with the suffix-style tags of [`NAVER_NER_LABELS`]. Each word is tokenized on its own; its first
//! sub-token carries the tag id and the others get [`IGNORE_INDEX`]. Where the reference would crash (a
//! line that is not two tab-separated fields, word and tag counts that differ, an unknown tag, a blank
//! line before the end of the file), [`read_examples`] returns a one-line error naming the file and the
//! 1-based line number.

use std::path::Path;

use anyhow::{anyhow, bail, Result};

use super::seq_cls::{content_lines, decode_text, is_py_whitespace, py_strip, read_bytes, show};
use super::NAVER_NER_LABELS;
use crate::tokenizer::ElectraTokenizer;

/// Label id of the sub-tokens that carry no tag (`[CLS]`, `[SEP]`, non-first sub-tokens): the loss and
/// the metrics skip it.
pub const IGNORE_INDEX: i64 = -100;

/// One sentence: `guid` is `"<split>-<i>"` with `i` the 0-based line index; `labels` are ids into
/// [`NAVER_NER_LABELS`], one per word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NerExample {
    pub guid: String,
    pub words: Vec<String>,
    pub labels: Vec<usize>,
}

/// One sentence's model input, not padded: `[CLS] sub-tokens [SEP]`. The attention mask is all 1s and the
/// token types all 0s over `input_ids`; `label_ids` has the same length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NerFeature {
    pub input_ids: Vec<i64>,
    pub label_ids: Vec<i64>,
    /// Words whose first sub-token survived the cut to `max_seq_len - 2` sub-tokens; the words after
    /// them are truncated and take part in neither training nor evaluation.
    pub words_kept: usize,
}

/// Reads the `split` file (`"train"`, `"dev"`, `"test"`; used only in the guids) of Naver NER.
///
/// Blank lines at the end of the file are ignored. Errors (one line each, `<path>:<line>: ...`): missing
/// or unreadable file, invalid UTF-8, an empty file, a blank line before the last sentence, a line that is
/// not exactly two tab-separated fields, word and tag counts that differ, an unknown tag.
pub fn read_examples(path: &Path, split: &str) -> Result<Vec<NerExample>> {
    parse_examples(read_bytes(path)?, path, split)
}

/// [`read_examples`] on a file's bytes already in memory (`path` names it in errors).
pub fn parse_examples(bytes: Vec<u8>, path: &Path, split: &str) -> Result<Vec<NerExample>> {
    let shown = path.display();
    let text = decode_text(bytes, path)?;
    let lines = content_lines(&text, path, "one `words<TAB>tags` sentence per line")?;

    let mut examples = Vec::with_capacity(lines.len());
    for (i, raw) in lines.iter().enumerate() {
        let line_no = i + 1;
        let line = py_strip(raw);
        if line.is_empty() {
            bail!("{shown}:{line_no}: empty line (expected `words<TAB>tags`; blank lines are only allowed at the end)");
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [words_field, tags_field] = fields.as_slice() else {
            bail!(
                "{shown}:{line_no}: expected 2 tab-separated fields (words, tags), found {}",
                fields.len()
            );
        };
        let words = py_split(words_field);
        let tags = py_split(tags_field);
        if words.len() != tags.len() {
            bail!(
                "{shown}:{line_no}: {} words but {} tags (each word needs exactly one tag)",
                words.len(),
                tags.len()
            );
        }
        let labels = tags
            .iter()
            .zip(&words)
            .enumerate()
            .map(|(pos, (tag, word))| {
                NAVER_NER_LABELS.iter().position(|l| l == tag).ok_or_else(|| {
                    anyhow!(
                        "{shown}:{line_no}: unknown tag {} for word {} {} (expected one of: {})",
                        show(tag),
                        pos + 1,
                        show(word),
                        NAVER_NER_LABELS.join(", ")
                    )
                })
            })
            .collect::<Result<Vec<usize>>>()?;
        examples.push(NerExample {
            guid: format!("{split}-{i}"),
            words: words.into_iter().map(str::to_string).collect(),
            labels,
        });
    }
    Ok(examples)
}

/// Spec §5.2 features for each example, in order (computed on several threads).
///
/// Each word is tokenized by itself without special tokens; a word that tokenizes to nothing (only
/// control or format chars such as U+00AD) becomes `[UNK]`. The first sub-token of a word gets its tag
/// id, the others [`IGNORE_INDEX`]. More than `max_seq_len - 2` sub-tokens are cut to the first
/// `max_seq_len - 2`; then `[CLS]` and `[SEP]` (both [`IGNORE_INDEX`]) are added.
pub fn build_features(tok: &ElectraTokenizer, examples: &[NerExample], max_seq_len: usize) -> Result<Vec<NerFeature>> {
    if max_seq_len < 3 {
        bail!("max_seq_len {max_seq_len} leaves no room for a word after [CLS] and [SEP] (need at least 3)");
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Small chunks are not worth a thread each.
    let chunk = examples.len().div_ceil(threads).max(256);
    if examples.len() <= chunk {
        return examples.iter().map(|ex| build_feature(tok, ex, max_seq_len)).collect();
    }
    let parts: Vec<Result<Vec<NerFeature>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = examples
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|ex| build_feature(tok, ex, max_seq_len)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a NER feature thread panicked")))
            })
            .collect()
    });
    let mut features = Vec::with_capacity(examples.len());
    for part in parts {
        features.extend(part?);
    }
    Ok(features)
}

/// The features of one sentence (see [`build_features`]).
fn build_feature(tok: &ElectraTokenizer, ex: &NerExample, max_seq_len: usize) -> Result<NerFeature> {
    if ex.words.len() != ex.labels.len() {
        bail!("{}: {} words but {} labels", ex.guid, ex.words.len(), ex.labels.len());
    }
    let budget = max_seq_len - 2;
    let words: Vec<&str> = ex.words.iter().map(String::as_str).collect();
    let pieces = tok.encode_words(&words).map_err(|e| anyhow!("{}: {e:#}", ex.guid))?;
    let mut input_ids = Vec::with_capacity(budget.min(2 * words.len()) + 2);
    let mut label_ids = Vec::with_capacity(input_ids.capacity());
    input_ids.push(tok.cls_id());
    label_ids.push(IGNORE_INDEX);
    let mut words_kept = 0;
    for (ids, &label) in pieces.iter().zip(&ex.labels) {
        let unk = [tok.unk_id()];
        let ids = if ids.is_empty() { &unk[..] } else { ids.as_slice() };
        let room = budget - (input_ids.len() - 1);
        if room == 0 {
            break;
        }
        let label = i64::try_from(label).map_err(|_| anyhow!("{}: label id {label} out of range", ex.guid))?;
        words_kept += 1;
        for (k, &id) in ids.iter().take(room).enumerate() {
            input_ids.push(id);
            label_ids.push(if k == 0 { label } else { IGNORE_INDEX });
        }
    }
    input_ids.push(tok.sep_id());
    label_ids.push(IGNORE_INDEX);
    Ok(NerFeature {
        input_ids,
        label_ids,
        words_kept,
    })
}

/// Python's `str.split()` with no argument: split on runs of Python whitespace, no empty pieces.
pub fn py_split(s: &str) -> Vec<&str> {
    s.split(is_py_whitespace).filter(|p| !p.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_split() {
        assert_eq!(py_split("  a \u{1c}b\u{3000}c  "), ["a", "b", "c"]);
        assert_eq!(py_split("a\u{ad}b \u{200b}"), ["a\u{ad}b", "\u{200b}"]);
        assert!(py_split(" \u{85} ").is_empty());
    }

    #[test]
    fn show_escapes_and_shortens() {
        assert_eq!(show("a\u{1c}b"), "\"a\\u{1c}b\"");
        assert!(show(&"가".repeat(100)).ends_with("… (100 chars)"));
    }
}
