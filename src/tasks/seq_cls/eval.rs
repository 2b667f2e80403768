//! Seq-cls inference: the logits of encoded rows (shared with `predict`) and the evaluation of a
//! split: the reference's loss, the task's metrics and `predictions.jsonl`.
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;
use tch::{Device, Kind, Tensor};

use super::features::Split;
use super::metrics::{korsts_metrics, seq_cls_metrics};
use super::reader::{Example, Label};
use super::TaskSpec;
use crate::device::{read_f64, to_host, Upload};
use crate::infer::{argmax, in_input_order, pad_batch, Collate, Evaluation, Metrics, PredictionFile, TaskModel};
use crate::io::progress;
use crate::model::heads::SequenceClassifier;
use crate::text::Encoded;

/// Logits of every row in input order, in eval mode under no-grad. The forward passes run on
/// length-sorted batches of `batch_size`, each sent to the device with the arrays `extra` gives for
/// its rows (labels) and read back once; `each` sees every batch's row indices, its logits and
/// those arrays on the device (the evaluation adds up the loss there).
pub fn logits(
    model: &SequenceClassifier,
    rows: &[Encoded],
    collate: Collate,
    device: Device,
    batch_size: usize,
    extra: impl Fn(&[usize]) -> Upload,
    mut each: impl FnMut(&[usize], &Tensor, &[Tensor]) -> Result<()>,
) -> Result<Vec<Vec<f32>>> {
    let lengths: Vec<usize> = rows.iter().map(|f| f.ids.len()).collect();
    in_input_order(&lengths, batch_size, |idx| {
        let batch: Vec<&Encoded> = idx.iter().map(|&i| &rows[i]).collect();
        let (batch, arrays) = pad_batch(&batch, collate, extra(idx), device)?;
        let out = model.forward_t(&batch, false);
        each(idx, &out, &arrays)?;
        let out = to_host(&out.f_to_kind(Kind::Float)?)?;
        Vec::<Vec<f32>>::try_from(&out).context("cannot read logits")
    })
}

/// A sequence classifier for one task, on its device.
pub struct SeqClsModel {
    pub model: SequenceClassifier,
    pub spec: &'static TaskSpec,
    pub collate: Collate,
    pub device: Device,
    pub eval_batch_size: usize,
}

#[derive(Serialize)]
struct Prediction<'a> {
    guid: &'a str,
    label: serde_json::Value,
    pred: serde_json::Value,
    logits: &'a [f32],
}

impl TaskModel for SeqClsModel {
    type Split = Split;

    /// Loss, metrics and predictions of a split.
    fn evaluate(&self, split: &Split) -> Result<Evaluation> {
        let started = Instant::now();
        let (loss, logits) = self.split_logits(split)?;
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        Ok(Evaluation {
            loss,
            metrics: self.metrics(&split.examples, &logits),
            report: None,
            predictions: vec![PredictionFile {
                prefix: "predictions",
                ext: "jsonl",
                squad_layout: false,
                content: self.predictions(split, &logits)?,
            }],
            samples_per_second: split.examples.len() as f64 / secs,
            device_reads: 0,
        })
    }

    fn train_loss(&self, split: &Split, idx: &[usize]) -> Result<Tensor> {
        let rows: Vec<&Encoded> = idx.iter().map(|&i| &split.features[i]).collect();
        let (batch, labels) = pad_batch(&rows, self.collate, self.labels(split, idx), self.device)?;
        let logits = self.model.forward_t(&batch, true);
        Ok(self.model.loss(&logits, &self.label_tensor(&labels)?))
    }

    fn selection_metric(&self) -> &'static str {
        self.spec.info.selection_metric
    }
}

impl SeqClsModel {
    /// The labels of examples `idx`, to send with their batch: class ids, or regression scores.
    fn labels(&self, split: &Split, idx: &[usize]) -> Upload {
        let mut upload = Upload::new();
        let examples = idx.iter().map(|&i| split.examples[i].label);
        let shape = [idx.len() as i64];
        if self.spec.is_regression() {
            let scores: Vec<f32> = examples.map(score).collect();
            upload.push_f32(&scores, &shape);
        } else {
            let classes: Vec<i64> = examples.map(|l| class(l) as i64).collect();
            upload.push(&classes, &shape);
        }
        upload
    }

    /// The label tensor of a batch from the arrays [`SeqClsModel::labels`] sent.
    fn label_tensor(&self, arrays: &[Tensor]) -> Result<Tensor> {
        let labels = arrays.first().context("a batch was sent without its labels")?;
        match self.spec.is_regression() {
            true => crate::device::as_f32(labels),
            false => Ok(labels.shallow_clone()),
        }
    }

    /// Mean of per-batch losses and per-example logits in input order. The losses add up on the
    /// device and are read once, at the end.
    fn split_logits(&self, split: &Split) -> Result<(f64, Vec<Vec<f32>>)> {
        let bs = self.eval_batch_size;
        let batches = split.features.len().div_ceil(bs.max(1));
        let bar = progress::bar(batches as u64, &format!("eval {}", split.name));
        let mut loss_sum = Tensor::f_zeros([], (Kind::Double, self.device))?;
        let logits = logits(
            &self.model,
            &split.features,
            self.collate,
            self.device,
            bs,
            |idx| self.labels(split, idx),
            |_, out, arrays| {
                let loss = self.model.loss(out, &self.label_tensor(arrays)?);
                loss_sum = loss_sum.f_add(&loss.f_to_kind(Kind::Double)?)?;
                bar.inc(1);
                Ok(())
            },
        )?;
        bar.finish_and_clear();
        let loss_sum = read_f64(&loss_sum)?.first().copied().unwrap_or(f64::NAN);
        Ok((loss_sum / batches.max(1) as f64, logits))
    }

    fn metrics(&self, examples: &[Example], logits: &[Vec<f32>]) -> Metrics {
        if self.spec.is_regression() {
            let preds: Vec<f64> = logits
                .iter()
                .map(|l| l.first().copied().unwrap_or(f32::NAN) as f64)
                .collect();
            let gold: Vec<f64> = examples.iter().map(|e| score(e.label) as f64).collect();
            korsts_metrics(&preds, &gold)
        } else {
            let preds: Vec<usize> = logits.iter().map(|l| argmax(l)).collect();
            let gold: Vec<usize> = examples.iter().map(|e| class(e.label)).collect();
            seq_cls_metrics(self.spec.info.name, &preds, &gold)
        }
    }

    /// `predictions.jsonl`: `{"guid", "label", "pred", "logits"}` per example, in input order.
    fn predictions(&self, split: &Split, logits: &[Vec<f32>]) -> Result<String> {
        let names = self.spec.label_names();
        let mut text = String::new();
        for (e, row) in split.examples.iter().zip(logits) {
            let (label, pred) = match e.label {
                Label::Score(s) => (
                    serde_json::json!(s),
                    serde_json::json!(row.first().copied().unwrap_or(f32::NAN)),
                ),
                Label::Class(c) => (names.get(c).copied().into(), names.get(argmax(row)).copied().into()),
            };
            text.push_str(&serde_json::to_string(&Prediction {
                guid: &e.guid,
                label,
                pred,
                logits: row,
            })?);
            text.push('\n');
        }
        Ok(text)
    }
}

fn class(label: Label) -> usize {
    match label {
        Label::Class(c) => c,
        Label::Score(_) => 0,
    }
}

fn score(label: Label) -> f32 {
    match label {
        Label::Score(s) => s,
        Label::Class(c) => c as f32,
    }
}
