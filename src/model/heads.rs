//! The three fine-tuning heads over any family's encoder, with HF's variable names and losses:
//! `*ForSequenceClassification`, `*ForTokenClassification`, `*ForQuestionAnswering`.
use anyhow::Result;
use tch::{nn, nn::Module, nn::ModuleT, Kind, Reduction, Tensor};

use super::layers::{dropout, linear};
use super::{Batch, Encoder, ModelConfig};

/// HF's `ElectraClassificationHead` (GELU) and `XLMRobertaClassificationHead` (tanh): the first
/// position → dropout → `dense` → activation → dropout → `out_proj`, dropout
/// [`ModelConfig::head_dropout`].
#[derive(Debug)]
pub struct DenseClassificationHead {
    dense: nn::Linear,
    out_proj: nn::Linear,
    dropout: f64,
    activation: fn(&Tensor) -> Tensor,
}

impl DenseClassificationHead {
    pub fn new(p: nn::Path, cfg: &ModelConfig, num_labels: i64, activation: fn(&Tensor) -> Tensor) -> Result<Self> {
        let (h, init) = (cfg.hidden_size, cfg.initializer_range);
        Ok(Self {
            dense: linear(&p / "dense", h, h, init)?,
            out_proj: linear(&p / "out_proj", h, num_labels, init)?,
            dropout: cfg.head_dropout,
            activation,
        })
    }
}

impl ModuleT for DenseClassificationHead {
    /// Logits `[batch, num_labels]` from hidden states `[batch, seq, hidden]` (position 0 is read).
    fn forward_t(&self, hidden: &Tensor, train: bool) -> Tensor {
        let xs = dropout(hidden.select(1, 0), self.dropout, train);
        let xs = (self.activation)(&xs.apply(&self.dense));
        dropout(xs, self.dropout, train).apply(&self.out_proj)
    }
}

/// Sequence classification; `num_labels == 1` is regression (MSE). The head is the family's.
#[derive(Debug)]
pub struct SequenceClassifier {
    pub encoder: Box<dyn Encoder>,
    classifier: Box<dyn ModuleT>,
    pub num_labels: i64,
}

impl SequenceClassifier {
    pub fn new(root: &nn::Path, cfg: &ModelConfig, num_labels: i64) -> Result<Self> {
        let family = cfg.family;
        Ok(Self {
            encoder: (family.encoder)(root, cfg)?,
            classifier: (family.seq_cls_head)(root, cfg, num_labels)?,
            num_labels,
        })
    }

    /// Logits `[batch, num_labels]`.
    pub fn forward_t(&self, batch: &Batch, train: bool) -> Tensor {
        let hidden = self.encoder.forward_first_t(batch, train);
        self.classifier.forward_t(&hidden, train)
    }

    /// HF's loss: MSE on the flattened logits for regression, else mean cross-entropy.
    /// `labels` are float for regression, int64 class ids otherwise.
    pub fn loss(&self, logits: &Tensor, labels: &Tensor) -> Tensor {
        if self.num_labels == 1 {
            logits
                .squeeze_dim(-1)
                .mse_loss(&labels.to_kind(logits.kind()), Reduction::Mean)
        } else {
            logits
                .view([-1, self.num_labels])
                .cross_entropy_for_logits(&labels.view([-1]))
        }
    }
}

/// Token classification: dropout ([`ModelConfig::head_dropout`]) → classifier on every position.
#[derive(Debug)]
pub struct TokenClassifier {
    pub encoder: Box<dyn Encoder>,
    classifier: nn::Linear,
    dropout: f64,
    pub num_labels: i64,
}

impl TokenClassifier {
    pub fn new(root: &nn::Path, cfg: &ModelConfig, num_labels: i64) -> Result<Self> {
        Ok(Self {
            encoder: (cfg.family.encoder)(root, cfg)?,
            classifier: linear(root / "classifier", cfg.hidden_size, num_labels, cfg.initializer_range)?,
            dropout: cfg.head_dropout,
            num_labels,
        })
    }

    /// Logits `[batch, seq, num_labels]`. With a packing, the padding's logits are zeros (HF
    /// computes them, but its loss ignores them, label -100, and so does every reader of them).
    pub fn forward_t(&self, batch: &Batch, train: bool) -> Tensor {
        let Some(packing) = &batch.packing else {
            let hidden = self.encoder.forward_t(batch, train);
            return dropout(hidden, self.dropout, train).apply(&self.classifier);
        };
        let hidden = self.encoder.forward_packed_t(batch, packing, train);
        let logits = dropout(hidden, self.dropout, train).apply(&self.classifier);
        packing.unpack(&logits, &batch.attention_mask)
    }

    /// Mean cross-entropy over positions whose label is not -100 (the ignore index).
    pub fn loss(&self, logits: &Tensor, labels: &Tensor) -> Tensor {
        logits
            .view([-1, self.num_labels])
            .cross_entropy_for_logits(&labels.view([-1]))
    }
}

/// Extractive question answering: dropout ([`ModelConfig::qa_dropout`], DistilBERT's only) →
/// `qa_outputs` → start and end logits.
#[derive(Debug)]
pub struct QuestionAnswerer {
    pub encoder: Box<dyn Encoder>,
    qa_outputs: nn::Linear,
    dropout: f64,
}

impl QuestionAnswerer {
    pub fn new(root: &nn::Path, cfg: &ModelConfig) -> Result<Self> {
        Ok(Self {
            encoder: (cfg.family.encoder)(root, cfg)?,
            qa_outputs: linear(root / "qa_outputs", cfg.hidden_size, 2, cfg.initializer_range)?,
            dropout: cfg.qa_dropout,
        })
    }

    /// `(start_logits, end_logits)`, each `[batch, seq]`.
    pub fn forward_t(&self, batch: &Batch, train: bool) -> (Tensor, Tensor) {
        let hidden = dropout(self.encoder.forward_t(batch, train), self.dropout, train);
        let logits = self.qa_outputs.forward(&hidden);
        let parts = logits.split(1, -1);
        (parts[0].squeeze_dim(-1), parts[1].squeeze_dim(-1))
    }

    /// HF's loss: positions clamped to `[0, seq]`, cross-entropy ignoring `seq`, mean of start and end.
    pub fn loss(&self, start_logits: &Tensor, end_logits: &Tensor, starts: &Tensor, ends: &Tensor) -> Tensor {
        let seq = start_logits.size()[1];
        let ce = |logits: &Tensor, target: &Tensor| {
            logits.to_kind(Kind::Float).cross_entropy_loss::<Tensor>(
                &target.clamp(0, seq),
                None,
                Reduction::Mean,
                seq,
                0.0,
            )
        };
        (ce(start_logits, starts) + ce(end_logits, ends)) / 2.0
    }
}
