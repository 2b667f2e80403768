//! The BERT family (KoBERT): Hugging Face `BertModel` and `BertForSequenceClassification`'s head.
//!
//! BERT's encoder is ELECTRA's discriminator with `embedding_size == hidden_size` (HF's ELECTRA
//! classes are copied from BERT's), so [`BertModel`] runs an [`ElectraModel`] under `bert.`. The pooler
//! (`bert.pooler.dense`, tanh on the first token) is part of the sequence-classification head: it is
//! the only HF head that has one (`*ForTokenClassification` and `*ForQuestionAnswering` build
//! `BertModel(add_pooling_layer=False)`). [`BertConfig`] also reads XLM-RoBERTa's config
//! ([`super::roberta`]), whose keys are BERT's.
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tch::{nn, Tensor};

use super::electra::{ElectraConfig, ElectraLayer, ElectraModel};
use super::layers::{dropout, linear};
use super::weights::{check_layer_count, check_shapes};
use super::{defaults, Batch, Family, LayerStack, ModelConfig, RawConfig};

/// KoBERT: `model_type: "bert"` checkpoints, run by the `kobert` configs.
pub const FAMILY: Family = Family {
    hf_model_type: "bert",
    prefix: "bert",
    bare_prefixes: &["embeddings.", "encoder.", "pooler."],
    class_prefix: "Bert",
    model_types: &["kobert"],
    read_config: |raw| BertConfig::read(raw)?.model_config(&FAMILY),
    encoder: |p, cfg| Ok(Box::new(BertModel::new(p / FAMILY.prefix, &BertConfig::of(cfg)?)?)),
    seq_cls_head: |p, cfg, num_labels| Ok(Box::new(BertClassificationHead::new(p, cfg, num_labels)?)),
    check_weights: |cfg, shapes| BertConfig::of(cfg)?.check_weights(&FAMILY, shapes),
    parameters: |cfg| {
        let cfg = BertConfig::of(cfg)?;
        Ok(cfg.parameters() + cfg.pooler_parameters())
    },
};

/// Names of the pooler, which [`BertClassificationHead`] owns.
pub const POOLER_PREFIX: &str = "bert.pooler.";

/// Architecture values of an HF BERT `config.json` (also XLM-RoBERTa's), with HF's `BertConfig`
/// defaults for absent keys; unknown keys are kept so a save round-trips them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BertConfig {
    #[serde(default = "defaults::int::<30522>")]
    pub vocab_size: i64,
    #[serde(default = "defaults::int::<768>")]
    pub hidden_size: i64,
    #[serde(default = "defaults::int::<12>")]
    pub num_hidden_layers: i64,
    #[serde(default = "defaults::int::<12>")]
    pub num_attention_heads: i64,
    #[serde(default = "defaults::int::<3072>")]
    pub intermediate_size: i64,
    #[serde(default = "defaults::gelu")]
    pub hidden_act: String,
    #[serde(default = "defaults::dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "defaults::dropout")]
    pub attention_probs_dropout_prob: f64,
    #[serde(default = "defaults::int::<512>")]
    pub max_position_embeddings: i64,
    #[serde(default = "defaults::int::<2>")]
    pub type_vocab_size: i64,
    #[serde(default = "defaults::initializer_range")]
    pub initializer_range: f64,
    #[serde(default = "defaults::layer_norm_eps")]
    pub layer_norm_eps: f64,
    /// BERT's default is 0; XLM-R's reader fills in its own (1) before this struct reads the file.
    #[serde(default)]
    pub pad_token_id: i64,
    #[serde(default)]
    pub classifier_dropout: Option<f64>,
    #[serde(default = "defaults::absolute")]
    pub position_embedding_type: String,
    /// Every other key of the file (`architectures`, `id2label`, `model_type`, ...), kept as is.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl BertConfig {
    /// Parses and validates a config.json object (text or value).
    pub fn read(raw: RawConfig) -> Result<Self> {
        let cfg: Self = raw.parse()?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The BERT config behind a [`ModelConfig`] of this family (or of XLM-R).
    pub fn of(cfg: &ModelConfig) -> Result<Self> {
        Self::read(cfg.raw())
    }

    /// Dropout of the task heads (HF: `classifier_dropout`, else `hidden_dropout_prob`).
    pub fn head_dropout(&self) -> f64 {
        self.classifier_dropout.unwrap_or(self.hidden_dropout_prob)
    }

    /// The family-independent view of this config, for `family` (BERT or XLM-R).
    pub fn model_config(&self, family: &'static Family) -> Result<ModelConfig> {
        let serde_json::Value::Object(json) = serde_json::to_value(self)? else {
            bail!("a BERT config serializes to a JSON object");
        };
        Ok(ModelConfig {
            family,
            hidden_size: self.hidden_size,
            num_hidden_layers: self.num_hidden_layers,
            max_position_embeddings: self.max_position_embeddings,
            initializer_range: self.initializer_range,
            head_dropout: self.head_dropout(),
            qa_dropout: 0.0,
            json,
        })
    }

    /// The same encoder as an ELECTRA config: embeddings as wide as the hidden states (so no
    /// `embeddings_project`), everything else as is.
    pub fn electra_layout(&self) -> ElectraConfig {
        ElectraConfig {
            vocab_size: self.vocab_size,
            embedding_size: self.hidden_size,
            hidden_size: self.hidden_size,
            num_hidden_layers: self.num_hidden_layers,
            num_attention_heads: self.num_attention_heads,
            intermediate_size: self.intermediate_size,
            hidden_act: self.hidden_act.clone(),
            hidden_dropout_prob: self.hidden_dropout_prob,
            attention_probs_dropout_prob: self.attention_probs_dropout_prob,
            max_position_embeddings: self.max_position_embeddings,
            type_vocab_size: self.type_vocab_size,
            initializer_range: self.initializer_range,
            layer_norm_eps: self.layer_norm_eps,
            pad_token_id: self.pad_token_id,
            classifier_dropout: self.classifier_dropout,
            position_embedding_type: self.position_embedding_type.clone(),
            extra: serde_json::Map::new(),
        }
    }

    /// Parameters of the encoder and a one-layer head, roughly (ELECTRA's count, without the
    /// embedding projection).
    pub fn parameters(&self) -> f64 {
        self.electra_layout().parameters()
    }

    /// Parameters of BERT's pooler.
    fn pooler_parameters(&self) -> f64 {
        let h = self.hidden_size as f64;
        h * h + h
    }

    /// Checks the sizes of this config against a checkpoint's tensor shapes (normalized names under
    /// `family.prefix`), so that a wrong or hostile config.json fails before any tensor is allocated.
    pub fn check_weights(&self, family: &Family, shapes: &HashMap<String, Vec<i64>>) -> Result<()> {
        let prefix = family.prefix;
        let words = format!("{prefix}.embeddings.word_embeddings.weight");
        if !shapes.contains_key(&words) {
            bail!(
                "the checkpoint has no {words} (is this a {} checkpoint?)",
                family.hf_model_type
            );
        }
        let layer0 = format!("{prefix}.encoder.layer.0.");
        let embeddings = |name: &str| format!("{prefix}.embeddings.{name}.weight");
        check_shapes(
            shapes,
            &[
                ("vocab_size", self.vocab_size, words.clone(), 0),
                ("hidden_size", self.hidden_size, words, 1),
                (
                    "max_position_embeddings",
                    self.max_position_embeddings,
                    embeddings("position_embeddings"),
                    0,
                ),
                (
                    "type_vocab_size",
                    self.type_vocab_size,
                    embeddings("token_type_embeddings"),
                    0,
                ),
                (
                    "intermediate_size",
                    self.intermediate_size,
                    format!("{layer0}intermediate.dense.weight"),
                    0,
                ),
            ],
        )?;
        check_layer_count(
            shapes,
            &format!("{prefix}.encoder.layer."),
            "num_hidden_layers",
            self.num_hidden_layers,
        )
    }

    /// ELECTRA's checks (the same keys; `embedding_size` is `hidden_size` here).
    fn validate(&self) -> Result<()> {
        self.electra_layout().validate()
    }
}

/// `BertModel` without its pooler: word + position + token-type embeddings, LayerNorm, dropout, and
/// the post-LN layer stack, with ELECTRA's code and BERT's names (`bert.encoder.layer.0...`).
#[derive(Debug)]
pub struct BertModel {
    inner: ElectraModel,
}

impl BertModel {
    /// Builds the encoder under `p` (normally `root / "bert"`), HF-initialised.
    pub fn new(p: nn::Path, cfg: &BertConfig) -> Result<Self> {
        let inner = ElectraModel::new(p, &cfg.electra_layout()).context("cannot build the BERT encoder")?;
        Ok(Self { inner })
    }
}

impl LayerStack for BertModel {
    type Layer = ElectraLayer;

    fn embed(&self, batch: &Batch, train: bool) -> (Tensor, Tensor) {
        self.inner.embed(batch, train)
    }

    fn layers(&self) -> &[ElectraLayer] {
        self.inner.layers()
    }
}

/// `BertForSequenceClassification`'s head: the pooler (`bert.pooler.dense`, tanh) on the first
/// token → dropout → `classifier`.
#[derive(Debug)]
pub struct BertClassificationHead {
    pooler: nn::Linear,
    classifier: nn::Linear,
    dropout: f64,
}

impl BertClassificationHead {
    /// Builds the pooler at `root / "bert" / "pooler" / "dense"` and the classifier at
    /// `root / "classifier"`, in HF's order.
    pub fn new(root: &nn::Path, cfg: &ModelConfig, num_labels: i64) -> Result<Self> {
        let (h, init) = (cfg.hidden_size, cfg.initializer_range);
        Ok(Self {
            pooler: linear(root / FAMILY.prefix / "pooler" / "dense", h, h, init)?,
            classifier: linear(root / "classifier", h, num_labels, init)?,
            dropout: cfg.head_dropout,
        })
    }
}

impl nn::ModuleT for BertClassificationHead {
    /// Logits `[batch, num_labels]` from hidden states `[batch, seq, hidden]` (position 0 is read).
    fn forward_t(&self, hidden: &Tensor, train: bool) -> Tensor {
        let pooled = hidden.select(1, 0).apply(&self.pooler).tanh();
        dropout(pooled, self.dropout, train).apply(&self.classifier)
    }
}
