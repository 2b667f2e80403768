//! Naver NER: the sentence reader (spec §3, §4.8).
//!
//! A data file has no header; each line is `<words> \t <tags>`, both split on runs of Python whitespace,
//! with the suffix-style tags of [`NAVER_NER_LABELS`]. Where the reference would crash (a line that is
//! not two tab-separated fields, word and tag counts that differ, an unknown tag, a blank line before
//! the end of the file), [`read_examples`] returns a one-line error naming the file and the 1-based
//! line number.

use std::path::Path;

use anyhow::{anyhow, bail, Result};

use super::NAVER_NER_LABELS;
use crate::tasks::reading::{content_lines, decode_text, read_bytes, show};
use crate::text::python::{py_split, py_strip};

/// One sentence: `guid` is `"<split>-<i>"` with `i` the 0-based line index; `labels` are ids into
/// [`NAVER_NER_LABELS`], one per word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NerExample {
    pub guid: String,
    pub words: Vec<String>,
    pub labels: Vec<usize>,
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
