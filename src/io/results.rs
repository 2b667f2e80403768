//! Result files in the reference formats (`<split>/<split>-<step>.txt`, `eval_results.txt`, spec
//! §8.4), and JSON files written atomically.
use super::atomic;
use crate::text::python::format_py_float;
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Named metric values of one evaluation, in the order they were computed.
pub type Metrics = Vec<(String, f64)>;

/// `<out>/<split>/<split>-<step>.txt` (or `<split>.txt` without a step): `  key = value` lines in
/// string-sorted key order, values as Python prints floats; `appendix` follows after a blank line.
pub fn write_eval_file(
    out: &Path,
    split: &str,
    step: Option<&str>,
    metrics: &Metrics,
    appendix: Option<&str>,
) -> Result<PathBuf> {
    let dir = out.join(split);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = match step {
        Some(step) => dir.join(format!("{split}-{step}.txt")),
        None => dir.join(format!("{split}.txt")),
    };
    let mut sorted: Vec<&(String, f64)> = metrics.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut text: String = sorted
        .iter()
        .map(|(k, v)| format!("  {k} = {}\n", format_value(k, *v)))
        .collect();
    if let Some(extra) = appendix {
        text.push('\n');
        text.push_str(extra);
    }
    atomic::write_file(&path, text.as_bytes())?;
    Ok(path)
}

/// `<out>/eval_results.txt`: `key = value` per line, keys `<metric>_<step>` grouped by metric and in
/// step order when several checkpoints were evaluated (plain sort for one), as the reference sorts.
pub fn write_eval_results(out: &Path, results: &Metrics, checkpoints: usize) -> Result<()> {
    let mut keys: Vec<String> = results.iter().map(|(k, _)| k.clone()).collect();
    sort_eval_result_keys(&mut keys, checkpoints > 1);
    let value = |k: &str| {
        results
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| *v)
            .unwrap_or(f64::NAN)
    };
    let text: String = keys
        .iter()
        .map(|k| format!("{k} = {}\n", format_value(k, value(k))))
        .collect();
    atomic::write_file(&out.join("eval_results.txt"), text.as_bytes())
}

/// A metric value as the reference prints it: counts (`total`, `HasAns_total`, ... with or without a
/// `_<step>` suffix) as integers, everything else as Python prints a float.
pub fn format_value(key: &str, value: f64) -> String {
    let name = key.trim_end_matches(|c: char| c.is_ascii_digit()).trim_end_matches('_');
    if name.ends_with("total") && value.fract() == 0.0 && value.is_finite() {
        format!("{}", value as i64)
    } else {
        format_py_float(value)
    }
}

/// Writes pretty JSON atomically, with a trailing newline.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    atomic::write_file(path, text.as_bytes())
}

/// Sort key of a metric key in the multi-checkpoint `eval_results.txt` (§8.4 step 5), mirroring the
/// reference's
/// `("".join(re.findall(r'[^_]+_', key)), int(re.findall(r"_\d+", key)[-1][1:]))`:
/// * first: the concatenation of every maximal run of non-underscore chars that is followed by an
///   underscore (`f1_2000` → `f1_`, `HasAns_exact_1000` → `HasAns_exact_`, `best_f1_thresh_500` →
///   `best_f1_thresh_`);
/// * second: the digits of the last `_<digits>` match (`f1_2000` → 2000).
///
/// Where Python would raise (no `_<digits>` in the key) the second element is `i64::MIN`, so such keys sort
/// first within their group; a step too large for i64 saturates to `i64::MAX`. Only ASCII digits count.
pub fn eval_results_sort_key(key: &str) -> (String, i64) {
    let segments: Vec<&str> = key.split('_').collect();
    let mut group = String::with_capacity(key.len());
    // Every segment but the last is followed by an underscore; empty ones are not matched by `[^_]+_`.
    for seg in &segments[..segments.len() - 1] {
        if !seg.is_empty() {
            group.push_str(seg);
            group.push('_');
        }
    }
    // The last `_\d+` match: the last segment (after the first) that starts with a digit; `\d+` is greedy,
    // so take its whole leading digit run.
    let step = segments
        .iter()
        .skip(1)
        .rev()
        .find_map(|seg| {
            let run: &str = &seg[..seg.bytes().take_while(u8::is_ascii_digit).count()];
            (!run.is_empty()).then(|| run.parse::<i64>().unwrap_or(i64::MAX))
        })
        .unwrap_or(i64::MIN);
    (group, step)
}

/// Sort `keys` by [`eval_results_sort_key`] (the multi-checkpoint order of `eval_results.txt`:
/// `acc_500, acc_1000, acc_10000`). The sort is stable, so keys with equal sort keys keep their input
/// order, as with Python's `sorted`.
pub fn sort_eval_keys(keys: &mut [String]) {
    keys.sort_by_cached_key(|k| eval_results_sort_key(k));
}

/// Order the keys of `eval_results.txt` as the reference does (§8.4 step 5): with more than one checkpoint,
/// by [`eval_results_sort_key`]; with one checkpoint, plain string order (by code point, so uppercase
/// before lowercase).
pub fn sort_eval_result_keys(keys: &mut [String], multiple_checkpoints: bool) {
    if multiple_checkpoints {
        sort_eval_keys(keys);
    } else {
        keys.sort();
    }
}

/// Metrics as a JSON object, in their computed order.
pub fn metrics_json(metrics: &Metrics) -> serde_json::Map<String, serde_json::Value> {
    metrics.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect()
}
