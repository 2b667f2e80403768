//! `summary.json`: every checkpoint's dev and test metrics, the checkpoint the dev metric selects, and
//! its test metrics.
use crate::io::results::{self, Metrics};
use anyhow::Result;
use serde::Serialize;
use std::path::Path;

/// What `summary.json` says the run was.
#[derive(Debug, Clone, Copy)]
pub struct RunInfo<'a> {
    pub task: &'a str,
    pub model_type: &'a str,
    pub model_name_or_path: &'a str,
}

/// Test (and dev) metrics of one checkpoint in the final pass.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointResult {
    /// `checkpoint-<step>`, or "the model as loaded" in a run without training.
    pub checkpoint: String,
    /// `None` for the model as loaded.
    pub step: Option<i64>,
    pub dev: Option<serde_json::Map<String, serde_json::Value>>,
    pub test: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The checkpoint with the best dev `metric` (earliest on ties), or the last one when some
/// checkpoint has no dev value; with the rule applied, in words.
pub fn selection<'a>(results: &'a [CheckpointResult], metric: &str) -> Option<(&'a CheckpointResult, String)> {
    let last = results.last()?;
    let dev_value = |r: &CheckpointResult| r.dev.as_ref().and_then(|m| m.get(metric)).and_then(|v| v.as_f64());
    if !results.iter().all(|r| dev_value(r).is_some()) {
        return Some((last, "last checkpoint (no dev split to select on)".to_string()));
    }
    let mut best = &results[0];
    for r in results {
        if dev_value(r) > dev_value(best) {
            best = r;
        }
    }
    Some((best, format!("highest dev {metric} (earliest checkpoint on ties)")))
}

/// The checkpoint [`selection`] picks.
pub fn selected<'a>(results: &'a [CheckpointResult], metric: &str) -> Option<&'a CheckpointResult> {
    selection(results, metric).map(|(r, _)| r)
}

/// `summary.json`: the task and model, the selected checkpoint with its test metrics, the last checkpoint's test
/// metrics, the rule used, and every checkpoint's dev/test metrics.
pub fn write_summary(run: &RunInfo, out: &Path, results: &[CheckpointResult], metric: &str) -> Result<()> {
    let Some((chosen, rule)) = selection(results, metric) else {
        return Ok(());
    };
    let summary = serde_json::json!({
        "task": run.task,
        "model_type": run.model_type,
        "model_name_or_path": run.model_name_or_path,
        "selection_rule": rule,
        "selection_metric": metric,
        "selected": chosen,
        "last": results.last(),
        "checkpoints": results,
    });
    results::write_json(&out.join("summary.json"), &summary)
}

/// Prefixes every metric with `_<step>` for `eval_results.txt`.
pub fn suffixed(metrics: &Metrics, step: &str) -> Metrics {
    metrics.iter().map(|(k, v)| (format!("{k}_{step}"), *v)).collect()
}
