//! Readers for the sequence-classification tasks: nsmc, kornli, paws, question-pair, korsts and
//! hate-speech (spec §3 and §4.1–4.7).
//!
//! The reference reads each file as UTF-8 text with universal newlines, strips every line of Python
//! whitespace, splits it on the literal tab (no CSV quoting: `"` is an ordinary char), skips the header
//! line and numbers the remaining lines `<split>-<i>`. The column layout and the label map of each task
//! live in [`task_spec`]. Where the reference would crash (a short row, an unknown label, a score that is
//! not a number), this module returns a one-line error naming the file, the 1-based line number and the
//! offending value.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{anyhow, bail, Result};

/// The tasks this module reads, in the reference's order.
pub const SEQ_CLS_TASKS: [&str; 6] = ["nsmc", "kornli", "paws", "question-pair", "korsts", "hate-speech"];

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

/// How a task's label column is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    /// Label strings in id order, compared as exact strings.
    Classes(&'static [&'static str]),
    /// A float score; the model has one output and an MSE loss.
    Regression,
}

/// Where a task's fields are in its TSV files (0-based columns) and how its labels map to ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskSpec {
    pub task: &'static str,
    pub text_a_col: usize,
    pub text_b_col: Option<usize>,
    pub label_col: usize,
    pub labels: LabelKind,
    /// Rows whose text_a or text_b is empty are skipped (PAWS, question-pair); others keep them.
    pub skip_empty_text: bool,
}

const BINARY: &[&str] = &["0", "1"];
const NLI: &[&str] = &["contradiction", "entailment", "neutral"];
const HATE: &[&str] = &["none", "offensive", "hate"];

impl TaskSpec {
    /// The fewest tab-separated columns a data row must have.
    pub fn min_columns(&self) -> usize {
        let b = self.text_b_col.unwrap_or(0);
        self.text_a_col.max(b).max(self.label_col) + 1
    }

    /// Model outputs: the number of classes, or 1 for regression.
    pub fn num_labels(&self) -> usize {
        match self.labels {
            LabelKind::Classes(names) => names.len(),
            LabelKind::Regression => 1,
        }
    }

    /// Label strings in id order (empty for regression).
    pub fn label_names(&self) -> &'static [&'static str] {
        match self.labels {
            LabelKind::Classes(names) => names,
            LabelKind::Regression => &[],
        }
    }

    pub fn is_regression(&self) -> bool {
        self.labels == LabelKind::Regression
    }
}

/// The column table of spec §4.1 for one seq-cls task.
pub fn task_spec(task: &str) -> Result<TaskSpec> {
    let spec = |task, text_a_col, text_b_col, label_col, labels, skip_empty_text| TaskSpec {
        task,
        text_a_col,
        text_b_col,
        label_col,
        labels,
        skip_empty_text,
    };
    Ok(match task {
        "nsmc" => spec("nsmc", 1, None, 2, LabelKind::Classes(BINARY), false),
        "kornli" => spec("kornli", 0, Some(1), 2, LabelKind::Classes(NLI), false),
        "paws" => spec("paws", 1, Some(2), 3, LabelKind::Classes(BINARY), true),
        "question-pair" => spec("question-pair", 0, Some(1), 2, LabelKind::Classes(BINARY), true),
        "korsts" => spec("korsts", 5, Some(6), 4, LabelKind::Regression, false),
        "hate-speech" => spec("hate-speech", 1, None, 3, LabelKind::Classes(HATE), false),
        other => bail!(
            "\"{other}\" is not a sequence-classification task (expected one of: {})",
            SEQ_CLS_TASKS.join(", ")
        ),
    })
}

/// True for the regression task (korsts); false for classification and unknown tasks.
pub fn is_regression(task: &str) -> bool {
    task_spec(task).map(|s| s.is_regression()).unwrap_or(false)
}

/// Python's `str.isspace()`: Rust's `char::is_whitespace` plus U+001C–U+001F.
pub fn is_py_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{d}'
            | '\u{1c}'..='\u{20}'
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// Python's `str.strip()` with no argument.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_whitespace)
}

/// Lines as Python's universal-newline text mode yields them: `\n`, `\r\n` and `\r` each end a line, and
/// a final line terminator does not start another (empty) line.
pub fn universal_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\r', '\n']) {
            None => {
                lines.push(rest);
                break;
            }
            Some(pos) => {
                let (line, tail) = rest.split_at(pos);
                lines.push(line);
                rest = tail.strip_prefix("\r\n").or_else(|| tail.get(1..)).unwrap_or("");
            }
        }
    }
    lines
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

/// A data file's bytes; the error names the file.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow!("{}: cannot read file: {e}", path.display()))
}

/// `bytes` as UTF-8 text, or an error naming `path` and the line of the first bad byte.
pub fn decode_text(bytes: Vec<u8>, path: &Path) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| match decode_utf8(e.as_bytes(), path) {
        Err(located) => located,
        Ok(_) => anyhow!("{}: {e}", path.display()),
    })
}

/// The lines of `text` (universal newlines) up to the last non-blank one: trailing blank lines are
/// ignored, blank lines before other rows are kept (the readers refuse them, as the reference crashed
/// on them). A file with no non-blank line is an error saying what was `expected`.
pub fn content_lines<'a>(text: &'a str, path: &Path, expected: &str) -> Result<Vec<&'a str>> {
    let mut lines = universal_lines(text);
    match lines.iter().rposition(|l| !py_strip(l).is_empty()) {
        Some(last) => lines.truncate(last + 1),
        None => bail!("{}: file is empty (expected {expected})", path.display()),
    }
    Ok(lines)
}

/// The whole file as UTF-8, or an error naming the 1-based line and byte column of the first bad byte.
pub fn decode_utf8<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str> {
    let err = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(err) => err,
    };
    let offset = err.valid_up_to();
    let (mut line, mut line_start, mut prev) = (1usize, 0usize, 0u8);
    for (idx, &b) in bytes.iter().enumerate().take(offset) {
        match b {
            b'\n' if prev == b'\r' => line_start = idx + 1,
            b'\n' | b'\r' => {
                line += 1;
                line_start = idx + 1;
            }
            _ => {}
        }
        prev = b;
    }
    let column = offset - line_start + 1;
    let bad = bytes
        .get(offset)
        .map(|b| format!(" (byte 0x{b:02x})"))
        .unwrap_or_default();
    bail!(
        "{}:{line}: invalid UTF-8 at byte column {column}{bad}; the file must be UTF-8 (convert e.g. CP949 \
         with `iconv -f cp949 -t utf-8`)",
        path.display()
    )
}

/// A field value for an error message: quoted, control chars escaped, long values shortened.
pub fn show(value: &str) -> String {
    const MAX_CHARS: usize = 60;
    let mut out = String::new();
    match value.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => {
            let _ = write!(
                out,
                "{:?}… ({} chars)",
                value.get(..cut).unwrap_or(value),
                value.chars().count()
            );
        }
        None => {
            let _ = write!(out, "{value:?}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_matches_python_isspace() {
        assert_eq!(py_strip("\u{1c}\u{1f} a\tb \u{3000}\u{85}"), "a\tb");
        assert_eq!(py_strip("\u{8}a\u{200b}"), "\u{8}a\u{200b}");
        assert!(!'\u{1c}'.is_whitespace() && is_py_whitespace('\u{1c}'));
    }

    #[test]
    fn universal_newlines() {
        assert_eq!(universal_lines("a\nb\r\nc\rd"), ["a", "b", "c", "d"]);
        assert_eq!(universal_lines("a\n"), ["a"]);
        assert_eq!(universal_lines("a\n\n"), ["a", ""]);
        assert_eq!(universal_lines("\r\r\n"), ["", ""]);
        assert!(universal_lines("").is_empty());
    }

    #[test]
    fn spec_table() {
        assert_eq!(task_spec("korsts").unwrap().min_columns(), 7);
        assert_eq!(task_spec("hate-speech").unwrap().min_columns(), 4);
        assert_eq!(task_spec("kornli").unwrap().num_labels(), 3);
        assert!(is_regression("korsts") && !is_regression("nsmc") && !is_regression("naver-ner"));
        assert!(task_spec("naver-ner").is_err());
    }

    #[test]
    fn scores() {
        assert_eq!(parse_score("5.000"), Ok(5.0));
        assert_eq!(parse_score(" 3.8 "), Ok(3.8));
        assert!(parse_score("nan").is_err() && parse_score("inf").is_err() && parse_score("1e300").is_err());
        assert!(parse_score("").is_err() && parse_score("abc").is_err());
    }

    #[test]
    fn long_values_are_shortened() {
        let long = "가".repeat(100);
        let shown = show(&long);
        assert!(shown.ends_with("… (100 chars)") && shown.chars().count() < 80);
        assert_eq!(show("a\u{1c}b"), "\"a\\u{1c}b\"");
    }
}
