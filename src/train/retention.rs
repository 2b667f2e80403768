//! `save_total_limit`: which checkpoints a run keeps, and deleting the others crash-safely.
//!
//! Kept always: the newest checkpoint, the newest resumable one (what `--resume` continues from) and
//! the best one by the dev selection metric, even when that makes more than the limit (HF keeps the
//! best beside the newest too); then the newest others until the limit is reached. Deletion runs only
//! after a save has completed, and each deleted folder is first renamed to a hidden temporary, so a
//! kill at any moment leaves complete checkpoints only, at worst one more than the limit until the
//! next save.
use super::checkpoints::{is_resumable, list_checkpoints};
use crate::io::atomic;
use anyhow::Result;
use serde_json::Value;
use std::path::Path;

/// The steps that `save_total_limit = limit` keeps among `checkpoints` (step order, each with whether
/// it is resumable), `best` being the best checkpoint's step; in step order.
pub fn kept_steps(checkpoints: &[(i64, bool)], best: Option<i64>, limit: usize) -> Vec<i64> {
    let newest = checkpoints.last().map(|(step, _)| *step);
    let newest_resumable = checkpoints.iter().rev().find(|(_, r)| *r).map(|(step, _)| *step);
    let mut kept: Vec<i64> = [newest, newest_resumable, best]
        .into_iter()
        .flatten()
        .filter(|step| checkpoints.iter().any(|(s, _)| s == step))
        .collect();
    kept.sort();
    kept.dedup();
    for (step, _) in checkpoints.iter().rev() {
        if kept.len() >= limit {
            break;
        }
        if !kept.contains(step) {
            kept.push(*step);
        }
    }
    kept.sort();
    kept
}

/// The step, among `steps`, whose dev evaluation in HF's `log_history` (`eval_<metric>`) is the highest
/// (every task's selection metric is higher-is-better); the earliest on ties, as `summary.json` selects.
pub fn best_checkpoint_step(log_history: &[Value], metric: &str, steps: &[i64]) -> Option<i64> {
    let key = format!("eval_{metric}");
    let mut best: Option<(f64, i64)> = None;
    for entry in log_history {
        let (Some(value), Some(step)) = (entry.get(&key).and_then(Value::as_f64), entry["step"].as_i64()) else {
            continue;
        };
        if steps.contains(&step) && best.is_none_or(|(b, _)| value > b) {
            best = Some((value, step));
        }
    }
    best.map(|(_, step)| step)
}

/// Deletes the checkpoints in the run folder `out` that `limit` does not keep, oldest first; `best`
/// picks the best checkpoint among the steps on disk. A folder that cannot be deleted is a warning.
pub fn enforce(out: &Path, limit: usize, best: impl Fn(&[i64]) -> Option<i64>) -> Result<()> {
    let checkpoints = list_checkpoints(out)?;
    let listed: Vec<(i64, bool)> = checkpoints.iter().map(|(s, dir)| (*s, is_resumable(dir))).collect();
    let steps: Vec<i64> = listed.iter().map(|(s, _)| *s).collect();
    let kept = kept_steps(&listed, best(&steps), limit);
    for (step, dir) in checkpoints.iter().filter(|(s, _)| !kept.contains(s)) {
        match atomic::remove_dir(dir) {
            Ok(()) => log::info!("deleted checkpoint-{step} (save_total_limit {limit})"),
            Err(e) => log::warn!("{e:#}; keeping it"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(steps: &[i64]) -> Vec<(i64, bool)> {
        steps.iter().map(|s| (*s, false)).collect()
    }

    #[test]
    fn keeps_the_newest_up_to_the_limit() {
        assert_eq!(kept_steps(&plain(&[10, 20, 30, 40]), None, 2), vec![30, 40]);
        assert_eq!(kept_steps(&plain(&[10, 20]), None, 5), vec![10, 20]);
        assert_eq!(kept_steps(&plain(&[10]), None, 1), vec![10]);
    }

    #[test]
    fn the_best_and_the_newest_resumable_stay_even_beyond_the_limit() {
        assert_eq!(kept_steps(&plain(&[10, 20, 30, 40]), Some(10), 2), vec![10, 40]);
        assert_eq!(kept_steps(&plain(&[10, 20, 30, 40]), Some(10), 1), vec![10, 40]);
        assert_eq!(kept_steps(&plain(&[10, 20, 30, 40]), Some(40), 3), vec![20, 30, 40]);
        let mixed = [(10, true), (20, false), (30, false)];
        assert_eq!(kept_steps(&mixed, None, 1), vec![10, 30]);
        assert_eq!(kept_steps(&mixed, Some(20), 1), vec![10, 20, 30]);
        // A best step without a checkpoint keeps nothing extra.
        assert_eq!(kept_steps(&plain(&[10, 20, 30]), Some(15), 1), vec![30]);
    }

    #[test]
    fn the_best_checkpoint_is_the_highest_dev_metric_on_disk() {
        let history: Vec<Value> = serde_json::from_str(
            r#"[{"loss": 0.7, "step": 10}, {"eval_acc": 0.6, "step": 10}, {"test_acc": 0.99, "step": 15},
                {"eval_acc": 0.8, "step": 20}, {"eval_acc": 0.8, "step": 30}, {"eval_acc": 0.9, "step": 35}]"#,
        )
        .unwrap();
        assert_eq!(best_checkpoint_step(&history, "acc", &[10, 20, 30]), Some(20));
        assert_eq!(best_checkpoint_step(&history, "acc", &[10, 30, 35]), Some(35));
        assert_eq!(best_checkpoint_step(&history, "acc", &[15]), None);
        assert_eq!(best_checkpoint_step(&history, "f1", &[10, 20]), None);
    }

    #[test]
    fn enforcing_deletes_all_but_the_kept_folders() {
        let dir = tempfile::tempdir().unwrap();
        for step in [1, 2, 3, 4] {
            let ckpt = dir.path().join(format!("checkpoint-{step}"));
            std::fs::create_dir_all(&ckpt).unwrap();
            std::fs::write(ckpt.join("config.json"), "{}").unwrap();
        }
        enforce(dir.path(), 2, |_| Some(1)).unwrap();
        let left: Vec<i64> = list_checkpoints(dir.path())
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(left, vec![1, 4]);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "no temporaries left: {names:?}");
    }
}
