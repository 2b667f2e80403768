//! Task heads over the encoder, with HF's variable names and losses:
//! `ElectraForSequenceClassification`, `ElectraForTokenClassification`, `ElectraForQuestionAnswering`.
use super::electra::{linear, ElectraConfig, ElectraModel};
use anyhow::{bail, Result};
use tch::{nn, nn::Module, Kind, Reduction, Tensor};

/// The three fine-tuning heads, named as HF's `architectures` entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    SequenceClassification,
    TokenClassification,
    QuestionAnswering,
}

impl HeadKind {
    /// The `architectures` entry HF uses for this head.
    pub fn architecture(self) -> &'static str {
        match self {
            Self::SequenceClassification => "ElectraForSequenceClassification",
            Self::TokenClassification => "ElectraForTokenClassification",
            Self::QuestionAnswering => "ElectraForQuestionAnswering",
        }
    }

    /// Parses an `architectures` entry.
    pub fn from_architecture(name: &str) -> Result<Self> {
        Ok(match name {
            "ElectraForSequenceClassification" => Self::SequenceClassification,
            "ElectraForTokenClassification" => Self::TokenClassification,
            "ElectraForQuestionAnswering" => Self::QuestionAnswering,
            other => bail!(
                "architecture \"{other}\" is not supported (expected ElectraForSequenceClassification, \
                 ElectraForTokenClassification or ElectraForQuestionAnswering)"
            ),
        })
    }

    /// Variable-name prefixes that belong to the head (fresh when loading a bare discriminator).
    pub fn prefixes(self) -> &'static [&'static str] {
        match self {
            Self::SequenceClassification | Self::TokenClassification => &["classifier."],
            Self::QuestionAnswering => &["qa_outputs."],
        }
    }
}

/// HF `ElectraClassificationHead`: [CLS] → dropout → dense → gelu → dropout → out_proj.
#[derive(Debug)]
pub struct ElectraClassificationHead {
    dense: nn::Linear,
    out_proj: nn::Linear,
    dropout: f64,
}

impl ElectraClassificationHead {
    pub fn new(p: nn::Path, cfg: &ElectraConfig, num_labels: i64) -> Self {
        Self {
            dense: linear(&p / "dense", cfg.hidden_size, cfg.hidden_size, cfg),
            out_proj: linear(&p / "out_proj", cfg.hidden_size, num_labels, cfg),
            dropout: cfg.head_dropout(),
        }
    }

    pub fn forward_t(&self, hidden: &Tensor, train: bool) -> Tensor {
        hidden
            .select(1, 0)
            .dropout(self.dropout, train)
            .apply(&self.dense)
            .gelu("none")
            .dropout(self.dropout, train)
            .apply(&self.out_proj)
    }
}

/// Encoder inputs of one batch, all `[batch, seq]` int64 on the model's device.
#[derive(Debug)]
pub struct Batch {
    pub input_ids: Tensor,
    pub attention_mask: Tensor,
    pub token_type_ids: Tensor,
}

/// `ElectraForSequenceClassification`; `num_labels == 1` is regression (MSE).
#[derive(Debug)]
pub struct ElectraForSequenceClassification {
    pub electra: ElectraModel,
    classifier: ElectraClassificationHead,
    pub num_labels: i64,
}

impl ElectraForSequenceClassification {
    pub fn new(root: &nn::Path, cfg: &ElectraConfig, num_labels: i64) -> Self {
        Self {
            electra: ElectraModel::new(root / "electra", cfg),
            classifier: ElectraClassificationHead::new(root / "classifier", cfg, num_labels),
            num_labels,
        }
    }

    /// Logits `[batch, num_labels]`.
    pub fn forward_t(&self, batch: &Batch, train: bool) -> Tensor {
        let hidden = self.electra.forward_first_t(
            &batch.input_ids,
            &batch.attention_mask,
            Some(&batch.token_type_ids),
            train,
        );
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

/// `ElectraForTokenClassification`: dropout → classifier on every position.
#[derive(Debug)]
pub struct ElectraForTokenClassification {
    pub electra: ElectraModel,
    classifier: nn::Linear,
    dropout: f64,
    pub num_labels: i64,
}

impl ElectraForTokenClassification {
    pub fn new(root: &nn::Path, cfg: &ElectraConfig, num_labels: i64) -> Self {
        Self {
            electra: ElectraModel::new(root / "electra", cfg),
            classifier: linear(root / "classifier", cfg.hidden_size, num_labels, cfg),
            dropout: cfg.head_dropout(),
            num_labels,
        }
    }

    /// Logits `[batch, seq, num_labels]`.
    pub fn forward_t(&self, batch: &Batch, train: bool) -> Tensor {
        let hidden = self.electra.forward_t(
            &batch.input_ids,
            &batch.attention_mask,
            Some(&batch.token_type_ids),
            train,
        );
        hidden.dropout(self.dropout, train).apply(&self.classifier)
    }

    /// Mean cross-entropy over positions whose label is not -100 (the ignore index).
    pub fn loss(&self, logits: &Tensor, labels: &Tensor) -> Tensor {
        logits
            .view([-1, self.num_labels])
            .cross_entropy_for_logits(&labels.view([-1]))
    }
}

/// `ElectraForQuestionAnswering`: `qa_outputs` → start and end logits, no dropout.
#[derive(Debug)]
pub struct ElectraForQuestionAnswering {
    pub electra: ElectraModel,
    qa_outputs: nn::Linear,
}

impl ElectraForQuestionAnswering {
    pub fn new(root: &nn::Path, cfg: &ElectraConfig) -> Self {
        Self {
            electra: ElectraModel::new(root / "electra", cfg),
            qa_outputs: linear(root / "qa_outputs", cfg.hidden_size, 2, cfg),
        }
    }

    /// `(start_logits, end_logits)`, each `[batch, seq]`.
    pub fn forward_t(&self, batch: &Batch, train: bool) -> (Tensor, Tensor) {
        let hidden = self.electra.forward_t(
            &batch.input_ids,
            &batch.attention_mask,
            Some(&batch.token_type_ids),
            train,
        );
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
