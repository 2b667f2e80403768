//! Result files in the reference formats (`<split>/<split>-<step>.txt`, `eval_results.txt`) plus
//! `metrics.jsonl`, predictions and `summary.json`.
use crate::atomic;
use crate::metrics::{format_py_float, sort_eval_result_keys};
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

/// Appends one JSON object per event to `<out>/metrics.jsonl` (flushed per line).
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
}

impl MetricsLog {
    pub fn new(out: &Path) -> Self {
        Self {
            path: out.join("metrics.jsonl"),
        }
    }

    /// Adds one event line. The whole file is rewritten under a temporary name and renamed, so a
    /// kill never leaves a torn last line (the file stays small: one line per log step).
    pub fn append(&self, event: &impl Serialize) -> Result<()> {
        let mut text = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", self.path.display())),
        };
        serde_json::to_writer(&mut text, event)?;
        text.push(b'\n');
        atomic::write_file(&self.path, &text)
    }
}

/// An evaluation event of `metrics.jsonl`.
#[derive(Debug, Serialize)]
pub struct EvalEvent<'a> {
    pub event: &'static str,
    pub step: Option<i64>,
    pub epoch: Option<f64>,
    pub split: &'a str,
    pub loss: f64,
    pub metrics: serde_json::Map<String, serde_json::Value>,
    pub samples_per_second: f64,
}

/// Metrics as a JSON object, in their computed order.
pub fn metrics_json(metrics: &Metrics) -> serde_json::Map<String, serde_json::Value> {
    metrics.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect()
}

/// Writes JSON lines atomically.
pub fn write_jsonl<T: Serialize>(path: &Path, rows: impl IntoIterator<Item = T>) -> Result<()> {
    let mut text = String::new();
    for row in rows {
        text.push_str(&serde_json::to_string(&row)?);
        text.push('\n');
    }
    atomic::write_file(path, text.as_bytes())
}

/// Writes pretty JSON atomically, with a trailing newline.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    atomic::write_file(path, text.as_bytes())
}
