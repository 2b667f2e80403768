//! `metrics.jsonl`: one JSON object per event of a run (`features`, `train`, `eval`, `end`), for
//! scripts, `curves.svg` and `report`.
use anyhow::{Context, Result};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Appends one JSON object per event to `<out>/metrics.jsonl`.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    /// False with `report_to` leaving out "jsonl": nothing is written.
    enabled: bool,
    /// Whether this process has checked the file's tail (see [`MetricsLog::append`]).
    checked: std::sync::atomic::AtomicBool,
}

impl MetricsLog {
    pub fn new(out: &Path, enabled: bool) -> Self {
        Self {
            path: out.join("metrics.jsonl"),
            enabled,
            checked: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Appends one event line and fsyncs it, so the file can be read (and followed) while the run
    /// goes on. A kill can leave a torn last line, which readers skip; the first append of a
    /// process (a resumed run) cuts such a tail off first, so it never runs into the next line.
    pub fn append(&self, event: &impl Serialize) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        let mut line = serde_json::to_vec(event)?;
        line.push(b'\n');
        let label = || format!("cannot append to {}", self.path.display());
        if !self.checked.swap(true, std::sync::atomic::Ordering::SeqCst) {
            cut_torn_tail(&self.path).with_context(label)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(label)?;
        file.write_all(&line).with_context(label)?;
        file.sync_data().with_context(label)
    }
}

/// Truncates `path` after its last newline when its last line is incomplete (a write cut by a kill).
fn cut_torn_tail(path: &Path) -> std::io::Result<()> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.set_len(keep as u64)?;
    file.sync_data()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn events_are_appended_in_place_and_a_torn_tail_is_cut_once() {
        let dir = tempfile::tempdir().unwrap();
        let log = MetricsLog::new(dir.path(), true);
        log.append(&serde_json::json!({"event": "train", "step": 1})).unwrap();
        // A hard link sees later lines only if the file is appended to, not replaced by a rename.
        let link = dir.path().join("link.jsonl");
        std::fs::hard_link(dir.path().join("metrics.jsonl"), &link).unwrap();
        log.append(&serde_json::json!({"event": "train", "step": 2})).unwrap();
        assert_eq!(lines(&link).len(), 2);
        // A kill mid-line, then a resumed run: the torn line goes, the new event starts a line.
        let mut file = std::fs::OpenOptions::new().append(true).open(&link).unwrap();
        file.write_all(br#"{"event": "tra"#).unwrap();
        let resumed = MetricsLog::new(dir.path(), true);
        resumed
            .append(&serde_json::json!({"event": "train", "step": 3}))
            .unwrap();
        let got = lines(&dir.path().join("metrics.jsonl"));
        assert_eq!(got.len(), 3, "{got:?}");
        for line in &got {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
        assert!(got[2].contains("\"step\":3"), "{got:?}");
    }
}
