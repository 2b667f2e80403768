//! Removing an earlier run from a run folder (`overwrite_output_dir`, or a run that saved no
//! checkpoint). Only what a run writes goes; a run folder may be `.` or a folder the user keeps other
//! files in, and those stay.
use crate::io::atomic;
use crate::io::lock::LOCK_FILE;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Files a run writes directly in its folder.
const RUN_FILES: [&str; 4] = ["summary.json", "metrics.jsonl", "eval_results.txt", "curves.svg"];
/// The squad prediction files' prefixes (`predictions_<step>.json`, ..., in the run folder).
const SQUAD_PREFIXES: [&str; 3] = ["predictions", "nbest_predictions", "null_odds"];
/// Folders of evaluation files (`<split>/<split>-<step>.txt`, `<split>/predictions-<step>.*`).
const SPLITS: [&str; 2] = ["dev", "test"];
/// TensorBoard's folder, holding `events.out.tfevents.*` files.
const EVENTS: &str = "runs";

/// Removes the earlier run in `out`: its results, logs and event files, then its `checkpoint-*`
/// folders last (while any is left, a later start still sees the earlier run and clears it again).
/// Other entries are kept and named in one log line.
pub fn clear_earlier_run(out: &Path) -> Result<()> {
    let mut kept = vec![];
    let mut checkpoints = vec![];
    for (path, name) in entries(out)? {
        if name == LOCK_FILE {
            continue; // this run's own lock
        }
        if path.is_dir() {
            match name.as_str() {
                _ if is_checkpoint(&name) => checkpoints.push(path),
                EVENTS => kept.extend(clear_folder(&path, EVENTS, |f| f.starts_with("events.out.tfevents."))?),
                split if SPLITS.contains(&split) => {
                    kept.extend(clear_folder(&path, split, |f| is_eval_file(split, f))?)
                }
                _ => kept.push(name),
            }
        } else if RUN_FILES.contains(&name.as_str()) || is_squad_prediction(&name) {
            remove_file(&path)?;
        } else {
            kept.push(name);
        }
    }
    for checkpoint in checkpoints {
        atomic::remove_dir(&checkpoint)?;
    }
    if !kept.is_empty() {
        kept.sort();
        log::info!(
            "kept {} entries of {} that a run does not write: {}",
            kept.len(),
            out.display(),
            kept.join(", ")
        );
    }
    Ok(())
}

fn is_checkpoint(name: &str) -> bool {
    name.strip_prefix("checkpoint-")
        .is_some_and(|step| !step.is_empty() && step.bytes().all(|b| b.is_ascii_digit()))
}

/// `<split>.txt`, `<split>-<step>.txt`, `predictions.<ext>` or `predictions-<step>.<ext>`.
fn is_eval_file(split: &str, name: &str) -> bool {
    let results = name
        .strip_suffix(".txt")
        .is_some_and(|stem| stem == split || stem.strip_prefix(split).is_some_and(|s| s.starts_with('-')));
    results || name.starts_with("predictions.") || name.starts_with("predictions-")
}

/// `predictions_<step>.json`, `nbest_predictions.json`, ...
fn is_squad_prediction(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".json") else {
        return false;
    };
    SQUAD_PREFIXES.iter().any(|p| {
        stem.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
    })
}

/// The entries of `dir` with their names.
fn entries(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let list = std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    list.map(|entry| {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        Ok((entry.path(), entry.file_name().to_string_lossy().into_owned()))
    })
    .collect()
}

/// Removes the files of `dir` (called `folder` in the run folder) that `ours` accepts, then `dir` when
/// nothing else is in it; returns the others as `<folder>/<name>`.
fn clear_folder(dir: &Path, folder: &str, ours: impl Fn(&str) -> bool) -> Result<Vec<String>> {
    let mut others = vec![];
    for (path, name) in entries(dir)? {
        if path.is_file() && ours(&name) {
            remove_file(&path)?;
        } else {
            others.push(format!("{folder}/{name}"));
        }
    }
    if others.is_empty() {
        std::fs::remove_dir(dir).with_context(|| format!("cannot delete {}", dir.display()))?;
    }
    Ok(others)
}

fn remove_file(path: &Path) -> Result<()> {
    std::fs::remove_file(path).with_context(|| format!("cannot delete {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_run_writes() {
        assert!(is_checkpoint("checkpoint-120") && !is_checkpoint("checkpoint-") && !is_checkpoint("checkpoint-1a"));
        assert!(is_eval_file("test", "test-95.txt") && is_eval_file("test", "test.txt"));
        assert!(is_eval_file("dev", "predictions-20.jsonl") && is_eval_file("dev", "predictions.txt"));
        assert!(!is_eval_file("test", "testing.txt") && !is_eval_file("test", "dev-95.txt"));
        assert!(!is_eval_file("test", "test_main.py"));
        assert!(is_squad_prediction("predictions_300.json") && is_squad_prediction("null_odds.json"));
        assert!(is_squad_prediction("nbest_predictions_1.json"));
        assert!(!is_squad_prediction("predictions_300.jsonl") && !is_squad_prediction("predictionsX.json"));
    }
}
