//! Building a model for a head: from a checkpoint folder (pretrained encoder, maybe a fresh head)
//! or from a config alone (random weights). Training and `predict` both build models here.
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use tch::{nn, nn::VarStore, Device, Tensor};

use super::{weights, HeadKind, ModelConfig};
use crate::error::{catch_panic, first_line};

/// Above this many parameters a model config is refused (KoELECTRA-base has 110 million).
pub const MAX_PARAMETERS: f64 = 1e10;

/// Where a model's weights come from.
#[derive(Debug, Clone)]
pub enum ModelSource {
    /// A checkpoint folder: `config.json` and `model.safetensors` / `pytorch_model.bin`.
    Dir(PathBuf),
    /// Random initialisation from a config (demos, benchmarks).
    Scratch(Box<ModelConfig>),
}

impl ModelSource {
    /// Where the model's config comes from, for messages.
    pub fn config_label(&self) -> String {
        match self {
            Self::Dir(dir) => dir.join("config.json").display().to_string(),
            Self::Scratch(_) => "config key \"model_config\"".to_string(),
        }
    }

    /// The model's config: the folder's `config.json`, or the given one.
    pub fn model_config(&self) -> Result<ModelConfig> {
        match self {
            Self::Dir(dir) => ModelConfig::from_file(&dir.join("config.json")),
            Self::Scratch(cfg) => Ok((**cfg).clone()),
        }
    }
}

/// Builds a model with `make` on `device` and fills it from the source (random init for `Scratch`).
/// Head tensors the checkpoint lacks stay freshly initialised; the fresh and the ignored tensors are
/// logged in one line each.
pub fn build<M>(
    source: &ModelSource,
    head: HeadKind,
    device: Device,
    make: impl FnOnce(&nn::Path, &ModelConfig) -> Result<M>,
) -> Result<(VarStore, M, ModelConfig)> {
    let cfg = source.model_config()?;
    let file = match source {
        ModelSource::Dir(dir) => Some(weights::weights_file(dir)?),
        ModelSource::Scratch(_) => None,
    };
    let label = source.config_label();
    let (vs, model, report) = load_checked(&cfg, &label, file.as_deref(), head.prefixes(), device, make)?;
    match report {
        Some(report) => log_report(&cfg, &report),
        None => log::info!("model built from model_config with random weights (no checkpoint)"),
    }
    let params: i64 = vs
        .trainable_variables()
        .iter()
        .map(Tensor::numel)
        .map(|n| n as i64)
        .sum();
    log::info!(
        "model: {} layers, hidden {}, {params} parameters",
        cfg.num_hidden_layers,
        cfg.hidden_size
    );
    Ok((vs, model, cfg))
}

/// A fine-tuned checkpoint's model with every tensor from the file (a missing head is an error).
pub fn load_fine_tuned<M>(
    dir: &std::path::Path,
    cfg: &ModelConfig,
    device: Device,
    make: impl FnOnce(&nn::Path, &ModelConfig) -> Result<M>,
) -> Result<(VarStore, M)> {
    let file = weights::weights_file(dir)?;
    let label = dir.join("config.json").display().to_string();
    let (vs, model, _) = load_checked(cfg, &label, Some(&file), &[], device, make)?;
    Ok((vs, model))
}

/// What both paths share: `cfg` checked (against `file`'s index when there is a checkpoint) before
/// anything is allocated, the model built, then the checkpoint's tensors copied in (variables under
/// `optional` may be missing and keep their fresh init).
fn load_checked<M>(
    cfg: &ModelConfig,
    label: &str,
    file: Option<&Path>,
    optional: &[&str],
    device: Device,
    make: impl FnOnce(&nn::Path, &ModelConfig) -> Result<M>,
) -> Result<(VarStore, M, Option<weights::LoadReport>)> {
    check_config(cfg, label, file, device)?;
    let vs = VarStore::new(device);
    let model = build_checked(|| make(&vs.root(), cfg))?;
    let report = file
        .map(|file| build_checked(|| weights::load_weights(&vs, file, cfg.family, optional)))
        .transpose()?;
    Ok((vs, model, report))
}

/// The fresh head and the ignored checkpoint tensors of a load, a log line each.
fn log_report(cfg: &ModelConfig, report: &weights::LoadReport) {
    if !report.fresh.is_empty() {
        log::info!(
            "new head, initialised N(0, {}): {}",
            cfg.initializer_range,
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

/// Checks a model config before anything is allocated: against the checkpoint's tensor shapes
/// (read from its header or pickle), then its size against [`MAX_PARAMETERS`] and, on the CPU,
/// the memory available.
fn check_config(cfg: &ModelConfig, label: &str, weights_file: Option<&Path>, device: Device) -> Result<()> {
    if let Some(file) = weights_file {
        let shapes = weights::index(file, cfg.family)?;
        (cfg.family.check_weights)(cfg, &shapes)
            .with_context(|| format!("{label} does not match {}", file.display()))?;
    }
    let parameters = (cfg.family.parameters)(cfg)?;
    if parameters > MAX_PARAMETERS {
        bail!(
            "{label} describes a model of {parameters:.2e} parameters; more than {MAX_PARAMETERS:.0e} is refused \
             (check vocab_size, hidden_size, intermediate_size and num_hidden_layers)"
        );
    }
    let bytes = parameters * 4.0;
    if let (Device::Cpu, Some(available)) = (device, available_memory()) {
        if bytes > available {
            bail!(
                "{label} describes a model of {parameters:.2e} parameters: {:.1} GiB as fp32, more than the {:.1} GiB \
                 of memory available",
                bytes / GIB,
                available / GIB
            );
        }
    }
    Ok(())
}

const GIB: f64 = (1u64 << 30) as f64;

/// `MemAvailable` of /proc/meminfo in bytes (Linux), if readable.
fn available_memory() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Runs a step of model building, turning a libtorch exception or a failed allocation (tch panics
/// on both) into a one-line error; the full message goes to the debug log.
fn build_checked<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_panic(work).unwrap_or_else(|message| {
        log::debug!("model building failed: {message}");
        Err(anyhow!("cannot build the model: {}", first_line(&message)))
    })
}

/// `classifier.*, generator.*`: the first name components of `names`, for a short log line.
fn summarize(names: &[String]) -> String {
    let mut prefixes: Vec<String> = names
        .iter()
        .map(|n| n.split('.').next().unwrap_or(n).to_string() + ".*")
        .collect();
    prefixes.dedup();
    prefixes.join(", ")
}

/// The labels of the fine-tuned checkpoint in `dir` (`id2label` of its config.json).
pub fn labels(dir: &Path, cfg: &ModelConfig) -> Result<Vec<String>> {
    cfg.labels()
        .with_context(|| dir.join("config.json").display().to_string())
}
