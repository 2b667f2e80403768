//! The DistilBERT family (DistilKoBERT): Hugging Face `DistilBertModel` and
//! `DistilBertForSequenceClassification`'s head.
//!
//! Names follow the HF checkpoint layout (`distilbert.embeddings.word_embeddings.weight`,
//! `distilbert.transformer.layer.0.attention.q_lin.weight`, `pre_classifier.weight`, ...). DistilBERT
//! has learned positions and no token types: the batch's `token_type_ids` are not read.
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tch::{nn, Kind, Tensor};

use super::electra::additive_mask;
use super::layers::{dropout, embedding, layer_norm, linear, Attend, Block, Embedding, LayerNorm, MultiHeadAttention};
use super::weights::{check_layer_count, check_shapes};
use super::{check_sizes, defaults, Batch, Family, LayerStack, ModelConfig, RawConfig};

/// DistilKoBERT: `model_type: "distilbert"` checkpoints, run by the `distilkobert` configs.
pub const FAMILY: Family = Family {
    hf_model_type: "distilbert",
    prefix: "distilbert",
    bare_prefixes: &["embeddings.", "transformer."],
    class_prefix: "DistilBert",
    model_types: &["distilkobert"],
    read_config: |raw| DistilBertConfig::read(raw)?.model_config(),
    encoder: |p, cfg| {
        Ok(Box::new(DistilBertModel::new(
            p / FAMILY.prefix,
            &DistilBertConfig::of(cfg)?,
        )?))
    },
    seq_cls_head: |p, cfg, num_labels| {
        Ok(Box::new(DistilBertClassificationHead::new(
            p,
            &DistilBertConfig::of(cfg)?,
            num_labels,
        )?))
    },
    check_weights: |cfg, shapes| DistilBertConfig::of(cfg)?.check_weights(shapes),
    parameters: |cfg| Ok(DistilBertConfig::of(cfg)?.parameters()),
};

/// DistilBERT's LayerNorm epsilon (fixed in HF's code, not a config key).
const LAYER_NORM_EPS: f64 = 1e-12;

/// Architecture values of an HF DistilBERT `config.json`, with HF's `DistilBertConfig` defaults for
/// absent keys; unknown keys are kept so a save round-trips them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DistilBertConfig {
    #[serde(default = "defaults::int::<30522>")]
    pub vocab_size: i64,
    #[serde(default = "defaults::int::<512>")]
    pub max_position_embeddings: i64,
    #[serde(default)]
    pub sinusoidal_pos_embds: bool,
    #[serde(default = "defaults::int::<6>")]
    pub n_layers: i64,
    #[serde(default = "defaults::int::<12>")]
    pub n_heads: i64,
    #[serde(default = "defaults::int::<768>")]
    pub dim: i64,
    #[serde(default = "defaults::int::<3072>")]
    pub hidden_dim: i64,
    #[serde(default = "defaults::dropout")]
    pub dropout: f64,
    #[serde(default = "defaults::dropout")]
    pub attention_dropout: f64,
    #[serde(default = "defaults::gelu")]
    pub activation: String,
    #[serde(default = "defaults::initializer_range")]
    pub initializer_range: f64,
    #[serde(default = "defaults::dropout")]
    pub qa_dropout: f64,
    #[serde(default = "default_seq_classif_dropout")]
    pub seq_classif_dropout: f64,
    #[serde(default)]
    pub pad_token_id: i64,
    /// Every other key of the file (`architectures`, `id2label`, `model_type`, ...), kept as is.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn default_seq_classif_dropout() -> f64 {
    0.2
}

/// The feed-forward activations of HF's `get_activation` this build runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activation {
    /// The exact (erf) GELU.
    Gelu,
    Relu,
}

impl DistilBertConfig {
    /// Parses and validates a config.json object (text or value).
    pub fn read(raw: RawConfig) -> Result<Self> {
        let cfg: Self = raw.parse()?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The DistilBERT config behind a [`ModelConfig`] of this family.
    pub fn of(cfg: &ModelConfig) -> Result<Self> {
        Self::read(cfg.raw())
    }

    /// The family-independent view of this config: the token-classification head's dropout is
    /// `dropout`, the QA head's `qa_dropout` (HF's `DistilBertFor*`).
    pub fn model_config(&self) -> Result<ModelConfig> {
        let serde_json::Value::Object(json) = serde_json::to_value(self)? else {
            bail!("a DistilBERT config serializes to a JSON object");
        };
        Ok(ModelConfig {
            family: &FAMILY,
            hidden_size: self.dim,
            num_hidden_layers: self.n_layers,
            max_position_embeddings: self.max_position_embeddings,
            initializer_range: self.initializer_range,
            head_dropout: self.dropout,
            qa_dropout: self.qa_dropout,
            json,
        })
    }

    fn activation(&self) -> Result<Activation> {
        match self.activation.as_str() {
            "gelu" => Ok(Activation::Gelu),
            "relu" => Ok(Activation::Relu),
            other => bail!("activation \"{other}\" is not supported (only \"gelu\", the exact erf GELU, and \"relu\")"),
        }
    }

    /// Parameters of the encoder and the sequence-classification head, roughly (a float: hostile
    /// sizes must not overflow).
    pub fn parameters(&self) -> f64 {
        let [v, d, n, i, p] = [
            self.vocab_size,
            self.dim,
            self.n_layers,
            self.hidden_dim,
            self.max_position_embeddings,
        ]
        .map(|x| x as f64);
        let embeddings = (v + p + 2.0) * d;
        let layer = 4.0 * (d * d + d) + 4.0 * d + 2.0 * d * i + i + d;
        embeddings + n * layer + d * d + d
    }

    /// Checks the sizes of this config against a checkpoint's tensor shapes (normalized names), so
    /// that a wrong or hostile config.json fails before any tensor is allocated.
    pub fn check_weights(&self, shapes: &HashMap<String, Vec<i64>>) -> Result<()> {
        let words = "distilbert.embeddings.word_embeddings.weight";
        if !shapes.contains_key(words) {
            bail!("the checkpoint has no {words} (is this a DistilBERT checkpoint?)");
        }
        let layer0 = "distilbert.transformer.layer.0.";
        check_shapes(
            shapes,
            &[
                ("vocab_size", self.vocab_size, words.into(), 0),
                ("dim", self.dim, words.into(), 1),
                (
                    "max_position_embeddings",
                    self.max_position_embeddings,
                    "distilbert.embeddings.position_embeddings.weight".into(),
                    0,
                ),
                ("hidden_dim", self.hidden_dim, format!("{layer0}ffn.lin1.weight"), 0),
            ],
        )?;
        check_layer_count(shapes, "distilbert.transformer.layer.", "n_layers", self.n_layers)
    }

    fn validate(&self) -> Result<()> {
        self.activation()?;
        if self.sinusoidal_pos_embds {
            bail!("sinusoidal_pos_embds true is not supported (only learned position embeddings)");
        }
        let positive = [
            ("vocab_size", self.vocab_size),
            ("dim", self.dim),
            ("n_layers", self.n_layers),
            ("n_heads", self.n_heads),
            ("hidden_dim", self.hidden_dim),
            ("max_position_embeddings", self.max_position_embeddings),
        ];
        let heads = [("dim", self.dim), ("n_heads", self.n_heads)];
        check_sizes(&positive, self.vocab_size, self.pad_token_id, heads)
    }
}

/// Word + position embeddings (no token types), LayerNorm, dropout.
#[derive(Debug)]
pub struct DistilBertEmbeddings {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    layer_norm: LayerNorm,
    dropout: f64,
}

impl DistilBertEmbeddings {
    pub fn new(p: nn::Path, cfg: &DistilBertConfig) -> Result<Self> {
        let (d, init) = (cfg.dim, cfg.initializer_range);
        Ok(Self {
            word_embeddings: embedding(&p / "word_embeddings", cfg.vocab_size, d, cfg.pad_token_id, init)?,
            position_embeddings: embedding(&p / "position_embeddings", cfg.max_position_embeddings, d, -1, init)?,
            layer_norm: layer_norm(&p / "LayerNorm", d, LAYER_NORM_EPS)?,
            dropout: cfg.dropout,
        })
    }

    pub fn forward_t(&self, input_ids: &Tensor, train: bool) -> Tensor {
        let seq_len = input_ids.size()[1];
        let position_ids = Tensor::arange(seq_len, (Kind::Int64, input_ids.device())).unsqueeze(0);
        let xs = input_ids.apply(&self.word_embeddings) + position_ids.apply(&self.position_embeddings);
        dropout(xs.apply(&self.layer_norm), self.dropout, train)
    }
}

/// `MultiHeadSelfAttention`: `q_lin`, `k_lin`, `v_lin`, attention, `out_lin`.
#[derive(Debug)]
pub struct MultiHeadSelfAttention {
    heads: MultiHeadAttention,
    out_lin: nn::Linear,
}

impl MultiHeadSelfAttention {
    pub fn new(p: nn::Path, cfg: &DistilBertConfig) -> Result<Self> {
        let (d, init) = (cfg.dim, cfg.initializer_range);
        Ok(Self {
            heads: MultiHeadAttention::new(
                &p,
                ["q_lin", "k_lin", "v_lin"],
                d,
                cfg.n_heads,
                cfg.attention_dropout,
                init,
            )?,
            out_lin: linear(&p / "out_lin", d, d, init)?,
        })
    }

    /// [`MultiHeadAttention::forward_t`] (padded or packed), through `out_lin`;
    /// `attend` holds [`additive_mask`]'s mask.
    pub fn forward_t(&self, queries: &Tensor, xs: &Tensor, attend: &Attend, train: bool) -> Tensor {
        self.heads.forward_t(queries, xs, attend, train).apply(&self.out_lin)
    }
}

/// `TransformerBlock`: attention → `sa_layer_norm`(+ residual) → `ffn` (lin1, activation, lin2,
/// dropout) → `output_layer_norm`(+ residual).
#[derive(Debug)]
pub struct TransformerBlock {
    attention: MultiHeadSelfAttention,
    sa_layer_norm: LayerNorm,
    lin1: nn::Linear,
    lin2: nn::Linear,
    output_layer_norm: LayerNorm,
    activation: Activation,
    dropout: f64,
}

impl TransformerBlock {
    pub fn new(p: nn::Path, cfg: &DistilBertConfig) -> Result<Self> {
        let (d, init) = (cfg.dim, cfg.initializer_range);
        let ffn = &p / "ffn";
        Ok(Self {
            attention: MultiHeadSelfAttention::new(&p / "attention", cfg)?,
            sa_layer_norm: layer_norm(&p / "sa_layer_norm", d, LAYER_NORM_EPS)?,
            lin1: linear(&ffn / "lin1", d, cfg.hidden_dim, init)?,
            lin2: linear(&ffn / "lin2", cfg.hidden_dim, d, init)?,
            output_layer_norm: layer_norm(&p / "output_layer_norm", d, LAYER_NORM_EPS)?,
            activation: cfg.activation()?,
            dropout: cfg.dropout,
        })
    }
}

impl Block for TransformerBlock {
    fn forward_queries_t(&self, queries: &Tensor, xs: &Tensor, attend: &Attend, train: bool) -> Tensor {
        let sa = (self.attention.forward_t(queries, xs, attend, train) + queries).apply(&self.sa_layer_norm);
        let hidden = sa.apply(&self.lin1);
        let hidden = match self.activation {
            Activation::Gelu => hidden.gelu("none"),
            Activation::Relu => hidden.relu(),
        };
        let ffn = dropout(hidden.apply(&self.lin2), self.dropout, train);
        (ffn + sa).apply(&self.output_layer_norm)
    }
}

/// `DistilBertModel`: embeddings and `transformer.layer`.
#[derive(Debug)]
pub struct DistilBertModel {
    embeddings: DistilBertEmbeddings,
    layers: Vec<TransformerBlock>,
}

impl DistilBertModel {
    /// Builds the encoder under `p` (normally `root / "distilbert"`), HF-initialised.
    pub fn new(p: nn::Path, cfg: &DistilBertConfig) -> Result<Self> {
        let layer_path = &p / "transformer" / "layer";
        Ok(Self {
            embeddings: DistilBertEmbeddings::new(&p / "embeddings", cfg)?,
            layers: (0..cfg.n_layers)
                .map(|i| TransformerBlock::new(&layer_path / i, cfg))
                .collect::<Result<_>>()?,
        })
    }
}

impl LayerStack for DistilBertModel {
    type Layer = TransformerBlock;

    /// Embeddings and the additive attention mask.
    fn embed(&self, batch: &Batch, train: bool) -> (Tensor, Tensor) {
        let xs = self.embeddings.forward_t(&batch.input_ids, train);
        (xs, additive_mask(&batch.attention_mask))
    }

    fn layers(&self) -> &[TransformerBlock] {
        &self.layers
    }
}

/// `DistilBertForSequenceClassification`'s head: first token → `pre_classifier` → ReLU →
/// dropout(`seq_classif_dropout`) → `classifier`.
#[derive(Debug)]
pub struct DistilBertClassificationHead {
    pre_classifier: nn::Linear,
    classifier: nn::Linear,
    dropout: f64,
}

impl DistilBertClassificationHead {
    /// Builds `pre_classifier` and `classifier` at `root`, in HF's order.
    pub fn new(root: &nn::Path, cfg: &DistilBertConfig, num_labels: i64) -> Result<Self> {
        let (d, init) = (cfg.dim, cfg.initializer_range);
        Ok(Self {
            pre_classifier: linear(root / "pre_classifier", d, d, init)?,
            classifier: linear(root / "classifier", d, num_labels, init)?,
            dropout: cfg.seq_classif_dropout,
        })
    }
}

impl nn::ModuleT for DistilBertClassificationHead {
    /// Logits `[batch, num_labels]` from hidden states `[batch, seq, dim]` (position 0 is read).
    fn forward_t(&self, hidden: &Tensor, train: bool) -> Tensor {
        let pooled = hidden.select(1, 0).apply(&self.pre_classifier).relu();
        dropout(pooled, self.dropout, train).apply(&self.classifier)
    }
}
