//! Models: the encoder seam, the encoder families, the three task heads and checkpoint files.
//!
//! An encoder family (ELECTRA, BERT, DistilBERT, XLM-RoBERTa) is a [`Family`]: how its
//! `config.json` reads, how its encoder and its sequence-classification head are built, and what its
//! checkpoint names look like. The heads ([`heads`]) and the rest of the pipeline only see
//! [`ModelConfig`] and the [`Encoder`] trait, so adding a family means a new file plus a line in
//! [`FAMILIES`].
pub mod bert;
mod defaults;
pub mod distilbert;
pub mod electra;
pub mod heads;
pub mod layers;
pub mod roberta;
pub mod source;
pub mod weights;

use std::collections::HashMap;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};
use tch::{nn, Tensor};

use crate::device::Upload;
use crate::error::{short_json, usage_error};
use layers::{stack_forward_first_t, stack_forward_packed_t, stack_forward_t, Block};

/// Encoder inputs of one batch, all `[batch, seq]` int64 on the model's device.
#[derive(Debug)]
pub struct Batch {
    pub input_ids: Tensor,
    pub attention_mask: Tensor,
    pub token_type_ids: Tensor,
    /// Where the real tokens are, when the encoder may skip the padding (sequence and token
    /// classification).
    pub packing: Option<Packing>,
}

impl Batch {
    /// Sends ids, mask and type ids (`shape` each, in that order) and then the arrays of `extra` to
    /// `device` in one copy ([`Upload`]); returns the batch and the extra arrays.
    pub fn send(
        parts: [&[i64]; 3],
        shape: [i64; 2],
        extra: Upload,
        device: tch::Device,
    ) -> Result<(Batch, Vec<Tensor>)> {
        Self::send_with(parts, shape, None, extra, device)
    }

    /// [`Batch::send`] for a sequence- or token-classification batch: if `packable`, with a
    /// [`Packing`] (in the same copy) where [`Packing::plan`] finds it pays.
    pub fn send_packable(
        parts: [&[i64]; 3],
        shape: [i64; 2],
        packable: bool,
        extra: Upload,
        device: tch::Device,
    ) -> Result<(Batch, Vec<Tensor>)> {
        let plan = packable.then(|| Packing::plan(parts[1], shape)).flatten();
        Self::send_with(parts, shape, plan, extra, device)
    }

    fn send_with(
        parts: [&[i64]; 3],
        shape: [i64; 2],
        plan: Option<[Vec<i64>; 3]>,
        extra: Upload,
        device: tch::Device,
    ) -> Result<(Batch, Vec<Tensor>)> {
        let mut upload = Upload::new();
        for part in parts {
            upload.push(part, &shape);
        }
        if let Some(plan) = &plan {
            for array in plan {
                upload.push(array, &[array.len() as i64]);
            }
        }
        upload.extend(extra);
        let mut tensors = upload.send(device)?.into_iter();
        let mut next = || tensors.next().context("an upload returned fewer arrays than pushed");
        let (input_ids, attention_mask, token_type_ids) = (next()?, next()?, next()?);
        let packing = match plan {
            Some(_) => Some(Packing {
                tokens: next()?,
                spread: next()?,
                firsts: next()?,
            }),
            None => None,
        };
        let batch = Batch {
            input_ids,
            attention_mask,
            token_type_ids,
            packing,
        };
        Ok((batch, tensors.collect()))
    }
}

/// A batch's real tokens, so that the dense layers (projections, feed-forward, LayerNorm) run on
/// them alone, `[tokens, hidden]`, and only attention sees the padded `[batch, seq]` layout. Every
/// real token's value is the padded computation's (padding is masked out as a key, and a padded
/// query's output is dropped); a random NSMC batch is about 70% padding.
#[derive(Debug)]
pub struct Packing {
    /// Flat positions (`row * seq + column`) of the real tokens, in order, `[tokens]`.
    pub tokens: Tensor,
    /// For each flat position, the packed row of its token, `[batch * seq]`. Padding points at row
    /// 0: any real row will do, as attention never reads it (and its gradient there is zero).
    pub spread: Tensor,
    /// The packed row of each sequence's first position, `[batch]`.
    pub firsts: Tensor,
}

impl Packing {
    /// `tokens`, `spread` and `firsts` for an attention mask of `shape`, or `None` where packing
    /// does not pay or does not apply: less than 1/8 of the positions padding (length-sorted
    /// batches), or a row starting with padding.
    pub fn plan(mask: &[i64], [batch, seq]: [i64; 2]) -> Option<[Vec<i64>; 3]> {
        let (rows, width) = (usize::try_from(batch).ok()?, usize::try_from(seq).ok()?);
        if rows == 0 || width == 0 || mask.len() != rows * width {
            return None;
        }
        if mask.chunks(width).any(|row| row[0] == 0) {
            return None;
        }
        let tokens: Vec<i64> = (0..mask.len()).filter(|&i| mask[i] != 0).map(|i| i as i64).collect();
        let padding = mask.len() - tokens.len();
        // More tokens than rows keeps "every token" and "first tokens" apart by their count.
        if padding * 8 < mask.len() || tokens.len() <= rows {
            return None;
        }
        let mut spread = vec![0i64; mask.len()];
        for (row, &at) in tokens.iter().enumerate() {
            spread[at as usize] = row as i64;
        }
        let firsts = (0..rows).map(|r| spread[r * width]).collect();
        Some([tokens, spread, firsts])
    }

    /// Hidden states `[batch, seq, hidden]` → `[tokens, hidden]`.
    pub fn pack(&self, xs: &Tensor) -> Tensor {
        self.gather(&xs.reshape([-1, xs.size()[2]]))
    }

    /// Packed rows `[tokens, d]` → `[batch * seq, d]` (padding holds a copy of row 0).
    pub fn spread(&self, xs: &Tensor) -> Tensor {
        xs.index_select(0, &self.spread)
    }

    /// Padded rows `[batch * seq, d]` → packed `[tokens, d]`.
    pub fn gather(&self, xs: &Tensor) -> Tensor {
        xs.index_select(0, &self.tokens)
    }

    /// Packed rows `[tokens, d]` → `[batch, seq, d]`, zeros at padding; `like`: a `[batch, seq]`
    /// tensor of the batch. The backward gathers (no atomics).
    pub fn unpack(&self, xs: &Tensor, like: &Tensor) -> Tensor {
        let (size, d) = (like.size(), xs.size()[1]);
        let padded = Tensor::zeros([size[0] * size[1], d], (xs.kind(), xs.device()));
        padded.index_copy(0, &self.tokens, xs).view([size[0], size[1], d])
    }

    /// The first position of each sequence, `[batch, hidden]`, from packed hidden states.
    pub fn firsts(&self, xs: &Tensor) -> Tensor {
        xs.index_select(0, &self.firsts)
    }
}

/// A transformer encoder: token ids in, hidden states out. Every family gets it from
/// [`LayerStack`].
pub trait Encoder: std::fmt::Debug + Send {
    /// Final hidden states `[batch, seq, hidden]`. `attention_mask` is 1 on real tokens, 0 on padding.
    fn forward_t(&self, batch: &Batch, train: bool) -> Tensor;

    /// The final hidden states of the real tokens only, `[tokens, hidden]` (see [`Packing`]): the
    /// values of `packing.pack(&self.forward_t(..))` up to rounding, without the padding's work.
    fn forward_packed_t(&self, batch: &Batch, packing: &Packing, train: bool) -> Tensor;

    /// The final hidden state of the first position only, `[batch, 1, hidden]` (what a
    /// sequence-classification head reads), without the work the other positions need.
    fn forward_first_t(&self, batch: &Batch, train: bool) -> Tensor;
}

/// What an encoder family supplies: its embeddings (with the additive attention mask) and its
/// layer stack. The [`Encoder`] passes follow, the same for every family.
pub trait LayerStack: std::fmt::Debug + Send {
    type Layer: Block;

    /// The embedded tokens `[batch, seq, hidden]` and the additive attention mask.
    fn embed(&self, batch: &Batch, train: bool) -> (Tensor, Tensor);

    fn layers(&self) -> &[Self::Layer];
}

impl<S: LayerStack> Encoder for S {
    fn forward_t(&self, batch: &Batch, train: bool) -> Tensor {
        let (xs, mask) = self.embed(batch, train);
        stack_forward_t(self.layers(), xs, &mask, train)
    }

    fn forward_packed_t(&self, batch: &Batch, packing: &Packing, train: bool) -> Tensor {
        let (xs, mask) = self.embed(batch, train);
        stack_forward_packed_t(self.layers(), &xs, &mask, packing, train)
    }

    /// See [`stack_forward_first_t`].
    fn forward_first_t(&self, batch: &Batch, train: bool) -> Tensor {
        let (xs, mask) = self.embed(batch, train);
        stack_forward_first_t(self.layers(), xs, &mask, batch.packing.as_ref(), train)
    }
}

/// One encoder family: its names, its config and its builders.
#[derive(Debug)]
pub struct Family {
    /// `model_type` in HF's config.json.
    pub hf_model_type: &'static str,
    /// Prefix of the encoder's tensor names in a checkpoint (`electra` -> `electra.encoder...`).
    pub prefix: &'static str,
    /// Name prefixes of a bare encoder's checkpoint (saved without the task head), which loading
    /// puts under [`Family::prefix`].
    pub bare_prefixes: &'static [&'static str],
    /// Prefix of HF's head class names (`Electra` -> `ElectraForSequenceClassification`).
    pub class_prefix: &'static str,
    /// The run configs' `model_type` values this family runs.
    pub model_types: &'static [&'static str],
    /// Reads a config.json object (HF's defaults for absent keys) and checks what this build supports.
    pub read_config: fn(RawConfig) -> Result<ModelConfig>,
    /// Builds the encoder at `root / prefix`, HF-initialised.
    pub encoder: fn(&nn::Path, &ModelConfig) -> Result<Box<dyn Encoder>>,
    /// Builds the sequence-classification head at `root`: hidden states of the first position
    /// `[batch, 1, hidden]` in, logits `[batch, num_labels]` out.
    pub seq_cls_head: fn(&nn::Path, &ModelConfig, i64) -> Result<Box<dyn nn::ModuleT>>,
    /// Checks a config against a checkpoint's tensor shapes (names as [`weights::normalize_name`]
    /// gives them): vocab, hidden and intermediate sizes, layers, positions, token types.
    pub check_weights: fn(&ModelConfig, &HashMap<String, Vec<i64>>) -> Result<()>,
    /// The parameters a config describes, roughly (a float, so hostile sizes cannot overflow).
    pub parameters: fn(&ModelConfig) -> Result<f64>,
}

/// The encoder families this build runs. Register a new family here.
pub const FAMILIES: &[&Family] = &[&electra::FAMILY, &bert::FAMILY, &distilbert::FAMILY, &roberta::FAMILY];

/// A config.json object as read: file text (errors name line and column) or a JSON value (a run
/// config's `model_config`).
#[derive(Debug, Clone)]
pub enum RawConfig<'a> {
    Text(&'a str),
    Value(Value),
}

impl RawConfig<'_> {
    /// The object as a family's serde config struct (ranges are the caller's to check). A wrong
    /// type names its field (`field "hidden_size": invalid type: string "abc", expected i64`).
    pub fn parse<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        match self {
            RawConfig::Text(text) => {
                let mut de = serde_json::Deserializer::from_str(text);
                let parsed = serde_path_to_error::deserialize(&mut de).map_err(with_field)?;
                de.end()?;
                Ok(parsed)
            }
            RawConfig::Value(value) => serde_path_to_error::deserialize(value).map_err(with_field),
        }
    }
}

fn with_field(e: serde_path_to_error::Error<serde_json::Error>) -> anyhow::Error {
    let path = e.path().to_string();
    match path.as_str() {
        "." => anyhow::Error::new(e.into_inner()),
        _ => anyhow!("field {path:?}: {}", e.into_inner()),
    }
}

/// What the heads and the pipeline need from any family's config.json.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    pub family: &'static Family,
    pub hidden_size: i64,
    pub num_hidden_layers: i64,
    /// The longest input the position embeddings cover (XLM-R: `max_position_embeddings` less the
    /// positions below and at `pad_token_id`, which RoBERTa never uses).
    pub max_position_embeddings: i64,
    pub initializer_range: f64,
    /// Dropout before the token-classification head (HF: `classifier_dropout`, else
    /// `hidden_dropout_prob`; DistilBERT: `dropout`). ELECTRA's, BERT's and XLM-R's
    /// sequence-classification heads use it too (DistilBERT's has its `seq_classif_dropout`).
    pub head_dropout: f64,
    /// Dropout before the question-answering head (DistilBERT: `qa_dropout`; the others have none).
    pub qa_dropout: f64,
    /// The config.json object with the family's defaults filled in; checkpoints save it back.
    pub json: Map<String, Value>,
}

impl ModelConfig {
    /// The config.json object again, for a family to read its own struct from.
    pub fn raw(&self) -> RawConfig<'static> {
        RawConfig::Value(Value::Object(self.json.clone()))
    }

    /// Reads a config.json file; its `model_type` picks the family (see [`ModelConfig::read`]).
    pub fn from_file(path: &std::path::Path) -> Result<Self> {
        let text = crate::limits::read_text_capped(path, crate::limits::MODEL_CONFIG_BYTES)
            .context("cannot read model config")?;
        Self::read(RawConfig::Text(&text)).with_context(|| format!("invalid model config {}", path.display()))
    }

    /// Reads a config.json object as text or value. Its `model_type` picks the family; without one
    /// (configs saved by old transformers versions), the family whose class names its first
    /// `architectures` entry starts with (`DistilBertModel` -> DistilBERT), else ELECTRA.
    pub fn read(raw: RawConfig) -> Result<Self> {
        let value = match &raw {
            RawConfig::Text(text) => serde_json::from_str::<Value>(text).ok(),
            RawConfig::Value(value) => Some(value.clone()),
        };
        let field = |key: &str| value.as_ref().and_then(|v| v.get(key)).cloned();
        let family = match field("model_type") {
            Some(Value::String(name)) => family_of(&name)?,
            _ => {
                let architectures = field("architectures");
                let first = architectures.as_ref().and_then(|a| a.get(0)).and_then(Value::as_str);
                first.and_then(family_of_architecture).unwrap_or(FAMILIES[0])
            }
        };
        (family.read_config)(raw)
    }

    /// Whether inputs of `max_len` tokens fit the position table (a longer one fails as an index
    /// error at the first long input; on CUDA, a device-side assert).
    pub fn covers_length(&self, max_len: usize) -> bool {
        i64::try_from(max_len).is_ok_and(|n| n <= self.max_position_embeddings)
    }

    /// A value of the original config.json.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.json.get(key)
    }

    /// The fields of `given` (a run config's `model_config`) that this family's config has no field
    /// for, each with the closest field: typos such as `hidden_sise`, which transformers would keep
    /// as extra attributes with no effect. `model_type` and `architectures` pick the family.
    pub fn unknown_fields(&self, given: &Map<String, Value>) -> Result<Vec<(String, String)>> {
        let defaults = (self.family.read_config)(RawConfig::Value(Value::Object(Map::new())))?;
        let known: Vec<&String> = defaults.json.keys().collect();
        Ok(given
            .keys()
            .filter(|field| !known.contains(field) && !["model_type", "architectures"].contains(&field.as_str()))
            .map(|field| {
                let near = crate::error::closest(field, known.iter().map(|k| k.as_str()));
                (field.clone(), near.unwrap_or_default().to_string())
            })
            .collect())
    }

    /// The head labels a saved checkpoint records: `id2label`, whose keys must be the ids 0 to n-1
    /// (transformers reads them as ints, so every output of the head has a name) and whose names
    /// must differ (`predict` reports probabilities by name).
    pub fn labels(&self) -> Result<Vec<String>> {
        let Some(map) = self
            .get("id2label")
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty())
        else {
            bail!("\"id2label\" is missing, empty or not an object; expected label names by id (\"0\": \"negative\", ...)");
        };
        let mut names: Vec<Option<String>> = vec![None; map.len()];
        for (key, value) in map {
            let id = key
                .parse::<usize>()
                .ok()
                .filter(|&id| id < names.len())
                .with_context(|| format!("\"id2label\" key {key:?} is not an id from 0 to {}", map.len() - 1))?;
            let name = value.as_str().with_context(|| {
                format!(
                    "\"id2label\" entry {key:?} is {}, expected a label name",
                    short_json(value)
                )
            })?;
            if names[id].replace(name.to_string()).is_some() {
                bail!("\"id2label\" gives id {id} twice");
            }
        }
        let names: Vec<String> = names.into_iter().flatten().collect();
        let mut first_ids = HashMap::new();
        for (id, name) in names.iter().enumerate() {
            if let Some(first) = first_ids.insert(name, id) {
                bail!("\"id2label\" names {name:?} twice (ids {first} and {id})");
            }
        }
        Ok(names)
    }
}

/// The size checks of every family's config.json: the `positive` keys above zero, `pad_token_id`
/// inside the vocabulary (negative: from the end, as Python indexes), and the hidden size a
/// multiple of the number of heads (`heads`: both keys and values, in that order).
fn check_sizes(positive: &[(&str, i64)], vocab_size: i64, pad_token_id: i64, heads: [(&str, i64); 2]) -> Result<()> {
    for &(key, value) in positive {
        if value <= 0 {
            bail!("{key} must be positive, got {value}");
        }
    }
    if !(-vocab_size..vocab_size).contains(&pad_token_id) {
        bail!("pad_token_id {pad_token_id} is outside the vocabulary of {vocab_size} tokens");
    }
    let [(hidden_key, hidden), (heads_key, heads)] = heads;
    if hidden % heads != 0 {
        bail!("{hidden_key} {hidden} is not a multiple of {heads_key} {heads}");
    }
    Ok(())
}

/// The family whose HF `model_type` is `name`.
pub fn family_of(name: &str) -> Result<&'static Family> {
    match FAMILIES.iter().find(|f| f.hf_model_type == name) {
        Some(family) => Ok(family),
        None => {
            let known: Vec<&str> = FAMILIES.iter().map(|f| f.hf_model_type).collect();
            bail!(
                "model_type \"{name}\" is not supported (supported: {})",
                known.join(", ")
            )
        }
    }
}

/// The family whose HF class names `architecture` starts with (the longest such class prefix).
fn family_of_architecture(architecture: &str) -> Option<&'static Family> {
    FAMILIES
        .iter()
        .copied()
        .filter(|f| architecture.starts_with(f.class_prefix))
        .max_by_key(|f| f.class_prefix.len())
}

/// Every run-config `model_type` this build can run.
pub fn supported_model_types() -> Vec<&'static str> {
    FAMILIES.iter().flat_map(|f| f.model_types.iter().copied()).collect()
}

/// Why HanBERT is refused: its tokenizer cannot be checked against the real library here.
const HANBERT_REFUSAL: &str = "config key \"model_type\": \"hanbert\" is not supported: HanBERT's tokenizer \
     is TwoBlock AI's proprietary morphological analyzer (libmoran4dnlp.so with its dictionary moran.db, \
     loaded by the reference from the local HanBert-54kN-torch folder), which is not public; the \
     hanbert-tokenizer wheel on PyPI has the .so but not moran.db, and without them a binding cannot be \
     verified, so results would not match the reference; use kobert, distilkobert, xlm-roberta or a \
     koelectra-* model type";

/// The family of a run config's `model_type`; a usage error for one this build cannot run
/// (hanbert, with the reason).
pub fn check_supported(model_type: &str) -> Result<&'static Family> {
    if let Some(family) = FAMILIES.iter().find(|f| f.model_types.contains(&model_type)) {
        return Ok(family);
    }
    if model_type == "hanbert" {
        return Err(usage_error(HANBERT_REFUSAL));
    }
    Err(usage_error(format!(
        "config key \"model_type\": {model_type:?} is not supported yet; supported: {}",
        supported_model_types().join(", ")
    )))
}

/// The three fine-tuning heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    SequenceClassification,
    TokenClassification,
    QuestionAnswering,
}

impl HeadKind {
    const ALL: [HeadKind; 3] = [
        HeadKind::SequenceClassification,
        HeadKind::TokenClassification,
        HeadKind::QuestionAnswering,
    ];

    /// HF's class-name suffix of this head.
    fn suffix(self) -> &'static str {
        match self {
            Self::SequenceClassification => "ForSequenceClassification",
            Self::TokenClassification => "ForTokenClassification",
            Self::QuestionAnswering => "ForQuestionAnswering",
        }
    }

    /// The `architectures` entry HF uses for this head of `family`.
    pub fn architecture(self, family: &Family) -> String {
        format!("{}{}", family.class_prefix, self.suffix())
    }

    /// Parses an `architectures` entry of a registered family.
    pub fn from_architecture(name: &str) -> Result<Self> {
        let heads = FAMILIES.iter().flat_map(|f| Self::ALL.map(|h| (h.architecture(f), h)));
        let heads: Vec<(String, HeadKind)> = heads.collect();
        if let Some((_, head)) = heads.iter().find(|(arch, _)| arch == name) {
            return Ok(*head);
        }
        let names: Vec<&str> = heads.iter().map(|(arch, _)| arch.as_str()).collect();
        let (last, rest) = names.split_last().unwrap_or((&"", &[]));
        bail!(
            "architecture \"{name}\" is not supported (expected {} or {last})",
            rest.join(", ")
        )
    }

    /// Variable-name prefixes that belong to the head (fresh when loading a bare encoder), of every
    /// family: a model only has its own family's names, so the others never match. The
    /// sequence-classification heads: ELECTRA's and XLM-R's `classifier.{dense,out_proj}`, BERT's
    /// pooler and `classifier` (HF's token-classification and QA models have no pooler, so a
    /// checkpoint of theirs leaves it fresh), DistilBERT's `pre_classifier` and `classifier`.
    pub fn prefixes(self) -> &'static [&'static str] {
        match self {
            Self::SequenceClassification => &["classifier.", "pre_classifier.", bert::POOLER_PREFIX],
            Self::TokenClassification => &["classifier."],
            Self::QuestionAnswering => &["qa_outputs."],
        }
    }
}
