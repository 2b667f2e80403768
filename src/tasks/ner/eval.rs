//! NER inference: the predicted tag of every kept word (shared with `predict`) and the evaluation
//! of a split: the reference's loss, seqeval's entity scores and report, and the predicted tags.
use std::time::Instant;

use anyhow::Result;
use tch::{Device, Kind, Tensor};

use super::features::{pad_ner_batch, NerFeature, Split};
use super::{seqeval, IGNORE_INDEX, NAVER_NER_LABELS};
use crate::device::read_f64;
use crate::infer::{argmax, in_input_order, Collate, Evaluation, Metrics, PredictionFile, TaskModel};
use crate::io::progress;
use crate::model::heads::TokenClassifier;

/// A token classifier for Naver NER, on its device.
pub struct NerModel {
    pub model: TokenClassifier,
    pub collate: Collate,
    pub device: Device,
    pub eval_batch_size: usize,
    /// Words cut off by `max_seq_len` are scored as `O` predictions (`ner_score_truncated`).
    pub score_truncated: bool,
}

/// Per sentence, the predicted tag ids of its kept words (the argmax at each word's first sub-token,
/// the positions whose label is not the ignore index), in input order; eval mode under no-grad. The
/// forward passes run on length-sorted batches of `batch_size`, each read back once: with
/// `with_losses`, the per-sentence loss sums come back with the logits (else NaN). `each` runs
/// after every batch.
pub fn predict_word_tags(
    model: &TokenClassifier,
    features: &[NerFeature],
    collate: Collate,
    device: Device,
    batch_size: usize,
    with_losses: bool,
    mut each: impl FnMut(),
) -> Result<Vec<(Vec<usize>, f64)>> {
    let lengths: Vec<usize> = features.iter().map(|f| f.input_ids.len()).collect();
    in_input_order(&lengths, batch_size, |idx| {
        let rows: Vec<&NerFeature> = idx.iter().map(|&i| &features[i]).collect();
        let (batch, labels) = pad_ner_batch(&rows, collate, device)?;
        let logits = model.forward_t(&batch, false);
        let (n, len, classes) = (idx.len(), labels.size()[1] as usize, model.num_labels as usize);
        let mut parts = vec![logits.f_to_kind(Kind::Double)?.f_reshape([-1])?];
        if with_losses {
            parts.push(sentence_loss_sums(&logits, &labels)?);
        }
        let values = read_f64(&Tensor::f_cat(&parts, 0)?)?;
        let (logits, sums) = values.split_at((n * len * classes).min(values.len()));
        let out = idx.iter().enumerate().map(|(row, &i)| {
            let positions = logits[row * len * classes..(row + 1) * len * classes].chunks(classes);
            let labels = &features[i].label_ids;
            let word_starts = labels.iter().zip(positions).filter(|(l, _)| **l != IGNORE_INDEX);
            // The logits come back as f64, exactly the f32s: the same argmax.
            let tags = word_starts.map(|(_, p)| argmax(p)).collect();
            (tags, sums.get(row).copied().unwrap_or(f64::NAN))
        });
        each();
        Ok(out.collect())
    })
}

/// The tag of every word of an `n_words`-word sentence from its kept words' tag ids: words beyond the
/// truncation read `O` (as `ner_score_truncated` scores them).
pub fn word_tags<'a, S: AsRef<str>>(ids: &[usize], n_words: usize, labels: &'a [S]) -> Vec<&'a str> {
    let mut tags: Vec<&str> = ids.iter().map(|&l| labels.get(l).map_or("O", AsRef::as_ref)).collect();
    tags.resize(n_words, "O");
    tags
}

impl TaskModel for NerModel {
    type Split = Split;

    /// Loss, entity scores with the per-type report, and the predicted tags of a split.
    fn evaluate(&self, split: &Split) -> Result<Evaluation> {
        let started = Instant::now();
        let (loss, preds) = self.predict(split)?;
        let (gold, pred) = self.tag_sequences(split, &preds);
        let scores = seqeval::score(&gold, &pred)?;
        let metrics: Metrics = vec![
            ("loss".into(), loss),
            ("precision".into(), scores.precision),
            ("recall".into(), scores.recall),
            ("f1".into(), scores.f1),
        ];
        // One line per sentence in the input format; words beyond the truncation read as `O`.
        let mut tsv = String::new();
        for (example, ids) in split.examples.iter().zip(&preds) {
            let tags = word_tags(ids, example.words.len(), &NAVER_NER_LABELS);
            tsv.push_str(&format!("{}\t{}\n", example.words.join(" "), tags.join(" ")));
        }
        Ok(Evaluation {
            loss,
            metrics,
            report: Some(seqeval::classification_report(&scores, 2)),
            predictions: vec![PredictionFile {
                prefix: "predictions",
                ext: "tsv",
                squad_layout: false,
                content: tsv,
            }],
            samples_per_second: split.examples.len() as f64 / started.elapsed().as_secs_f64().max(1e-9),
            device_reads: 0,
        })
    }

    /// The mean token loss of the split's sentences `idx`.
    fn train_loss(&self, split: &Split, idx: &[usize]) -> Result<Tensor> {
        let rows: Vec<&NerFeature> = idx.iter().map(|&i| &split.features[i]).collect();
        let (batch, labels) = pad_ner_batch(&rows, self.collate, self.device)?;
        let logits = self.model.forward_t(&batch, true);
        Ok(self.model.loss(&logits, &labels))
    }

    fn selection_metric(&self) -> &'static str {
        super::INFO.selection_metric
    }
}

impl NerModel {
    /// The reference's loss (mean of per-batch mean losses over batches of `eval_batch_size` in input
    /// order) and, per sentence, the predicted tag ids of its kept words. The forward passes run on
    /// length-sorted batches; per-sentence loss sums rebuild the input-order batch means exactly.
    fn predict(&self, split: &Split) -> Result<(f64, Vec<Vec<usize>>)> {
        let bs = self.eval_batch_size;
        let batches = split.features.len().div_ceil(bs.max(1));
        let bar = progress::bar(batches as u64, &format!("eval {}", split.name));
        let (preds, loss_sums): (Vec<Vec<usize>>, Vec<f64>) = predict_word_tags(
            &self.model,
            &split.features,
            self.collate,
            self.device,
            bs,
            true,
            || bar.inc(1),
        )?
        .into_iter()
        .unzip();
        bar.finish_and_clear();
        let counts: Vec<usize> = split.features.iter().map(|f| f.words_kept).collect();
        Ok((reference_batch_mean(&loss_sums, &counts, bs), preds))
    }

    /// Gold and predicted tag sequences as scored: words cut off by truncation count as `O`
    /// predictions with `ner_score_truncated`, else they are left out (the reference).
    fn tag_sequences(&self, split: &Split, preds: &[Vec<usize>]) -> (Vec<Vec<&'static str>>, Vec<Vec<&'static str>>) {
        let tag = |id: usize| NAVER_NER_LABELS.get(id).copied().unwrap_or("O");
        let mut gold = Vec::with_capacity(preds.len());
        let mut pred = Vec::with_capacity(preds.len());
        for (example, p) in split.examples.iter().zip(preds) {
            let scored = if self.score_truncated {
                example.labels.len()
            } else {
                p.len()
            };
            gold.push(example.labels[..scored].iter().map(|&l| tag(l)).collect());
            let mut tags: Vec<&str> = p.iter().map(|&l| tag(l)).collect();
            tags.resize(scored, "O");
            pred.push(tags);
        }
        (gold, pred)
    }
}

/// Per-sentence sums of the token cross-entropies (ignored positions contribute 0), on the device.
fn sentence_loss_sums(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let (n, len) = (labels.size()[0], labels.size()[1]);
    let classes = logits.size()[2];
    Ok(logits
        .f_view([-1, classes])?
        .f_to_kind(Kind::Float)?
        .f_cross_entropy_loss::<Tensor>(&labels.f_view([-1])?, None, tch::Reduction::None, IGNORE_INDEX, 0.0)?
        .f_view([n, len])?
        .f_sum_dim_intlist(1, false, Kind::Double)?)
}

/// Mean over input-order batches of each batch's token-mean loss (the reference's eval loss).
fn reference_batch_mean(sums: &[f64], counts: &[usize], batch_size: usize) -> f64 {
    let batch_size = batch_size.max(1);
    let means: Vec<f64> = sums
        .chunks(batch_size)
        .zip(counts.chunks(batch_size))
        .map(|(s, c)| s.iter().sum::<f64>() / c.iter().sum::<usize>() as f64)
        .collect();
    means.iter().sum::<f64>() / means.len().max(1) as f64
}
