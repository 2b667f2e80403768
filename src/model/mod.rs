//! ELECTRA encoder and task heads, plus building one for a task from a checkpoint.
pub mod electra;
pub mod heads;

use crate::checkpoint::{self, LoadReport};
use anyhow::{Context, Result};
use electra::ElectraConfig;
use heads::*;
use std::path::Path;
use tch::{nn::VarStore, Device};

/// An ELECTRA model with one of the three heads.
#[derive(Debug)]
pub enum TaskModel {
    SequenceClassification(ElectraForSequenceClassification),
    TokenClassification(ElectraForTokenClassification),
    QuestionAnswering(ElectraForQuestionAnswering),
}

impl TaskModel {
    /// Builds the model for `head` under the VarStore root, HF-initialised.
    pub fn new(vs: &VarStore, cfg: &ElectraConfig, head: HeadKind, num_labels: i64) -> Self {
        let root = vs.root();
        match head {
            HeadKind::SequenceClassification => {
                Self::SequenceClassification(ElectraForSequenceClassification::new(&root, cfg, num_labels))
            }
            HeadKind::TokenClassification => {
                Self::TokenClassification(ElectraForTokenClassification::new(&root, cfg, num_labels))
            }
            HeadKind::QuestionAnswering => Self::QuestionAnswering(ElectraForQuestionAnswering::new(&root, cfg)),
        }
    }
}

/// A model built for a task and filled from a checkpoint directory.
#[derive(Debug)]
pub struct LoadedModel {
    pub vs: VarStore,
    pub model: TaskModel,
    pub config: ElectraConfig,
    pub report: LoadReport,
}

/// Loads `config.json` + weights from `dir` into a fresh model with `head` on `device`.
pub fn load_for_task(dir: &Path, head: HeadKind, num_labels: i64, device: Device) -> Result<LoadedModel> {
    let config = ElectraConfig::from_file(&dir.join("config.json"))?;
    let vs = VarStore::new(device);
    let model = TaskModel::new(&vs, &config, head, num_labels);
    let weights = checkpoint::weights_file(dir)?;
    let report = checkpoint::load_weights(&vs, &weights, head.prefixes())
        .with_context(|| format!("cannot load model from {}", dir.display()))?;
    Ok(LoadedModel {
        vs,
        model,
        config,
        report,
    })
}
