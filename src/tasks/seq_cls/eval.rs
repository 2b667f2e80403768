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
use crate::infer::{argmax, in_input_order, pad_batch, Evaluation, Metrics, PredictionFile, TaskModel};
use crate::io::progress;
use crate::model::heads::SequenceClassifier;
use crate::text::Encoded;

/// Logits of every row in input order, in eval mode under no-grad. The forward passes run on
/// length-sorted batches of `batch_size`; `each` sees every batch's row indices and its logits
/// (the evaluation adds up the loss there).
pub fn logits(
    model: &SequenceClassifier,
    rows: &[Encoded],
    pad_id: i64,
    device: Device,
    batch_size: usize,
    mut each: impl FnMut(&[usize], &Tensor),
) -> Result<Vec<Vec<f32>>> {
    let lengths: Vec<usize> = rows.iter().map(|f| f.ids.len()).collect();
    in_input_order(&lengths, batch_size, |idx| {
        let batch: Vec<&Encoded> = idx.iter().map(|&i| &rows[i]).collect();
        let out = model.forward_t(&pad_batch(&batch, pad_id, device), false);
        each(idx, &out);
        let out = out.to_kind(Kind::Float).to_device(Device::Cpu);
        Vec::<Vec<f32>>::try_from(&out).context("cannot read logits")
    })
}

/// A sequence classifier for one task, on its device.
pub struct SeqClsModel {
    pub model: SequenceClassifier,
    pub spec: &'static TaskSpec,
    pub pad_id: i64,
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
        })
    }

    fn train_loss(&self, split: &Split, idx: &[usize]) -> Result<Tensor> {
        let rows: Vec<&Encoded> = idx.iter().map(|&i| &split.features[i]).collect();
        let examples: Vec<&Example> = idx.iter().map(|&i| &split.examples[i]).collect();
        let batch = pad_batch(&rows, self.pad_id, self.device);
        let logits = self.model.forward_t(&batch, true);
        Ok(self.model.loss(&logits, &self.label_tensor(&examples)))
    }

    fn selection_metric(&self) -> &'static str {
        self.spec.info.selection_metric
    }
}

impl SeqClsModel {
    fn label_tensor(&self, examples: &[&Example]) -> Tensor {
        if self.spec.is_regression() {
            let v: Vec<f32> = examples.iter().map(|e| score(e.label)).collect();
            Tensor::from_slice(&v).to_device(self.device)
        } else {
            let v: Vec<i64> = examples.iter().map(|e| class(e.label) as i64).collect();
            Tensor::from_slice(&v).to_device(self.device)
        }
    }

    /// Mean of per-batch losses and per-example logits in input order.
    fn split_logits(&self, split: &Split) -> Result<(f64, Vec<Vec<f32>>)> {
        let bs = self.eval_batch_size;
        let batches = split.features.len().div_ceil(bs.max(1));
        let bar = progress::bar(batches as u64, &format!("eval {}", split.name));
        let mut loss_sum = 0.0;
        let logits = logits(
            &self.model,
            &split.features,
            self.pad_id,
            self.device,
            bs,
            |idx, out| {
                let examples: Vec<&Example> = idx.iter().map(|&i| &split.examples[i]).collect();
                loss_sum += self.model.loss(out, &self.label_tensor(&examples)).double_value(&[]);
                bar.inc(1);
            },
        )?;
        bar.finish_and_clear();
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
