//! Readers for the sequence-classification tasks: nsmc, kornli, paws, question-pair, korsts and
//! hate-speech (spec §3 and §4.1–4.7).
//!
//! The reference reads each file as UTF-8 text with universal newlines, strips every line of Python
//! whitespace, splits it on the literal tab (no CSV quoting: `"` is an ordinary char), skips the header
//! line and numbers the remaining lines `<split>-<i>`. The column layout and the label map of each task
//! live in [`super::SPECS`]. Where the reference would crash (a short row, an unknown label, a score that is
//! not a number), this module returns a one-line error naming the file, the 1-based line number and the
//! offending value.

use std::path::Path;

use anyhow::{anyhow, bail, Result};

use super::{task_spec, LabelKind};
use crate::tasks::reading::{content_lines, decode_text, read_bytes, show};
use crate::text::python::py_strip;

/// The gold label of one example.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Label {
    /// Class id: the label string's index in the task's label list.
    Class(usize),
    /// Regression target (KorSTS score, 0–5, not rescaled), parsed as a double and stored as f32.
    Score(f32),
}

/// One example: `guid` is `"<split>-<i>"`, where `i` counts the lines after the header (skipped rows
/// included).
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub guid: String,
    pub text_a: String,
    pub text_b: Option<String>,
    pub label: Label,
}

/// What [`read_examples`] read: the examples in file order and the number of rows skipped because a
/// text was empty (PAWS and question-pair only).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadReport {
    pub examples: Vec<Example>,
    pub skipped: usize,
}

/// Reads the `split` file (`"train"`, `"dev"`, `"test"`; used only in the guids) of a seq-cls task.
///
/// A header-only file gives zero examples. Errors (one line each, `<path>:<line>: ...`): missing or
/// unreadable file, invalid UTF-8, an empty file, a row with too few columns (an empty line before the
/// end of the file counts as one), an unknown label, a score that is not a finite number.
pub fn read_examples(task: &str, path: &Path, split: &str) -> Result<ReadReport> {
    task_spec(task)?;
    parse_examples(task, read_bytes(path)?, path, split)
}

/// [`read_examples`] on a file's bytes already in memory (`path` names it in errors).
pub fn parse_examples(task: &str, bytes: Vec<u8>, path: &Path, split: &str) -> Result<ReadReport> {
    let spec = task_spec(task)?;
    let shown = path.display();
    let text = decode_text(bytes, path)?;
    let lines = content_lines(&text, path, "a header line")?;
    let rows = lines.get(1..).unwrap_or_default();

    let min_cols = spec.min_columns();
    let mut examples = Vec::with_capacity(rows.len());
    let mut skipped = 0;
    for (i, raw) in rows.iter().enumerate() {
        let line_no = i + 2;
        let line = py_strip(raw);
        let fields: Vec<&str> = line.split('\t').collect();
        if line.is_empty() {
            bail!("{shown}:{line_no}: empty line (expected at least {min_cols} tab-separated columns)");
        }
        if fields.len() < min_cols {
            bail!(
                "{shown}:{line_no}: expected at least {min_cols} tab-separated columns, found {}",
                fields.len()
            );
        }
        let field = |col: usize| fields.get(col).copied().unwrap_or("");
        let text_a = field(spec.text_a_col);
        let text_b = spec.text_b_col.map(field);
        if spec.skip_empty_text && (text_a.is_empty() || text_b.is_some_and(str::is_empty)) {
            skipped += 1;
            continue;
        }
        let raw_label = field(spec.label_col);
        let column = spec.label_col + 1;
        let label = match spec.labels {
            LabelKind::Classes(names) => match names.iter().position(|n| *n == raw_label) {
                Some(id) => Label::Class(id),
                None => bail!(
                    "{shown}:{line_no}: unknown label {} in column {column} (expected one of: {})",
                    show(raw_label),
                    names.join(", ")
                ),
            },
            LabelKind::Regression => Label::Score(
                parse_score(raw_label)
                    .map_err(|why| anyhow!("{shown}:{line_no}: score {} in column {column} {why}", show(raw_label)))?,
            ),
        };
        examples.push(Example {
            guid: format!("{split}-{i}"),
            text_a: text_a.to_string(),
            text_b: text_b.map(str::to_string),
            label,
        });
    }
    Ok(ReadReport { examples, skipped })
}

/// Python `float(s)` then float32, refusing what is not finite after the cast.
fn parse_score(s: &str) -> std::result::Result<f32, &'static str> {
    let value: f64 = py_strip(s).parse().map_err(|_| "is not a number")?;
    let value = value as f32;
    if value.is_finite() {
        Ok(value)
    } else {
        Err("is not a finite number")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores() {
        assert_eq!(parse_score("5.000"), Ok(5.0));
        assert_eq!(parse_score(" 3.8 "), Ok(3.8));
        assert!(parse_score("nan").is_err() && parse_score("inf").is_err() && parse_score("1e300").is_err());
        assert!(parse_score("").is_err() && parse_score("abc").is_err());
    }
}
