//! The XLM-RoBERTa family: Hugging Face `XLMRobertaModel` as its task models build it
//! (`add_pooling_layer=False`: no pooler); its `XLMRobertaClassificationHead` is
//! [`DenseClassificationHead`] with tanh.
//!
//! RoBERTa is BERT with other position ids: `cumsum(mask) * mask + pad_token_id`, where `mask` marks
//! the ids that are not `pad_token_id`, so positions start at `pad_token_id + 1` and padding gets the
//! (zeroed, never trained) `pad_token_id` row. The config is BERT's ([`BertConfig`]) with XLM-R's
//! default `pad_token_id` (1); the layers are BERT's, i.e. ELECTRA's ([`ElectraLayer`]), with the
//! same names under `roberta.`.
use anyhow::{bail, Result};
use serde_json::Value;
use tch::{nn, Kind, Tensor};

use super::bert::BertConfig;
use super::electra::{additive_mask, ElectraLayer};
use super::heads::DenseClassificationHead;
use super::layers::{dropout, embedding, layer_norm, Embedding, LayerNorm};
use super::{Batch, Family, LayerStack, ModelConfig, RawConfig};

/// XLM-RoBERTa: `model_type: "xlm-roberta"` checkpoints, run by the `xlm-roberta` configs.
pub const FAMILY: Family = Family {
    hf_model_type: "xlm-roberta",
    prefix: "roberta",
    bare_prefixes: &["embeddings.", "encoder.", "pooler."],
    class_prefix: "XLMRoberta",
    model_types: &["xlm-roberta"],
    read_config: |raw| model_config(&read_config(raw)?),
    encoder: |p, cfg| Ok(Box::new(RobertaModel::new(p / FAMILY.prefix, &BertConfig::of(cfg)?)?)),
    seq_cls_head: |p, cfg, num_labels| {
        let head = DenseClassificationHead::new(p / "classifier", cfg, num_labels, Tensor::tanh)?;
        Ok(Box::new(head))
    },
    check_weights: |cfg, shapes| BertConfig::of(cfg)?.check_weights(&FAMILY, shapes),
    parameters: |cfg| Ok(BertConfig::of(cfg)?.parameters()),
};

/// HF's `XLMRobertaConfig` default `pad_token_id` (BERT's is 0).
const DEFAULT_PAD_TOKEN_ID: i64 = 1;

/// Reads an XLM-R config.json: BERT's keys and defaults, but `pad_token_id` 1 when absent; the
/// position table must hold the positions from `pad_token_id + 1` on.
pub fn read_config(raw: RawConfig) -> Result<BertConfig> {
    let mut value: Value = match raw {
        RawConfig::Text(text) => serde_json::from_str(text)?,
        RawConfig::Value(value) => value,
    };
    if let Value::Object(map) = &mut value {
        map.entry("pad_token_id").or_insert(DEFAULT_PAD_TOKEN_ID.into());
    }
    let cfg = BertConfig::read(RawConfig::Value(value))?;
    if cfg.pad_token_id < 0 || cfg.max_position_embeddings <= cfg.pad_token_id + 1 {
        bail!(
            "pad_token_id {} leaves no positions in max_position_embeddings {} (RoBERTa's positions start at \
             pad_token_id + 1)",
            cfg.pad_token_id,
            cfg.max_position_embeddings
        );
    }
    Ok(cfg)
}

/// The family-independent view of an XLM-R config: the longest input is `max_position_embeddings`
/// less the rows at and below `pad_token_id` (514 - 2 = 512 for `xlm-roberta-base`).
fn model_config(cfg: &BertConfig) -> Result<ModelConfig> {
    let mut model = cfg.model_config(&FAMILY)?;
    model.max_position_embeddings = cfg.max_position_embeddings - cfg.pad_token_id - 1;
    Ok(model)
}

/// Word + position + token-type embeddings, LayerNorm, dropout, with RoBERTa's position ids.
#[derive(Debug)]
pub struct RobertaEmbeddings {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    token_type_embeddings: Embedding,
    layer_norm: LayerNorm,
    dropout: f64,
    padding_idx: i64,
}

impl RobertaEmbeddings {
    pub fn new(p: nn::Path, cfg: &BertConfig) -> Result<Self> {
        let (h, init, pad) = (cfg.hidden_size, cfg.initializer_range, cfg.pad_token_id);
        Ok(Self {
            word_embeddings: embedding(&p / "word_embeddings", cfg.vocab_size, h, pad, init)?,
            position_embeddings: embedding(&p / "position_embeddings", cfg.max_position_embeddings, h, pad, init)?,
            token_type_embeddings: embedding(&p / "token_type_embeddings", cfg.type_vocab_size, h, -1, init)?,
            layer_norm: layer_norm(&p / "LayerNorm", h, cfg.layer_norm_eps)?,
            dropout: cfg.hidden_dropout_prob,
            padding_idx: pad,
        })
    }

    /// Embeddings of `input_ids` `[batch, seq]`. Token types are all 0, as HF's XLM-R tokenizer
    /// gives none (the batch's `token_type_ids` are not read).
    pub fn forward_t(&self, input_ids: &Tensor, train: bool) -> Tensor {
        let mask = input_ids.ne(self.padding_idx).to_kind(Kind::Int64);
        let position_ids = mask.cumsum(1, Kind::Int64) * &mask + self.padding_idx;
        // The type-0 row, as `token_type_embeddings(zeros)` gives it at every position.
        let token_type = self.token_type_embeddings.ws.get(0);
        let xs = input_ids.apply(&self.word_embeddings) + token_type + position_ids.apply(&self.position_embeddings);
        dropout(xs.apply(&self.layer_norm), self.dropout, train)
    }
}

/// `XLMRobertaModel(add_pooling_layer=False)`: embeddings and the layer stack.
#[derive(Debug)]
pub struct RobertaModel {
    embeddings: RobertaEmbeddings,
    layers: Vec<ElectraLayer>,
}

impl RobertaModel {
    /// Builds the encoder under `p` (normally `root / "roberta"`), HF-initialised.
    pub fn new(p: nn::Path, cfg: &BertConfig) -> Result<Self> {
        let layout = cfg.electra_layout();
        let layer_path = &p / "encoder" / "layer";
        Ok(Self {
            embeddings: RobertaEmbeddings::new(&p / "embeddings", cfg)?,
            layers: (0..cfg.num_hidden_layers)
                .map(|i| ElectraLayer::new(&layer_path / i, &layout))
                .collect::<Result<_>>()?,
        })
    }
}

impl LayerStack for RobertaModel {
    type Layer = ElectraLayer;

    /// Embeddings and the additive attention mask.
    fn embed(&self, batch: &Batch, train: bool) -> (Tensor, Tensor) {
        let xs = self.embeddings.forward_t(&batch.input_ids, train);
        (xs, additive_mask(&batch.attention_mask))
    }

    fn layers(&self) -> &[ElectraLayer] {
        &self.layers
    }
}
