//! The ELECTRA family: the discriminator encoder as Hugging Face `ElectraModel` defines it; its
//! `ElectraClassificationHead` is [`DenseClassificationHead`] with GELU.
//!
//! Variable names follow the HF checkpoint layout one to one
//! (`electra.embeddings.word_embeddings.weight`, `electra.encoder.layer.0.attention.self.query.weight`, ...).
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use tch::{nn, nn::Module, Kind, Tensor};

use super::heads::DenseClassificationHead;
use super::layers::{dropout, embedding, layer_norm, linear, Attend, Block, Embedding, LayerNorm, MultiHeadAttention};
use super::weights::{check_layer_count, check_shapes};
use super::{check_sizes, defaults, Batch, Family, LayerStack, ModelConfig, RawConfig};

/// KoELECTRA: `model_type: "electra"` checkpoints, run by the `koelectra-*` configs.
pub const FAMILY: Family = Family {
    hf_model_type: "electra",
    prefix: "electra",
    bare_prefixes: &["embeddings.", "embeddings_project.", "encoder."],
    class_prefix: "Electra",
    model_types: &[
        "koelectra-base",
        "koelectra-small",
        "koelectra-base-v2",
        "koelectra-small-v2",
        "koelectra-base-v3",
        "koelectra-small-v3",
    ],
    read_config: |raw| ElectraConfig::read(raw)?.model_config(),
    encoder: |p, cfg| Ok(Box::new(ElectraModel::new(p / "electra", &ElectraConfig::of(cfg)?)?)),
    seq_cls_head: |p, cfg, num_labels| {
        let head = DenseClassificationHead::new(p / "classifier", cfg, num_labels, |xs| xs.gelu("none"))?;
        Ok(Box::new(head))
    },
    check_weights: |cfg, shapes| ElectraConfig::of(cfg)?.check_weights(shapes),
    parameters: |cfg| Ok(ElectraConfig::of(cfg)?.parameters()),
};

/// Architecture values of an HF ELECTRA `config.json`, with HF's `ElectraConfig` defaults for
/// absent keys; unknown keys are kept so a save round-trips them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ElectraConfig {
    #[serde(default = "defaults::int::<30522>")]
    pub vocab_size: i64,
    #[serde(default = "defaults::int::<128>")]
    pub embedding_size: i64,
    #[serde(default = "defaults::int::<256>")]
    pub hidden_size: i64,
    #[serde(default = "defaults::int::<12>")]
    pub num_hidden_layers: i64,
    #[serde(default = "defaults::int::<4>")]
    pub num_attention_heads: i64,
    #[serde(default = "defaults::int::<1024>")]
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

impl ElectraConfig {
    /// Reads and validates an HF `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = crate::limits::read_text_capped(path, crate::limits::MODEL_CONFIG_BYTES)
            .context("cannot read model config")?;
        Self::from_json_str(&text).with_context(|| format!("invalid model config {}", path.display()))
    }

    /// Parses and validates a config.json object (text or value).
    pub fn read(raw: RawConfig) -> Result<Self> {
        let cfg: Self = raw.parse()?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses and validates a config from JSON text.
    pub fn from_json_str(text: &str) -> Result<Self> {
        Self::read(RawConfig::Text(text))
    }

    /// Parses and validates a config from a JSON value (e.g. `model_config` in a run config).
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        Self::read(RawConfig::Value(value))
    }

    /// Dropout of the task heads (HF: `classifier_dropout`, else `hidden_dropout_prob`).
    pub fn head_dropout(&self) -> f64 {
        self.classifier_dropout.unwrap_or(self.hidden_dropout_prob)
    }

    /// The family-independent view of this config.
    pub fn model_config(&self) -> Result<ModelConfig> {
        let serde_json::Value::Object(json) = serde_json::to_value(self)? else {
            bail!("an ELECTRA config serializes to a JSON object");
        };
        Ok(ModelConfig {
            family: &FAMILY,
            hidden_size: self.hidden_size,
            num_hidden_layers: self.num_hidden_layers,
            max_position_embeddings: self.max_position_embeddings,
            initializer_range: self.initializer_range,
            head_dropout: self.head_dropout(),
            qa_dropout: 0.0,
            json,
        })
    }

    /// The ELECTRA config behind a [`ModelConfig`] of this family.
    pub fn of(cfg: &ModelConfig) -> Result<Self> {
        Self::read(cfg.raw())
    }

    /// Parameters of the encoder and a classification head, roughly (as a float: hostile sizes
    /// must not overflow).
    pub fn parameters(&self) -> f64 {
        let [v, e, h, n, i, p, t] = [
            self.vocab_size,
            self.embedding_size,
            self.hidden_size,
            self.num_hidden_layers,
            self.intermediate_size,
            self.max_position_embeddings,
            self.type_vocab_size,
        ]
        .map(|x| x as f64);
        let embeddings = (v + p + t + 2.0) * e + if e != h { e * h + h } else { 0.0 };
        let layer = 4.0 * (h * h + h) + 4.0 * h + 2.0 * h * i + i + h;
        embeddings + n * layer + h * h + h
    }

    /// Checks the sizes of this config against a checkpoint's tensor shapes (normalized names), so
    /// that a wrong or hostile config.json fails before any tensor is allocated.
    pub fn check_weights(&self, shapes: &HashMap<String, Vec<i64>>) -> Result<()> {
        let words = "electra.embeddings.word_embeddings.weight";
        if !shapes.contains_key(words) {
            bail!("the checkpoint has no {words} (is this an ELECTRA checkpoint?)");
        }
        let layer0 = "electra.encoder.layer.0.";
        let checks = [
            ("vocab_size", self.vocab_size, words.to_string(), 0),
            ("embedding_size", self.embedding_size, words.to_string(), 1),
            (
                "max_position_embeddings",
                self.max_position_embeddings,
                "electra.embeddings.position_embeddings.weight".into(),
                0,
            ),
            (
                "type_vocab_size",
                self.type_vocab_size,
                "electra.embeddings.token_type_embeddings.weight".into(),
                0,
            ),
            (
                "hidden_size",
                self.hidden_size,
                format!("{layer0}attention.self.query.weight"),
                0,
            ),
            (
                "intermediate_size",
                self.intermediate_size,
                format!("{layer0}intermediate.dense.weight"),
                0,
            ),
        ];
        check_shapes(shapes, &checks)?;
        check_layer_count(
            shapes,
            "electra.encoder.layer.",
            "num_hidden_layers",
            self.num_hidden_layers,
        )
    }

    /// Checks what this build supports and that the sizes make sense.
    pub(super) fn validate(&self) -> Result<()> {
        if self.hidden_act != "gelu" {
            bail!(
                "hidden_act \"{}\" is not supported (only \"gelu\", the exact erf GELU)",
                self.hidden_act
            );
        }
        if self.position_embedding_type != "absolute" {
            bail!(
                "position_embedding_type \"{}\" is not supported (only \"absolute\")",
                self.position_embedding_type
            );
        }
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
            ("embedding_size", self.embedding_size),
        ];
        let heads = [
            ("hidden_size", self.hidden_size),
            ("num_attention_heads", self.num_attention_heads),
        ];
        check_sizes(&positive, self.vocab_size, self.pad_token_id, heads)
    }
}

/// Word + position + token-type embeddings, LayerNorm, dropout.
#[derive(Debug)]
pub struct ElectraEmbeddings {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    token_type_embeddings: Embedding,
    layer_norm: LayerNorm,
    dropout: f64,
}

impl ElectraEmbeddings {
    pub fn new(p: nn::Path, cfg: &ElectraConfig) -> Result<Self> {
        let (e, init) = (cfg.embedding_size, cfg.initializer_range);
        Ok(Self {
            word_embeddings: embedding(&p / "word_embeddings", cfg.vocab_size, e, cfg.pad_token_id, init)?,
            position_embeddings: embedding(&p / "position_embeddings", cfg.max_position_embeddings, e, -1, init)?,
            token_type_embeddings: embedding(&p / "token_type_embeddings", cfg.type_vocab_size, e, -1, init)?,
            layer_norm: layer_norm(&p / "LayerNorm", e, cfg.layer_norm_eps)?,
            dropout: cfg.hidden_dropout_prob,
        })
    }

    pub fn forward_t(&self, input_ids: &Tensor, token_type_ids: &Tensor, train: bool) -> Tensor {
        let seq_len = input_ids.size()[1];
        let position_ids = Tensor::arange(seq_len, (Kind::Int64, input_ids.device())).unsqueeze(0);
        let xs = input_ids.apply(&self.word_embeddings)
            + position_ids.apply(&self.position_embeddings)
            + token_type_ids.apply(&self.token_type_embeddings);
        dropout(xs.apply(&self.layer_norm), self.dropout, train)
    }
}

/// HF's extended attention mask, built once per forward: 0 where a key may be attended to, the
/// dtype's lowest value on padding, `[batch, 1, 1, seq]`, in the dtype the attention runs in (the
/// autocast dtype under autocast: SDPA wants the mask in the query's dtype).
pub fn additive_mask(attention_mask: &Tensor) -> Tensor {
    let device = attention_mask.device();
    let kind = crate::device::shim::autocast_kind(device.is_cuda())
        .ok()
        .flatten()
        .unwrap_or(Kind::Float);
    let lowest = match kind {
        Kind::Half => -65504.0,
        Kind::BFloat16 => -3.389_531_389_251_535e38,
        _ => f64::from(f32::MIN),
    };
    let padding = attention_mask.eq(0).unsqueeze(1).unsqueeze(1);
    padding.to_kind(kind) * lowest
}

/// Dense + dropout + residual + LayerNorm, the "output" block used twice per layer.
#[derive(Debug)]
pub struct ElectraOutput {
    dense: nn::Linear,
    layer_norm: LayerNorm,
    dropout: f64,
}

impl ElectraOutput {
    pub fn new(p: nn::Path, in_dim: i64, cfg: &ElectraConfig) -> Result<Self> {
        Ok(Self {
            dense: linear(&p / "dense", in_dim, cfg.hidden_size, cfg.initializer_range)?,
            layer_norm: layer_norm(&p / "LayerNorm", cfg.hidden_size, cfg.layer_norm_eps)?,
            dropout: cfg.hidden_dropout_prob,
        })
    }

    pub fn forward_t(&self, xs: &Tensor, residual: &Tensor, train: bool) -> Tensor {
        (dropout(xs.apply(&self.dense), self.dropout, train) + residual).apply(&self.layer_norm)
    }
}

/// One post-LN transformer layer.
#[derive(Debug)]
pub struct ElectraLayer {
    /// `attention.self`.
    attention: MultiHeadAttention,
    attention_output: ElectraOutput,
    intermediate: nn::Linear,
    output: ElectraOutput,
}

impl ElectraLayer {
    pub fn new(p: nn::Path, cfg: &ElectraConfig) -> Result<Self> {
        let att = &p / "attention";
        Ok(Self {
            attention: MultiHeadAttention::new(
                &(&att / "self"),
                ["query", "key", "value"],
                cfg.hidden_size,
                cfg.num_attention_heads,
                cfg.attention_probs_dropout_prob,
                cfg.initializer_range,
            )?,
            attention_output: ElectraOutput::new(&att / "output", cfg.hidden_size, cfg)?,
            intermediate: linear(
                &p / "intermediate" / "dense",
                cfg.hidden_size,
                cfg.intermediate_size,
                cfg.initializer_range,
            )?,
            output: ElectraOutput::new(&p / "output", cfg.intermediate_size, cfg)?,
        })
    }
}

impl Block for ElectraLayer {
    fn forward_queries_t(&self, queries: &Tensor, xs: &Tensor, attend: &Attend, train: bool) -> Tensor {
        let att = self.attention.forward_t(queries, xs, attend, train);
        let ys = self.attention_output.forward_t(&att, queries, train);
        let inter = ys.apply(&self.intermediate).gelu("none");
        self.output.forward_t(&inter, &ys, train)
    }
}

/// `ElectraModel`: embeddings, optional projection to hidden size, and the layer stack.
#[derive(Debug)]
pub struct ElectraModel {
    embeddings: ElectraEmbeddings,
    embeddings_project: Option<nn::Linear>,
    layers: Vec<ElectraLayer>,
}

impl ElectraModel {
    /// Builds the encoder under `p` (normally `root / "electra"`), HF-initialised.
    pub fn new(p: nn::Path, cfg: &ElectraConfig) -> Result<Self> {
        let project = (cfg.embedding_size != cfg.hidden_size).then(|| {
            let p = &p / "embeddings_project";
            linear(p, cfg.embedding_size, cfg.hidden_size, cfg.initializer_range)
        });
        let layer_path = &p / "encoder" / "layer";
        Ok(Self {
            embeddings: ElectraEmbeddings::new(&p / "embeddings", cfg)?,
            embeddings_project: project.transpose()?,
            layers: (0..cfg.num_hidden_layers)
                .map(|i| ElectraLayer::new(&layer_path / i, cfg))
                .collect::<Result<_>>()?,
        })
    }
}

impl LayerStack for ElectraModel {
    type Layer = ElectraLayer;

    /// Embeddings (projected to the hidden size) and the additive attention mask.
    fn embed(&self, batch: &Batch, train: bool) -> (Tensor, Tensor) {
        let mut xs = self
            .embeddings
            .forward_t(&batch.input_ids, &batch.token_type_ids, train);
        if let Some(project) = &self.embeddings_project {
            xs = project.forward(&xs);
        }
        (xs, additive_mask(&batch.attention_mask))
    }

    fn layers(&self) -> &[ElectraLayer] {
        &self.layers
    }
}
