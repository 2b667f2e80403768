//! Python compatibility: the string, float and JSON rules of CPython that the reference scripts'
//! outputs depend on, in one place.
//!
//! * Whitespace: `str.isspace()`, `str.strip()`, `str.split()` and universal-newline line splitting.
//! * Floats: `repr(float)` (what `print` and `json.dumps` write).
//! * JSON: `json.dumps(obj, indent=4)` with the default `ensure_ascii=True`, for insertion-ordered
//!   objects with Python dict semantics.
use std::collections::HashMap;

// ---------------------------------------------------------------------------------------------------------------
// Whitespace and lines

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

/// Python's `str.split()` with no argument: split on runs of Python whitespace, no empty pieces.
pub fn py_split(s: &str) -> Vec<&str> {
    split_whitespace(s).collect()
}

/// [`py_split`] as an iterator.
pub fn split_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_py_whitespace).filter(|p| !p.is_empty())
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

// ---------------------------------------------------------------------------------------------------------------
// Floats

/// Format `x` exactly as Python's `repr(x)` / `str(x)` for a float (Python ≥ 3.1, `float_repr_style='short'`):
/// * the shortest digit string that round-trips;
/// * positional notation when the decimal exponent e (of d.ddd×10^e) satisfies −4 ≤ e < 16, with `.0` kept
///   on whole numbers: `100.0`, `0.0001`, `-0.0`, `1234567890123456.0`;
/// * otherwise scientific notation with a signed exponent of at least two digits: `1e-05`, `1.5e-07`,
///   `1e+16`, `1.2345678901234568e+17`;
/// * `nan`, `inf`, `-inf`.
pub fn format_py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let (digits, exp) = shortest_digits(x.abs());
    let mut out = String::with_capacity(digits.len() + 8);
    if x.is_sign_negative() {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        // Number of digits before the decimal point (may be <= 0).
        let decpt = exp + 1;
        let nd = digits.len() as i32;
        if decpt <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-decpt) as usize));
            out.push_str(&digits);
        } else if decpt >= nd {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (decpt - nd) as usize));
            out.push_str(".0");
        } else {
            let (int_part, frac_part) = digits.split_at(decpt as usize);
            out.push_str(int_part);
            out.push('.');
            out.push_str(frac_part);
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    }
    out
}

/// Split Rust's `{:e}` / `{:.Ne}` output ("1.2345e-7", "0e0") into its significant digits ("12345") and the
/// decimal exponent of d.ddd×10^e (−7). The input must be finite and non-negative.
fn sci_parts(s: &str) -> (String, i32) {
    let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
    (
        mantissa.chars().filter(|c| *c != '.').collect(),
        exp.parse().unwrap_or(0),
    )
}

/// Shortest round-trip significant digits of a finite `x >= 0` and the exponent e of d.ddd×10^e, chosen as
/// Python's `repr` (David Gay's `dtoa` mode 0) chooses them.
///
/// Rust's `{:e}` already gives the shortest digits and, among candidates of that length, the closest one.
/// The two differ only when `x` lies **exactly** halfway between two shortest candidates (for example
/// 1320784116824574.25, between …574.2 and …574.3): `dtoa` rounds half to even, Rust rounds half up.
fn shortest_digits(x: f64) -> (String, i32) {
    let (digits, exp) = sci_parts(&format!("{:e}", x));
    if digits.bytes().last().is_some_and(|d| (d - b'0') % 2 == 1) {
        if let Some(even) = even_tie_alternative(x, &digits, exp) {
            return (even, exp);
        }
    }
    (digits, exp)
}

/// When `x` is exactly halfway between the odd-ending shortest candidate `digits` (×10^exp) and a neighbour
/// of the same length ending in an even digit, and that neighbour also round-trips, return the neighbour.
fn even_tie_alternative(x: f64, digits: &str, exp: i32) -> Option<String> {
    let n = digits.len();
    // x correctly rounded to n + 1 significant digits: a tie must end in 5 ...
    let (plus_one, e1) = sci_parts(&format!("{:.*e}", n, x));
    if e1 != exp || !plus_one.ends_with('5') {
        return None;
    }
    // ... and be exact. A double's exact decimal expansion has at most 767 significant digits.
    let (full, _) = sci_parts(&format!("{:.*e}", 770, x));
    if full.get(..n + 1) != Some(plus_one.as_str()) || full.bytes().skip(n + 1).any(|b| b != b'0') {
        return None;
    }
    // x = (lo + ½ unit) × 10^…, and `digits` is lo or lo + 1 unit; the alternative is the other one.
    let lo = &plus_one[..n];
    let alt = if digits == lo {
        let last = lo.as_bytes()[n - 1];
        if last == b'9' {
            return None; // lo + 1 would carry, so it is shorter than n digits: not a same-length tie
        }
        let mut bytes = lo.as_bytes().to_vec();
        bytes[n - 1] = last + 1;
        String::from_utf8(bytes).ok()?
    } else {
        lo.to_string()
    };
    if alt.bytes().last().is_some_and(|d| (d - b'0') % 2 == 1) {
        return None;
    }
    let candidate = format!("{}e{}", alt, exp - (n as i32 - 1));
    (candidate.parse::<f64>().ok()? == x).then_some(alt)
}

/// Sort key giving Python's ordering of floats for the finite case: -0.0 equals 0.0; NaN (on which Python's
/// sort is undefined) ranks below everything.
pub fn py_float_sort_key(x: f64) -> f64 {
    if x.is_nan() {
        f64::NEG_INFINITY
    } else {
        x + 0.0
    }
}

// ---------------------------------------------------------------------------------------------------------------
// JSON: json.dumps(obj, indent=4) + "\n"

/// Python `json.dumps` string literal with the default `ensure_ascii=True`.
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04x}", unit));
                }
            }
        }
    }
    out.push('"');
}

/// Python `json.dumps` of a float: `repr`, with `NaN`, `Infinity`, `-Infinity`.
pub fn json_float(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        format_py_float(x)
    }
}

/// Dict semantics of an insertion-ordered list: one entry per key, at its first position, with its last value.
fn dict_order<V>(items: &[(String, V)]) -> Vec<(&str, &V)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<(&str, &V)> = Vec::new();
    for (k, v) in items {
        match index.get(k.as_str()) {
            Some(&i) => out[i].1 = v,
            None => {
                index.insert(k.as_str(), out.len());
                out.push((k.as_str(), v));
            }
        }
    }
    out
}

/// A top-level JSON object with 4-space indentation; `value` writes each value at the given indent level.
pub fn json_object<V>(items: &[(String, V)], mut value: impl FnMut(&mut String, &V)) -> String {
    let entries = dict_order(items);
    if entries.is_empty() {
        return "{}\n".to_string();
    }
    let mut out = String::from("{\n");
    for (i, (k, v)) in entries.iter().enumerate() {
        out.push_str("    ");
        push_json_str(&mut out, k);
        out.push_str(": ");
        value(&mut out, v);
        out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
    }
    out.push_str("}\n");
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
    fn python_split() {
        assert_eq!(py_split("  a \u{1c}b\u{3000}c  "), ["a", "b", "c"]);
        assert_eq!(py_split("a\u{ad}b \u{200b}"), ["a\u{ad}b", "\u{200b}"]);
        assert!(py_split(" \u{85} ").is_empty());
    }

    #[test]
    fn universal_newlines() {
        assert_eq!(universal_lines("a\nb\r\nc\rd"), ["a", "b", "c", "d"]);
        assert_eq!(universal_lines("a\n"), ["a"]);
        assert_eq!(universal_lines("a\n\n"), ["a", ""]);
        assert_eq!(universal_lines("\r\r\n"), ["", ""]);
        assert!(universal_lines("").is_empty());
    }
}
