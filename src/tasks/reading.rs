//! Reading data files as the reference does: bytes, UTF-8 with the place of the first bad byte, the
//! content lines, and field values shown safely in one-line errors.
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;

use anyhow::{anyhow, bail, Result};

use crate::text::python::{py_strip, universal_lines};

/// A data file's bytes, read once (a pipe, `<(zcat train.tsv.gz)`, can be read only once) and at
/// most [`crate::limits::DATA_FILE_BYTES`] of them (`/dev/zero` would fill the memory); the error
/// names the file.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let cannot = |e: std::io::Error| anyhow!("{}: cannot read file: {e}", path.display());
    let max = crate::limits::DATA_FILE_BYTES;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(max + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > max {
        bail!("{}: larger than {max} bytes; refusing to read it", path.display());
    }
    Ok(bytes)
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
    fn long_values_are_shortened() {
        let long = "가".repeat(100);
        let shown = show(&long);
        assert!(shown.ends_with("… (100 chars)") && shown.chars().count() < 80);
        assert_eq!(show("a\u{1c}b"), "\"a\\u{1c}b\"");
    }
}
