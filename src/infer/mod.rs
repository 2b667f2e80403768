//! Inference, shared by evaluation during and after training and by `predict`: batches for the
//! forward passes (sorted by length, padded to their longest row, results back in input order) and
//! what an evaluation produces. The task modules build their evaluation and prediction on these,
//! and the training driver sees a task through [`TaskModel`].
use std::path::{Path, PathBuf};

use anyhow::Result;
use tch::{Device, Tensor};

use crate::device::Upload;
use crate::io::metrics_log::FeatureStats;
pub use crate::io::results::Metrics;
use crate::model::Batch;
use crate::text::Encoded;

/// A task's data split, read and encoded, as the training driver sees it.
pub trait SplitData {
    /// `"train"`, `"dev"` or `"test"`.
    fn name(&self) -> &'static str;
    /// Token count of every example (for length-grouped batches).
    fn lengths(&self) -> Vec<usize>;
    /// How its features were built (the `features` event of metrics.jsonl), where the task records it.
    fn stats(&self) -> Option<&FeatureStats> {
        None
    }
}

/// A task's model as the training driver uses it: evaluate a split, and the loss of a batch of
/// training examples.
pub trait TaskModel {
    type Split: SplitData;
    /// Evaluates the current weights on a split: loss, metrics, prediction files.
    fn evaluate(&self, split: &Self::Split) -> Result<Evaluation>;
    /// Mean loss of training examples `indices`, in train mode: collate, forward, loss.
    fn train_loss(&self, split: &Self::Split, indices: &[usize]) -> Result<Tensor>;
    /// The dev metric that selects the reported checkpoint.
    fn selection_metric(&self) -> &'static str;
}

/// A finished evaluation of one split.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Mean of the per-batch mean losses (NaN where the task reports none).
    pub loss: f64,
    pub metrics: Metrics,
    /// Text appended to the per-eval file after a blank line (NER: the per-type report).
    pub report: Option<String>,
    /// Prediction files to write next to the result files.
    pub predictions: Vec<PredictionFile>,
    pub samples_per_second: f64,
    /// Blocking device→host reads it took (the training driver counts them; 0 elsewhere).
    pub device_reads: u64,
}

/// A predictions file: `<split>/<prefix>-<step>.<ext>` (seq-cls, ner) or `<prefix>_<step>.<ext>` in
/// the run folder (squad, as the reference names them); `<prefix>.<ext>` without a step.
#[derive(Debug, Clone)]
pub struct PredictionFile {
    pub prefix: &'static str,
    pub ext: &'static str,
    /// Reference squad layout: in the run folder, `_` before the step.
    pub squad_layout: bool,
    pub content: String,
}

impl PredictionFile {
    /// The file's path under `out` for an evaluation of `split` at `step` ("" = no step).
    pub fn path(&self, out: &Path, split: &str, step: &str) -> PathBuf {
        let (dir, sep) = if self.squad_layout {
            (out.to_path_buf(), "_")
        } else {
            (out.join(split), "-")
        };
        let name = match step {
            "" => format!("{}.{}", self.prefix, self.ext),
            step => format!("{}{sep}{step}.{}", self.prefix, self.ext),
        };
        dir.join(name)
    }
}

/// How sequence- or token-classification rows become a batch: the tokenizer's `[PAD]` id, and
/// whether the batch may carry a [`crate::model::Packing`] (config key `token_packing`, off under
/// `full_determinism`: the packed backward adds with atomics on CUDA).
#[derive(Debug, Clone, Copy)]
pub struct Collate {
    pub pad_id: i64,
    pub packing: bool,
}

/// Pads `rows` on the right to the longest row (never beyond): `[PAD]` ids, mask 0, type 0. The
/// batch and the arrays of `extra` (labels) reach the device in one copy; the extra arrays come
/// back in the order pushed. With `collate.packing`, the batch carries a packing where it pays (the
/// sequence-classification encoders read only the first position, so padding can be skipped).
pub fn pad_batch(rows: &[&Encoded], collate: Collate, extra: Upload, device: Device) -> Result<(Batch, Vec<Tensor>)> {
    let pad_id = collate.pad_id;
    let longest = rows.iter().map(|r| r.ids.len()).max().unwrap_or(0);
    let n = rows.len();
    let (mut ids, mut mask, mut types) = (
        vec![pad_id; n * longest],
        vec![0i64; n * longest],
        vec![0i64; n * longest],
    );
    for (i, row) in rows.iter().enumerate() {
        let at = i * longest;
        ids[at..at + row.ids.len()].copy_from_slice(&row.ids);
        mask[at..at + row.ids.len()].copy_from_slice(&row.attention_mask);
        types[at..at + row.ids.len()].copy_from_slice(&row.type_ids);
    }
    let shape = [n as i64, longest as i64];
    Batch::send_packable([&ids, &mask, &types], shape, collate.packing, extra, device)
}

/// Evaluation batches: indices sorted by length, longest first, so little padding is computed.
/// Callers put results back in input order by index.
pub fn length_sorted_batches(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]).then(a.cmp(&b)));
    order.chunks(batch_size.max(1)).map(<[usize]>::to_vec).collect()
}

/// One output per row, in input order, from `forward` run under no-grad on the length-sorted
/// batches of [`length_sorted_batches`]; `forward` gets a batch's row indices and returns the
/// batch's outputs in that order.
pub fn in_input_order<T: Clone + Default>(
    lengths: &[usize],
    batch_size: usize,
    mut forward: impl FnMut(&[usize]) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let mut outputs = vec![T::default(); lengths.len()];
    let _guard = tch::no_grad_guard();
    for idx in length_sorted_batches(lengths, batch_size) {
        for (&i, output) in idx.iter().zip(forward(&idx)?) {
            outputs[i] = output;
        }
    }
    Ok(outputs)
}

/// Index of the largest value, the first one on ties (as numpy's argmax).
pub fn argmax<T: PartialOrd>(row: &[T]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}

/// Softmax of f32 logits, computed in f64.
pub fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().map(|&x| f64::from(x)).fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = logits.iter().map(|&x| (f64::from(x) - max).exp()).collect();
    let total: f64 = exp.iter().sum();
    exp.iter().map(|e| e / total).collect()
}
