//! Building a model for a head: from a checkpoint folder (pretrained encoder, maybe a fresh head)
//! or from a config alone (random weights). Training and `predict` both build models here.
use std::path::PathBuf;

use anyhow::{bail, Result};
use tch::{nn, nn::VarStore, Device, Tensor};

use super::{weights, HeadKind, ModelConfig};

/// Where a model's weights come from.
#[derive(Debug, Clone)]
pub enum ModelSource {
    /// A checkpoint folder: `config.json` and `model.safetensors` / `pytorch_model.bin`.
    Dir(PathBuf),
    /// Random initialisation from a config (demos, benchmarks).
    Scratch(Box<ModelConfig>),
}

impl ModelSource {
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
    let vs = VarStore::new(device);
    let model = make(&vs.root(), &cfg)?;
    match source {
        ModelSource::Dir(dir) => {
            let file = weights::weights_file(dir)?;
            let report = weights::load_weights(&vs, &file, cfg.family, head.prefixes())?;
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
    let vs = VarStore::new(device);
    let model = make(&vs.root(), cfg)?;
    weights::load_weights(&vs, &weights::weights_file(dir)?, cfg.family, &[])?;
    Ok((vs, model))
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

/// The labels of a fine-tuned checkpoint (`id2label` of its config.json).
pub fn labels(cfg: &ModelConfig) -> Result<Vec<String>> {
    match cfg.labels() {
        Some(labels) if !labels.is_empty() => Ok(labels),
        _ => bail!("config.json has no \"id2label\" labels"),
    }
}
