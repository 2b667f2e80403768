//! Checkpoints of a run: the output folder, writing `checkpoint-<step>` (with the optimizer state
//! and loop position when it must be resumable), listing them, and finding where to resume.
use super::clear::clear_earlier_run;
use super::optim::AdamW;
use super::trainer::Position;
use crate::io::{atomic, results};
use crate::model::weights::{self, HeadInfo};
use crate::model::ModelConfig;
use crate::text::Tokenizer;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::{nn::VarStore, Tensor};

/// `dir` itself when it is a checkpoint with training state, else the newest such `checkpoint-*`
/// in the run folder `dir`.
pub fn resumable_checkpoint(dir: &Path) -> Result<PathBuf> {
    if is_resumable(dir) {
        return Ok(dir.to_path_buf());
    }
    if !dir.exists() {
        bail!(
            "cannot resume: {} does not exist (no earlier run there: check ckpt_dir and output_dir, \
             or start without --resume)",
            dir.display()
        );
    }
    if !dir.is_dir() {
        bail!(
            "cannot resume: {} is not a folder; --resume takes a run folder or one of its checkpoints",
            dir.display()
        );
    }
    if dir.join("config.json").is_file() {
        bail!(
            "cannot resume from {}: it is a checkpoint without the optimizer state (saved with \
             save_optimizer: false); to start a new run from its weights, give it as model_name_or_path",
            dir.display()
        );
    }
    atomic::recover(dir)?;
    let checkpoints = list_checkpoints(dir)?;
    if let Some((_, newest)) = checkpoints.iter().rev().find(|(_, c)| is_resumable(c)) {
        return Ok(newest.clone());
    }
    if checkpoints.is_empty() {
        bail!("cannot resume: {} holds no checkpoint-* folder", dir.display());
    }
    bail!(
        "cannot resume: no checkpoint in {} holds the optimizer state (they were saved with \
         save_optimizer: false; set it to true to make every checkpoint resumable)",
        dir.display()
    )
}

/// Whether the checkpoint folder `dir` holds the training state `--resume` continues from.
pub fn is_resumable(dir: &Path) -> bool {
    dir.join(TRAINER_STATE).is_file()
}

/// Creates the run folder. One that already holds checkpoints is refused unless `resuming`, or
/// unless `overwrite` (`overwrite_output_dir`) is true, in which case the earlier run is removed
/// from it first (only what a run writes: see [`clear_earlier_run`]). An earlier run that saved no
/// checkpoint (stopped by a NaN loss, or killed early) is removed too, so its `metrics.jsonl` lines
/// are not taken for this run's.
pub fn prepare_output_dir(out: &Path, resuming: bool, overwrite: bool) -> Result<()> {
    atomic::recover(out)?;
    // A resumed run continues the earlier one: its checkpoints and append-only metrics.jsonl stay.
    if !resuming {
        let has_checkpoints = !list_checkpoints(out)?.is_empty();
        if has_checkpoints && !overwrite {
            bail!(
                "output directory {} already holds checkpoints from an earlier run; continue it with \
                 --resume, or set overwrite_output_dir (--set overwrite_output_dir=true) to replace them",
                out.display()
            );
        }
        let earlier = if has_checkpoints {
            Some("overwrite_output_dir: removing the earlier run from")
        } else if out.join("metrics.jsonl").is_file() {
            Some("removing the files of an earlier run that saved no checkpoint from")
        } else {
            None
        };
        if let Some(what) = earlier {
            log::info!("{what} {}", out.display());
            clear_earlier_run(out).with_context(|| format!("cannot clear {}", out.display()))?;
        }
    }
    crate::io::create_dirs(out, "output directory")
}

/// The complete `checkpoint-<step>` folders directly under `out`, in step order.
pub fn list_checkpoints(out: &Path) -> Result<Vec<(i64, PathBuf)>> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(vec![]);
    };
    let mut found = vec![];
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", out.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let step = name.strip_prefix("checkpoint-").and_then(|s| s.parse::<i64>().ok());
        if let (Some(step), true) = (step, entry.path().join("config.json").is_file()) {
            found.push((step, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// For a model folder without `config.json`: "; it is a run folder: give one of its checkpoints,
/// e.g. <flag><newest checkpoint> (the newest)" when it holds checkpoints, else nothing.
pub fn run_folder_hint(dir: &Path, flag: &str) -> String {
    match list_checkpoints(dir).ok().and_then(|c| c.last().cloned()) {
        Some((_, newest)) => format!(
            "; it is a run folder: give one of its checkpoints, e.g. {flag}{} (the newest)",
            newest.display()
        ),
        None => String::new(),
    }
}

/// The training state of checkpoints written before `trainer_state.json` took HF's layout.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TrainerState {
    pub position: Position,
    pub seed: u64,
}

/// What a checkpoint's HF-style `trainer_state.json` records of the run so far.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// HF's `log_history`: one object per train log (`loss`, `learning_rate`, `epoch`, `step`) and per
    /// evaluation (`eval_<metric>` or `test_<metric>`, `epoch`, `step`).
    pub log_history: Vec<serde_json::Value>,
    /// The best dev value of the selection metric so far, and its step.
    pub best: Option<(f64, i64)>,
    /// With early stopping: the evaluations in a row without improvement (HF's
    /// `EarlyStoppingCallback.early_stopping_patience_counter`), so a resumed run counts on.
    pub early_stopping_counter: Option<i64>,
}

/// The name under `stateful_callbacks` that holds our resume position (HF ignores callbacks it does
/// not have, and `TrainerState.load_from_json` keeps the entry).
const RESUME_CALLBACK: &str = "KoelectraFtResume";
/// HF's early-stopping callback state, under `stateful_callbacks`.
const EARLY_STOPPING_CALLBACK: &str = "EarlyStoppingCallback";

const TRAINER_STATE: &str = "trainer_state.json";
const OPTIMIZER_STATE: &str = "optimizer.safetensors";

/// A training checkpoint: model, config, tokenizer, `training_args.json`, and with
/// `save_optimizer` the optimizer state and loop position needed to resume exactly.
pub struct CheckpointWriter<'a> {
    pub out: &'a Path,
    /// Optimizer updates per epoch and in all (HF's `epoch` and `max_steps`).
    pub updates_per_epoch: i64,
    pub max_steps: i64,
    /// The run config, written as `training_args.json`.
    pub training_args: &'a serde_json::Value,
    pub save_optimizer: bool,
    pub seed: u64,
    pub model_config: &'a ModelConfig,
    pub head: HeadInfo,
    pub tokenizer: &'a dyn Tokenizer,
}

impl CheckpointWriter<'_> {
    /// Writes `checkpoint-<step>`; `resumable` adds the optimizer state even without `save_optimizer`.
    pub fn save(
        &self,
        vs: &VarStore,
        position: Position,
        optimizer: &AdamW,
        resumable: bool,
        history: &History,
    ) -> Result<PathBuf> {
        let dir = self.out.join(format!("checkpoint-{}", position.global_step));
        if let Some(name) = optimizer.first_non_finite()? {
            bail!(
                "step {}: weight {name} is not finite; not saving {}",
                position.global_step,
                dir.display()
            );
        }
        weights::save_checkpoint(&dir, vs, self.model_config, &self.head, |tmp| {
            self.tokenizer.save(tmp)?;
            results::write_json(&tmp.join("training_args.json"), self.training_args)?;
            if self.save_optimizer || resumable {
                Tensor::write_safetensors(&optimizer.state()?, tmp.join(OPTIMIZER_STATE))?;
                results::write_json(&tmp.join(TRAINER_STATE), &self.hf_state(position, history))?;
            }
            Ok(())
        })
        .map_err(|e| {
            if is_disk_full(&e) {
                anyhow::anyhow!(
                    "disk full while saving {}; earlier checkpoints are intact: free some space, then \
                     continue with --resume",
                    dir.display()
                )
            } else {
                e
            }
        })?;
        log::info!("saved {}", dir.display());
        Ok(dir)
    }

    /// HF's `TrainerState` (transformers 4.57's fields, which `TrainerState.load_from_json` takes),
    /// with our exact resume position under `stateful_callbacks`.
    fn hf_state(&self, position: Position, history: &History) -> serde_json::Value {
        let arg = |key: &str| {
            self.training_args
                .get(key)
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(0)
        };
        // The best checkpoint is named only once it exists (it is this one, or saved earlier).
        let best_dir = history
            .best
            .map(|(_, step)| self.out.join(format!("checkpoint-{step}")));
        let best_dir = best_dir
            .filter(|d| d.is_dir() || history.best.is_some_and(|(_, step)| step == position.global_step))
            .map(|d| d.display().to_string());
        let mut callbacks = serde_json::json!({
            RESUME_CALLBACK: {
                "args": {},
                "attributes": {"epoch": position.epoch, "next_batch": position.next_batch, "seed": self.seed}
            }
        });
        if let Some(counter) = history.early_stopping_counter {
            callbacks[EARLY_STOPPING_CALLBACK] = serde_json::json!({
                "args": {
                    "early_stopping_patience": arg("early_stopping_patience"),
                    "early_stopping_threshold": self.training_args.get("early_stopping_threshold"),
                },
                "attributes": {"early_stopping_patience_counter": counter}
            });
        }
        serde_json::json!({
            "best_global_step": history.best.map(|(_, step)| step),
            "best_metric": history.best.map(|(value, _)| value),
            "best_model_checkpoint": best_dir,
            "epoch": position.global_step as f64 / self.updates_per_epoch.max(1) as f64,
            "eval_steps": arg("logging_steps"),
            "global_step": position.global_step,
            "is_hyper_param_search": false,
            "is_local_process_zero": true,
            "is_world_process_zero": true,
            "log_history": history.log_history,
            "logging_steps": arg("logging_steps"),
            "max_steps": self.max_steps,
            "num_input_tokens_seen": 0,
            "num_train_epochs": arg("num_train_epochs"),
            "save_steps": arg("save_steps"),
            "stateful_callbacks": callbacks,
            "total_flos": 0.0,
            "train_batch_size": arg("train_batch_size"),
            "trial_name": null,
            "trial_params": null,
        })
    }
}

/// The `log_history` and best dev metric a checkpoint's `trainer_state.json` recorded, so a resumed run
/// keeps them; empty for older checkpoints or an unreadable file (the position is checked elsewhere).
pub fn read_history(dir: &Path) -> History {
    let Ok(text) = std::fs::read_to_string(dir.join(TRAINER_STATE)) else {
        return History::default();
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
        return History::default();
    };
    let log_history = value
        .get("log_history")
        .and_then(|h| h.as_array())
        .cloned()
        .unwrap_or_default();
    let best = value
        .get("best_metric")
        .and_then(serde_json::Value::as_f64)
        .zip(value.get("best_global_step").and_then(serde_json::Value::as_i64));
    let early_stopping_counter = value
        .pointer(&format!(
            "/stateful_callbacks/{EARLY_STOPPING_CALLBACK}/attributes/early_stopping_patience_counter"
        ))
        .and_then(serde_json::Value::as_i64);
    History {
        log_history,
        best,
        early_stopping_counter,
    }
}

/// The resume position in a `trainer_state.json`: HF's layout with ours under `stateful_callbacks`,
/// or the `{position, seed}` of older checkpoints.
fn read_position(text: &str) -> Result<Position> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    if value.get("position").is_some() {
        return Ok(serde_json::from_value::<TrainerState>(value)?.position);
    }
    let attributes = value
        .get("stateful_callbacks")
        .and_then(|c| c.get(RESUME_CALLBACK))
        .and_then(|c| c.get("attributes"))
        .with_context(|| format!("no stateful_callbacks.{RESUME_CALLBACK} (not saved by koelectra-ft)"))?;
    let int = |v: Option<&serde_json::Value>, key: &str| {
        v.and_then(serde_json::Value::as_i64)
            .filter(|&n| n >= 0)
            .with_context(|| format!("\"{key}\" is missing or not a non-negative integer"))
    };
    Ok(Position {
        global_step: int(value.get("global_step"), "global_step")?,
        epoch: int(attributes.get("epoch"), "epoch")?,
        next_batch: int(attributes.get("next_batch"), "next_batch")?,
    })
}

/// Before training: the run folder must be writable and hold at least one checkpoint (with the
/// optimizer state when `save_optimizer`), so a full disk shows now rather than after hours of training.
pub fn check_output_space(out: &Path, vs: &VarStore, save_optimizer: bool) -> Result<()> {
    let probe = out.join(".write-probe");
    atomic::write_file(&probe, b"ok").with_context(|| format!("output directory {} is not writable", out.display()))?;
    let _ = std::fs::remove_file(&probe);
    let params: u64 = vs.variables().values().map(|t| t.numel() as u64).sum();
    // fp32 weights, plus AdamW's two moments with the optimizer state; 1 MiB for tokenizer files.
    let copies = if save_optimizer { 3 } else { 1 };
    let needed = params * 4 * copies + (1 << 20);
    match free_bytes(out) {
        Some(free) if free < needed => bail!(
            "not enough free space in {}: a checkpoint needs about {} MiB, {} MiB are free",
            out.display(),
            needed >> 20,
            free >> 20
        ),
        _ => Ok(()),
    }
}

/// Bytes available to this user on the filesystem holding `path`.
fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is a valid NUL-terminated string and stat a writable statvfs.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    (rc == 0).then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
}

/// Whether an error comes from a full disk (ENOSPC, or libtorch's message for it).
pub fn is_disk_full(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::raw_os_error)
            == Some(libc::ENOSPC)
            || c.to_string().contains("No space left on device")
    })
}

/// The position and optimizer file to resume from when `dir` is a checkpoint saved with `save_optimizer`.
pub fn resume_point(dir: &Path) -> Result<Option<(Position, PathBuf)>> {
    let state_path = dir.join(TRAINER_STATE);
    if !state_path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&state_path).with_context(|| format!("cannot read {}", state_path.display()))?;
    let position = read_position(&text).with_context(|| format!("{}: invalid trainer state", state_path.display()))?;
    let optimizer = dir.join(OPTIMIZER_STATE);
    if !optimizer.is_file() {
        bail!("{} has a trainer state but no {OPTIMIZER_STATE}", dir.display());
    }
    Ok(Some((position, optimizer)))
}

/// The run config keys that shape the training trajectory: a resume with any of them changed no
/// longer continues the run it resumes (the batch size also moves the saved loop position).
const TRAJECTORY_KEYS: &[&str] = &[
    "task",
    "train_file",
    "model_type",
    "model_config",
    "do_lower_case",
    "max_seq_len",
    "max_seq_length",
    "doc_stride",
    "max_query_length",
    "num_train_epochs",
    "max_steps",
    "train_batch_size",
    "gradient_accumulation_steps",
    "learning_rate",
    "lr_scheduler_type",
    "warmup_proportion",
    "warmup_steps",
    "weight_decay",
    "adam_epsilon",
    "max_grad_norm",
    "seed",
    "group_by_length",
    "token_packing",
    "bf16",
    "fp16",
    "full_determinism",
];

/// The run config a checkpoint was saved with (its `training_args.json`), if readable.
pub fn saved_training_args(checkpoint: &Path) -> Option<serde_json::Value> {
    let path = checkpoint.join("training_args.json");
    let text = crate::limits::read_text_capped(&path, crate::limits::SMALL_JSON_BYTES).ok()?;
    serde_json::from_str(&text).ok()
}

/// Warns in one line when the run's settings (`now`, the run config as JSON) differ from those of
/// the checkpoint it resumes (its `training_args.json`) in a key that shapes training. A change
/// may be meant (a lower learning rate after a NaN stop), so it is not refused.
pub fn warn_changed_settings(checkpoint: &Path, now: &serde_json::Value) {
    let path = checkpoint.join("training_args.json");
    let Some(then) = saved_training_args(checkpoint) else {
        log::warn!("{}: unreadable; cannot check that the settings match", path.display());
        return;
    };
    let changed = changed_settings(&then, now);
    if !changed.is_empty() {
        log::warn!(
            "resuming with settings that differ from {}: {}; the result will not be the uninterrupted run's",
            path.display(),
            changed.join(", ")
        );
    }
}

/// `key old -> new` for each trajectory key whose value differs (a key the checkpoint lacks, from
/// an older version, is not counted).
fn changed_settings(then: &serde_json::Value, now: &serde_json::Value) -> Vec<String> {
    let shown = |v: &serde_json::Value| match v {
        serde_json::Value::Object(_) | serde_json::Value::Array(_) => "{...}".to_string(),
        v => v.to_string(),
    };
    TRAJECTORY_KEYS
        .iter()
        .filter_map(|&key| {
            let (a, b) = (then.get(key)?, now.get(key)?);
            (a != b).then(|| format!("{key} {} -> {}", shown(a), shown(b)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_settings_names_trajectory_keys_only() {
        let then = serde_json::json!({
            "train_batch_size": 32, "learning_rate": 0.001, "seed": 42, "logging_steps": 20,
            "model_config": {"hidden_size": 128}, "ckpt_dir": "/a"
        });
        let now = serde_json::json!({
            "train_batch_size": 16, "learning_rate": 1e-3, "seed": 42, "logging_steps": 50,
            "model_config": {"hidden_size": 256}, "ckpt_dir": "/b", "warmup_steps": 10
        });
        assert_eq!(
            changed_settings(&then, &now),
            ["model_config {...} -> {...}", "train_batch_size 32 -> 16"]
        );
        assert!(changed_settings(&then, &then).is_empty());
    }

    #[test]
    fn both_trainer_state_layouts_give_the_position() {
        let old = r#"{"position": {"global_step": 7, "epoch": 1, "next_batch": 3}, "seed": 42}"#;
        let want = Position {
            global_step: 7,
            epoch: 1,
            next_batch: 3,
        };
        assert_eq!(read_position(old).unwrap(), want);
        let hf = r#"{"global_step": 7, "epoch": 1.75, "log_history": [],
            "stateful_callbacks": {"KoelectraFtResume": {"args": {}, "attributes": {"epoch": 1, "next_batch": 3, "seed": 42}}}}"#;
        assert_eq!(read_position(hf).unwrap(), want);
        let foreign = r#"{"global_step": 7, "stateful_callbacks": {"EarlyStoppingCallback": {}}}"#;
        let err = format!("{:#}", read_position(foreign).unwrap_err());
        assert!(err.contains("not saved by koelectra-ft"), "{err}");
        let negative = hf.replace("\"next_batch\": 3", "\"next_batch\": -3");
        let err = format!("{:#}", read_position(&negative).unwrap_err());
        assert!(
            err.contains("\"next_batch\" is missing or not a non-negative integer"),
            "{err}"
        );
    }
}
