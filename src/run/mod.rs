//! What the three subcommands share around the training loop: tokenizer and model setup, the output
//! directory, checkpoints (save, list, resume), the final evaluation pass and `summary.json`.
pub mod ner;
pub mod pipeline;
pub mod seq_cls;
pub mod squad;

use crate::checkpoint::{self, HeadInfo};
use crate::config::Config;
use crate::model::electra::ElectraConfig;
use crate::model::heads::HeadKind;
use crate::optim::AdamW;
use crate::output::{self, Metrics};
use crate::tokenizer::ElectraTokenizer;
use crate::train::Position;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::{nn::VarStore, Device, Tensor};

/// Where the model comes from: a checkpoint directory, or random init from `model_config`.
#[derive(Debug, Clone)]
pub enum ModelSource {
    Dir(PathBuf),
    Scratch(Box<ElectraConfig>),
}

impl ModelSource {
    /// The checkpoint to resume from (`resume_from_checkpoint`), else `model_name_or_path` when
    /// set, else `model_config` (random init, for demos and benchmarks).
    pub fn from_config(cfg: &Config) -> Result<Self> {
        if !cfg.resume_from_checkpoint.is_empty() {
            let dir = resumable_checkpoint(Path::new(&cfg.resume_from_checkpoint))?;
            log::info!("resuming from {}", dir.display());
            return Ok(Self::Dir(dir));
        }
        if !cfg.model_name_or_path.is_empty() {
            return Ok(Self::Dir(crate::hub::resolve_model(&cfg.model_name_or_path)?));
        }
        match &cfg.model_config {
            Some(value) => Ok(Self::Scratch(Box::new(
                ElectraConfig::from_value(value.clone()).context("config key \"model_config\"")?,
            ))),
            None => bail!("config key \"model_name_or_path\" is empty and no \"model_config\" is given"),
        }
    }

    pub fn electra_config(&self) -> Result<ElectraConfig> {
        match self {
            Self::Dir(dir) => ElectraConfig::from_file(&dir.join("config.json")),
            Self::Scratch(cfg) => Ok((**cfg).clone()),
        }
    }
}

/// The tokenizer: `vocab_file` when the config names one, else the model directory's files.
pub fn load_tokenizer(cfg: &Config, source: &ModelSource) -> Result<ElectraTokenizer> {
    if let Some(file) = &cfg.vocab_file {
        let path = Path::new(file);
        return if path.file_name().is_some_and(|n| n == "tokenizer.json") {
            ElectraTokenizer::from_dir(path.parent().unwrap_or(Path::new(".")))
        } else {
            ElectraTokenizer::from_vocab_file(path, cfg.do_lower_case)
        };
    }
    match source {
        ModelSource::Dir(dir) => ElectraTokenizer::from_dir(dir),
        ModelSource::Scratch(_) => bail!("config key \"vocab_file\" is needed to build a model from model_config"),
    }
}

/// Builds a model with `make` on `device` and fills it from the source (random init for `Scratch`).
/// Logs the fresh head tensors and the ignored checkpoint tensors in one line each.
pub fn build_model<M>(
    source: &ModelSource,
    head: HeadKind,
    device: Device,
    make: impl FnOnce(&VarStore, &ElectraConfig) -> M,
) -> Result<(VarStore, M, ElectraConfig)> {
    let ecfg = source.electra_config()?;
    let vs = VarStore::new(device);
    let model = make(&vs, &ecfg);
    match source {
        ModelSource::Dir(dir) => {
            let weights = checkpoint::weights_file(dir)?;
            let report = checkpoint::load_weights(&vs, &weights, head.prefixes())?;
            if !report.fresh.is_empty() {
                log::info!(
                    "new head, initialised N(0, {}): {}",
                    ecfg.initializer_range,
                    report.fresh.join(", ")
                );
            }
            if !report.unexpected.is_empty() {
                log::info!(
                    "ignored {} checkpoint tensor(s): {}",
                    report.unexpected.len(),
                    summarize(&report.unexpected)
                );
            }
        }
        ModelSource::Scratch(_) => log::info!("model built from model_config with random weights (no checkpoint)"),
    }
    let params: i64 = vs
        .trainable_variables()
        .iter()
        .map(Tensor::numel)
        .map(|n| n as i64)
        .sum();
    log::info!(
        "model: {} layers, hidden {}, {params} parameters",
        ecfg.num_hidden_layers,
        ecfg.hidden_size
    );
    Ok((vs, model, ecfg))
}

fn summarize(names: &[String]) -> String {
    let mut prefixes: Vec<String> = names
        .iter()
        .map(|n| n.split('.').next().unwrap_or(n).to_string() + ".*")
        .collect();
    prefixes.dedup();
    prefixes.join(", ")
}

/// `dir` itself when it is a checkpoint with training state, else the newest such `checkpoint-*`
/// in the run folder `dir`.
pub fn resumable_checkpoint(dir: &Path) -> Result<PathBuf> {
    if dir.join(TRAINER_STATE).is_file() {
        return Ok(dir.to_path_buf());
    }
    crate::atomic::recover(dir)?;
    let checkpoints = list_checkpoints(dir)?;
    if let Some((_, newest)) = checkpoints.iter().rev().find(|(_, c)| c.join(TRAINER_STATE).is_file()) {
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

/// Creates the run folder. One that already holds checkpoints is refused unless resuming, or
/// unless `overwrite_output_dir` is true, in which case it is cleared first.
pub fn prepare_output_dir(cfg: &Config, out: &Path) -> Result<()> {
    if cfg.resume_from_checkpoint.is_empty() && !list_checkpoints(out)?.is_empty() {
        if !cfg.overwrite_output_dir {
            bail!(
                "output directory {} already holds checkpoints from an earlier run; continue it with \
                 --resume, or set overwrite_output_dir (--set overwrite_output_dir=true) to replace them",
                out.display()
            );
        }
        log::info!("overwrite_output_dir: clearing {}", out.display());
        std::fs::remove_dir_all(out).with_context(|| format!("cannot clear {}", out.display()))?;
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create output directory {}", out.display()))?;
    crate::atomic::recover(out)
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

/// Training state written next to the weights with `save_optimizer`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TrainerState {
    pub position: Position,
    pub seed: u64,
}

const TRAINER_STATE: &str = "trainer_state.json";
const OPTIMIZER_STATE: &str = "optimizer.safetensors";

/// A training checkpoint: model, config, tokenizer, `training_args.json`, and with
/// `save_optimizer` the optimizer state and loop position needed to resume exactly.
pub struct CheckpointWriter<'a> {
    pub out: &'a Path,
    pub cfg: &'a Config,
    pub model_config: &'a ElectraConfig,
    pub head: HeadInfo,
    pub tokenizer: &'a ElectraTokenizer,
}

impl CheckpointWriter<'_> {
    /// Writes `checkpoint-<step>`; `resumable` adds the optimizer state even without `save_optimizer`.
    pub fn save(&self, vs: &VarStore, position: Position, optimizer: &AdamW, resumable: bool) -> Result<PathBuf> {
        let dir = self.out.join(format!("checkpoint-{}", position.global_step));
        if let Some(name) = first_non_finite(vs) {
            bail!(
                "step {}: weight {name} is not finite; not saving {}",
                position.global_step,
                dir.display()
            );
        }
        checkpoint::save_checkpoint(&dir, vs, self.model_config, &self.head, |tmp| {
            self.tokenizer.save(tmp)?;
            output::write_json(&tmp.join("training_args.json"), self.cfg)?;
            if self.cfg.save_optimizer || resumable {
                let (state, _) = optimizer.state();
                let state: Vec<(String, Tensor)> =
                    state.into_iter().map(|(k, t)| (k, t.to_device(Device::Cpu))).collect();
                Tensor::write_safetensors(&state, tmp.join(OPTIMIZER_STATE))?;
                output::write_json(
                    &tmp.join(TRAINER_STATE),
                    &TrainerState {
                        position,
                        seed: self.cfg.seed,
                    },
                )?;
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
}

/// Before training: the run folder must be writable and hold at least one checkpoint, so a full
/// disk shows now rather than after hours of training.
pub fn check_output_space(out: &Path, vs: &VarStore, cfg: &Config) -> Result<()> {
    let probe = out.join(".write-probe");
    crate::atomic::write_file(&probe, b"ok")
        .with_context(|| format!("output directory {} is not writable", out.display()))?;
    let _ = std::fs::remove_file(&probe);
    let params: u64 = vs.variables().values().map(|t| t.numel() as u64).sum();
    // fp32 weights, plus AdamW's two moments with the optimizer state; 1 MiB for tokenizer files.
    let copies = if cfg.save_optimizer { 3 } else { 1 };
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

/// The first parameter holding a NaN or infinity, if any.
fn first_non_finite(vs: &VarStore) -> Option<String> {
    let vars = vs.variables();
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    names
        .into_iter()
        .find(|name| vars[*name].isfinite().all().int64_value(&[]) == 0)
        .cloned()
}

/// The position and optimizer file to resume from when `dir` is a checkpoint saved with `save_optimizer`.
pub fn resume_point(dir: &Path) -> Result<Option<(Position, PathBuf)>> {
    let state_path = dir.join(TRAINER_STATE);
    if !state_path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&state_path).with_context(|| format!("cannot read {}", state_path.display()))?;
    let state: TrainerState =
        serde_json::from_str(&text).with_context(|| format!("{}: invalid trainer state", state_path.display()))?;
    let optimizer = dir.join(OPTIMIZER_STATE);
    if !optimizer.is_file() {
        bail!("{} has a trainer state but no {OPTIMIZER_STATE}", dir.display());
    }
    Ok(Some((state.position, optimizer)))
}

/// Test (and dev) metrics of one checkpoint in the final pass.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointResult {
    pub checkpoint: String,
    pub step: i64,
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
pub fn write_summary(cfg: &Config, out: &Path, results: &[CheckpointResult], metric: &str) -> Result<()> {
    let Some((chosen, rule)) = selection(results, metric) else {
        return Ok(());
    };
    let summary = serde_json::json!({
        "task": cfg.task,
        "model_type": cfg.model_type,
        "model_name_or_path": cfg.model_name_or_path,
        "selection_rule": rule,
        "selection_metric": metric,
        "selected": chosen,
        "last": results.last(),
        "checkpoints": results,
    });
    output::write_json(&out.join("summary.json"), &summary)
}

/// Prefixes every metric with `_<step>` for `eval_results.txt`.
pub fn suffixed(metrics: &Metrics, step: &str) -> Metrics {
    metrics.iter().map(|(k, v)| (format!("{k}_{step}"), *v)).collect()
}
