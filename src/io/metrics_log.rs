//! `metrics.jsonl`: one JSON object per event of a run (`features`, `train`, `eval`, `end`), for
//! scripts, `curves.svg` and `report`.
use super::atomic;
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Appends one JSON object per event to `<out>/metrics.jsonl`.
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

/// The `features` event: how a split's features were built.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureStats {
    pub event: &'static str,
    pub split: &'static str,
    pub rows: usize,
    pub seconds: f64,
    pub rows_per_second: f64,
    pub cached: bool,
}

impl FeatureStats {
    pub fn new(split: &'static str, rows: usize, took: std::time::Duration, cached: bool) -> Self {
        let seconds = took.as_secs_f64();
        Self {
            event: "features",
            split,
            rows,
            seconds,
            rows_per_second: rows as f64 / seconds.max(1e-9),
            cached,
        }
    }

    /// For the log line: `12000 rows/s` or `from cache`.
    pub fn describe(&self) -> String {
        match self.cached {
            true => format!("features from cache in {:.2}s", self.seconds),
            false => format!("encoded at {:.0} rows/s", self.rows_per_second),
        }
    }
}

/// The `eval` event: one evaluation of one split.
#[derive(Debug, Serialize)]
pub struct EvalEvent<'a> {
    pub event: &'static str,
    pub step: Option<i64>,
    pub epoch: Option<f64>,
    pub split: &'a str,
    pub loss: f64,
    pub metrics: serde_json::Map<String, serde_json::Value>,
    pub samples_per_second: f64,
    /// Blocking device→host reads of the evaluation (at most one per batch, plus the loss).
    pub device_reads: u64,
}

/// The `end` event: the process's peak resident memory, and on CUDA the peak memory allocated by
/// tensors (`torch.cuda.max_memory_allocated`).
#[derive(Debug, Serialize)]
pub struct EndEvent {
    pub event: &'static str,
    pub peak_rss_mib: Option<f64>,
    pub peak_gpu_mib: Option<f64>,
}

impl EndEvent {
    /// The event now, with the peak GPU memory the caller measured (`None` on CPU).
    pub fn now(peak_gpu_mib: Option<f64>) -> Self {
        Self {
            event: "end",
            peak_rss_mib: peak_rss_mib(),
            peak_gpu_mib,
        }
    }
}

/// Peak resident set size of this process (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
