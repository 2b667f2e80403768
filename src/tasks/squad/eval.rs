//! SQuAD inference: windows padded to `max_seq_length`, their start and end logits, n-best decoding
//! of every question (shared with `predict`), and the evaluation of a split: the SQuAD and official
//! KorQuAD scores and the reference's prediction files.
use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, Result};
use tch::{Device, Kind, Tensor};

use super::decode::{predict_example, Decoding, ExamplePrediction, ExampleView, FeatureView, NbestEntry};
use super::features::{Split, SquadFeature};
use super::files::{nbest_json, null_odds_json, predictions_json};
use super::metrics::{korquad_official, squad_metrics};
use super::reader::SquadExample;
use crate::device::{to_host, Upload};
use crate::infer::{Evaluation, Metrics, PredictionFile, TaskModel};
use crate::io::progress;
use crate::model::heads::QuestionAnswerer;
use crate::model::Batch;

/// A question-answering model, on its device, with the run's decoding settings.
pub struct QaModel {
    pub model: QuestionAnswerer,
    pub pad_id: i64,
    pub device: Device,
    pub max_seq_length: usize,
    pub eval_batch_size: usize,
    pub decoding: Decoding,
}

/// Pads every window to `max_seq_length`: the QA head masks nothing, so padded positions take part in
/// the training softmax and the top-k search as in the reference, independent of batching. The
/// windows and the arrays of `extra` (answer positions) reach the device in one copy.
pub fn pad_windows(
    rows: &[&SquadFeature],
    pad_id: i64,
    max_seq_length: usize,
    extra: Upload,
    device: Device,
) -> Result<(Batch, Vec<Tensor>)> {
    let len = max_seq_length.max(rows.iter().map(|r| r.input_ids.len()).max().unwrap_or(0));
    let n = rows.len();
    let (mut ids, mut mask, mut types) = (vec![pad_id; n * len], vec![0i64; n * len], vec![0i64; n * len]);
    for (i, row) in rows.iter().enumerate() {
        let (at, k) = (i * len, row.input_ids.len());
        ids[at..at + k].copy_from_slice(&row.input_ids);
        mask[at..at + k].fill(1);
        types[at..at + k].copy_from_slice(&row.token_type_ids);
    }
    Batch::send([&ids, &mask, &types], [n as i64, len as i64], extra, device)
}

/// Start and end logits of every window, in window order (consecutive batches of `batch_size` windows,
/// each padded to `max_seq_length`), in eval mode under no-grad, one read per batch; `each` runs
/// after every batch.
pub fn window_logits(
    model: &QuestionAnswerer,
    features: &[SquadFeature],
    pad_id: i64,
    max_seq_length: usize,
    batch_size: usize,
    device: Device,
    mut each: impl FnMut(),
) -> Result<Vec<(Vec<f32>, Vec<f32>)>> {
    let mut out = Vec::with_capacity(features.len());
    let _guard = tch::no_grad_guard();
    for rows in features.chunks(batch_size.max(1)) {
        let rows: Vec<&SquadFeature> = rows.iter().collect();
        let (batch, _) = pad_windows(&rows, pad_id, max_seq_length, Upload::new(), device)?;
        let (start, end) = model.forward_t(&batch, false);
        // [n, 2, seq]: both logits of a window in one read.
        let both = to_host(&Tensor::f_stack(&[start, end], 1)?.f_to_kind(Kind::Float)?)?;
        let both = Vec::<Vec<Vec<f32>>>::try_from(&both).context("cannot read start and end logits")?;
        for mut pair in both {
            let end = pair.pop().unwrap_or_default();
            let start = pair.pop().unwrap_or_default();
            out.push((start, end));
        }
        each();
    }
    Ok(out)
}

/// The windows of each example: indices into `features`, per example position, in window order.
pub fn windows_by_example(n_examples: usize, features: &[SquadFeature]) -> Vec<Vec<usize>> {
    let mut by_example: Vec<Vec<usize>> = vec![vec![]; n_examples];
    for (i, f) in features.iter().enumerate() {
        by_example[f.example_pos].push(i);
    }
    by_example
}

/// n-best decoding of every question, in order.
pub fn decode_examples(
    settings: &Decoding,
    examples: &[SquadExample],
    features: &[SquadFeature],
    logits: &[(Vec<f32>, Vec<f32>)],
) -> Vec<ExamplePrediction> {
    let by_example = windows_by_example(examples.len(), features);
    let maps: Vec<(HashMap<usize, usize>, HashMap<usize, bool>)> = features
        .iter()
        .map(|f| {
            let orig = f
                .token_to_orig_map
                .iter()
                .enumerate()
                .filter_map(|(i, w)| Some((i, (*w)?)))
                .collect();
            let max = f
                .token_is_max_context
                .iter()
                .enumerate()
                .filter(|(i, _)| f.token_to_orig_map[*i].is_some());
            (orig, max.map(|(i, m)| (i, *m)).collect())
        })
        .collect();
    examples
        .iter()
        .zip(&by_example)
        .map(|(example, windows)| {
            let views: Vec<FeatureView> = windows
                .iter()
                .map(|&i| FeatureView {
                    tokens: &features[i].tokens,
                    token_to_orig_map: &maps[i].0,
                    token_is_max_context: &maps[i].1,
                    start_logits: &logits[i].0,
                    end_logits: &logits[i].1,
                })
                .collect();
            let view = ExampleView {
                qas_id: &example.qas_id,
                doc_words: &example.doc_words,
            };
            predict_example(&view, &views, settings)
        })
        .collect()
}

impl QaModel {
    /// Start and end logits of every window of a split, in window order.
    fn logits(&self, split: &Split) -> Result<Vec<(Vec<f32>, Vec<f32>)>> {
        let batches = split.features.len().div_ceil(self.eval_batch_size.max(1));
        let bar = progress::bar(batches as u64, &format!("eval {}", split.name));
        let out = window_logits(
            &self.model,
            &split.features,
            self.pad_id,
            self.max_seq_length,
            self.eval_batch_size,
            self.device,
            || bar.inc(1),
        )?;
        bar.finish_and_clear();
        Ok(out)
    }

    /// The SQuAD-style totals followed by the official KorQuAD v1.0 EM and F1.
    fn metrics(&self, split: &Split, preds: &[(String, String)]) -> Metrics {
        let gold: Vec<(String, Vec<String>)> = split
            .examples
            .iter()
            .map(|e| (e.qas_id.clone(), e.answers.iter().map(|a| a.text.clone()).collect()))
            .collect();
        let mut metrics = squad_metrics(&gold, preds, None, 1.0);
        let (em, f1) = korquad_official(&gold, preds);
        metrics.push(("official_exact_match".into(), em));
        metrics.push(("official_f1".into(), f1));
        metrics
    }
}

impl TaskModel for QaModel {
    type Split = Split;

    /// The predictions of a split: the SQuAD and official KorQuAD scores and the reference files.
    fn evaluate(&self, split: &Split) -> Result<Evaluation> {
        let started = Instant::now();
        let logits = self.logits(split)?;
        let predictions = decode_examples(&self.decoding, &split.examples, &split.features, &logits);
        let answers: Vec<(String, String)> = split
            .examples
            .iter()
            .zip(&predictions)
            .map(|(e, p)| (e.qas_id.clone(), p.answer.clone()))
            .collect();
        let nbest: Vec<(String, Vec<NbestEntry>)> = split
            .examples
            .iter()
            .zip(&predictions)
            .map(|(e, p)| (e.qas_id.clone(), p.nbest.clone()))
            .collect();
        let file = |prefix, content| PredictionFile {
            prefix,
            ext: "json",
            squad_layout: true,
            content,
        };
        let mut files = vec![
            file("predictions", predictions_json(&answers)),
            file("nbest_predictions", nbest_json(&nbest)),
        ];
        if self.decoding.version_2_with_negative {
            let odds: Vec<(String, f64)> = split
                .examples
                .iter()
                .zip(&predictions)
                .filter_map(|(e, p)| Some((e.qas_id.clone(), p.null_odds?)))
                .collect();
            files.push(file("null_odds", null_odds_json(&odds)));
        }
        Ok(Evaluation {
            loss: f64::NAN,
            metrics: self.metrics(split, &answers),
            report: None,
            predictions: files,
            samples_per_second: split.features.len() as f64 / started.elapsed().as_secs_f64().max(1e-9),
            device_reads: 0,
        })
    }

    /// The mean loss of the split's windows `indices` on their answer targets.
    fn train_loss(&self, split: &Split, indices: &[usize]) -> Result<Tensor> {
        let rows: Vec<&SquadFeature> = indices.iter().map(|&i| &split.features[i]).collect();
        let mut targets = Upload::new();
        for position in [|r: &SquadFeature| r.start_position, |r: &SquadFeature| r.end_position] {
            let v: Vec<i64> = rows.iter().map(|r| position(r) as i64).collect();
            targets.push(&v, &[v.len() as i64]);
        }
        let (batch, targets) = pad_windows(&rows, self.pad_id, self.max_seq_length, targets, self.device)?;
        let [starts, ends] = &targets[..] else {
            anyhow::bail!("the answer positions of a batch were not sent");
        };
        let (start, end) = self.model.forward_t(&batch, true);
        Ok(self.model.loss(&start, &end, starts, ends))
    }

    fn selection_metric(&self) -> &'static str {
        super::INFO.selection_metric
    }
}
