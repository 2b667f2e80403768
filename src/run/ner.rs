//! `ner`: Naver NER token classification end to end, scored at the entity level as seqeval does.
use super::pipeline::{self, Evaluation, FeatureStats, PredictionFile, TaskRun};
use super::{build_model, load_tokenizer, ModelSource};
use crate::cache;
use crate::checkpoint::HeadInfo;
use crate::config::Config;
use crate::features::{argmax, length_sorted_batches};
use crate::model::heads::{Batch, ElectraForTokenClassification, HeadKind};
use crate::output::Metrics;
use crate::progress;
use crate::seqeval;
use crate::tasks::ner::{build_features, read_examples, NerExample, NerFeature, IGNORE_INDEX};
use crate::tasks::NAVER_NER_LABELS;
use crate::tokenizer::ElectraTokenizer;
use anyhow::{bail, Context, Result};
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// One data split, read and encoded.
pub struct Split {
    name: &'static str,
    examples: Vec<NerExample>,
    features: Vec<NerFeature>,
    stats: FeatureStats,
}

fn feature_from_row(mut row: Vec<Vec<i64>>) -> Result<NerFeature> {
    let kept = row
        .pop()
        .and_then(|k| k.first().copied())
        .context("malformed feature cache row")?;
    let label_ids = row.pop().context("malformed feature cache row")?;
    let input_ids = row.pop().context("malformed feature cache row")?;
    Ok(NerFeature {
        input_ids,
        label_ids,
        words_kept: kept as usize,
    })
}

struct Ner<'a> {
    cfg: &'a Config,
    pad_id: i64,
    model: ElectraForTokenClassification,
    device: Device,
}

/// Runs the `ner` subcommand for a loaded config.
pub fn run(cfg: &Config, device: Device) -> Result<()> {
    let source = ModelSource::from_config(cfg)?;
    let tokenizer = load_tokenizer(cfg, &source)?;
    let split = |name, file: &str| -> Result<Option<Split>> {
        if file.is_empty() {
            Ok(None)
        } else {
            read_split(cfg, name, file, &tokenizer).map(Some)
        }
    };
    let train_split = if cfg.do_train {
        split("train", &cfg.train_file)?
    } else {
        None
    };
    if cfg.do_train && train_split.is_none() {
        bail!("config key \"train_file\" is empty but do_train is true");
    }
    let dev = split("dev", &cfg.dev_file)?;
    let test = split("test", &cfg.test_file)?;
    tch::manual_seed(cfg.seed as i64);
    let num_labels = NAVER_NER_LABELS.len() as i64;
    let (vs, model, ecfg) = build_model(&source, HeadKind::TokenClassification, device, |vs, c| {
        ElectraForTokenClassification::new(&vs.root(), c, num_labels)
    })?;
    let task = Ner {
        cfg,
        pad_id: tokenizer.pad_id(),
        model,
        device,
    };
    log::info!("device {device:?}");
    let splits = pipeline::Splits {
        train: train_split.as_ref(),
        dev: dev.as_ref(),
        test: test.as_ref(),
        eval_during_training: pipeline::eval_split_during_training(cfg, dev.as_ref(), test.as_ref()),
    };
    let saving = pipeline::Saving {
        source: &source,
        model_config: &ecfg,
        head: HeadInfo {
            architecture: HeadKind::TokenClassification.architecture().into(),
            labels: NAVER_NER_LABELS.iter().map(|s| s.to_string()).collect(),
        },
        tokenizer: &tokenizer,
    };
    pipeline::execute(
        cfg,
        &vs,
        &task,
        splits,
        &[&train_split, &dev, &test]
            .iter()
            .filter_map(|s| s.as_ref().map(|s| &s.stats))
            .collect::<Vec<_>>(),
        saving,
    )
}

fn read_split(cfg: &Config, name: &'static str, file: &str, tok: &ElectraTokenizer) -> Result<Split> {
    let path = cfg
        .data_path(file)
        .with_context(|| format!("config key \"{name}_file\" is empty"))?;
    let examples = read_examples(&path, name)?;
    let started = Instant::now();
    let key = cache::Key::new("ner")
        .value("max_seq_len", cfg.max_seq_len)
        .bytes("tokenizer", &tok.fingerprint()?)
        .file(&path)?;
    let (rows, cached) = cache::load_or_build(key, name, || {
        let bar = progress::bar(examples.len() as u64, &format!("encode {name}"));
        let features = build_features(tok, &examples, cfg.max_seq_len)?;
        bar.finish_and_clear();
        Ok(features
            .into_iter()
            .map(|f| vec![f.input_ids, f.label_ids, vec![f.words_kept as i64]])
            .collect())
    })?;
    let features: Vec<NerFeature> = rows.into_iter().map(feature_from_row).collect::<Result<_>>()?;
    if features.len() != examples.len() {
        bail!(
            "{name}: feature cache holds {} rows for {} sentences",
            features.len(),
            examples.len()
        );
    }
    let stats = FeatureStats::new(name, features.len(), started.elapsed(), cached);
    let truncated: usize = examples
        .iter()
        .zip(&features)
        .map(|(e, f)| e.words.len() - f.words_kept)
        .sum();
    log::info!(
        "{name}: {} sentences from {} ({})",
        examples.len(),
        path.display(),
        stats.describe()
    );
    if truncated > 0 {
        let fate = if cfg.ner_score_truncated {
            "scored as O predictions"
        } else {
            "not scored (reference)"
        };
        log::info!(
            "{name}: {truncated} word(s) beyond max_seq_len {}: {fate}",
            cfg.max_seq_len
        );
    }
    Ok(Split {
        name,
        examples,
        features,
        stats,
    })
}

/// Right-pads ids with `[PAD]` and labels with the ignore index.
pub fn pad_ner_batch(rows: &[&NerFeature], pad_id: i64, device: Device) -> (Batch, Tensor) {
    let longest = rows.iter().map(|r| r.input_ids.len()).max().unwrap_or(0);
    let n = rows.len();
    let (mut ids, mut mask, mut labels) = (
        vec![pad_id; n * longest],
        vec![0i64; n * longest],
        vec![IGNORE_INDEX; n * longest],
    );
    for (i, row) in rows.iter().enumerate() {
        let at = i * longest;
        let len = row.input_ids.len();
        ids[at..at + len].copy_from_slice(&row.input_ids);
        mask[at..at + len].fill(1);
        labels[at..at + len].copy_from_slice(&row.label_ids);
    }
    let to = |v: Vec<i64>| {
        Tensor::from_slice(&v)
            .view([n as i64, longest as i64])
            .to_device(device)
    };
    let ids = to(ids);
    let batch = Batch {
        token_type_ids: ids.zeros_like(),
        input_ids: ids,
        attention_mask: to(mask),
    };
    (batch, to(labels))
}

/// Per sentence, the predicted tag ids of its kept words (the argmax at each word's first sub-token,
/// the positions whose label is not the ignore index), in input order; eval mode under no-grad. The
/// forward passes run on length-sorted batches of `batch_size`; `each` sees every batch's sentence
/// indices, logits and padded labels (the evaluation sums the loss there).
pub fn predict_word_tags(
    model: &ElectraForTokenClassification,
    features: &[NerFeature],
    pad_id: i64,
    device: Device,
    batch_size: usize,
    mut each: impl FnMut(&[usize], &Tensor, &Tensor) -> Result<()>,
) -> Result<Vec<Vec<usize>>> {
    let lengths: Vec<usize> = features.iter().map(|f| f.input_ids.len()).collect();
    let mut preds = vec![vec![]; features.len()];
    let _guard = tch::no_grad_guard();
    for idx in length_sorted_batches(&lengths, batch_size) {
        let rows: Vec<&NerFeature> = idx.iter().map(|&i| &features[i]).collect();
        let (batch, labels) = pad_ner_batch(&rows, pad_id, device);
        let logits = model.forward_t(&batch, false);
        each(&idx, &logits, &labels)?;
        let logits = logits.to_kind(Kind::Float).to_device(Device::Cpu);
        let rows = Vec::<Vec<Vec<f32>>>::try_from(&logits).context("cannot read logits")?;
        for (&i, positions) in idx.iter().zip(rows) {
            let labels = &features[i].label_ids;
            let word_starts = labels.iter().zip(positions).filter(|(l, _)| **l != IGNORE_INDEX);
            preds[i] = word_starts.map(|(_, p)| argmax(&p)).collect();
        }
    }
    Ok(preds)
}

/// The tag of every word of an `n_words`-word sentence from its kept words' tag ids: words beyond the
/// truncation read `O` (as `ner_score_truncated` scores them).
pub fn word_tags<'a, S: AsRef<str>>(ids: &[usize], n_words: usize, labels: &'a [S]) -> Vec<&'a str> {
    let mut tags: Vec<&str> = ids.iter().map(|&l| labels.get(l).map_or("O", AsRef::as_ref)).collect();
    tags.resize(n_words, "O");
    tags
}

impl Ner<'_> {
    fn batch_loss(&self, split: &Split, idx: &[usize], train: bool) -> (Tensor, Tensor) {
        let rows: Vec<&NerFeature> = idx.iter().map(|&i| &split.features[i]).collect();
        let (batch, labels) = pad_ner_batch(&rows, self.pad_id, self.device);
        let logits = self.model.forward_t(&batch, train);
        (self.model.loss(&logits, &labels), logits)
    }

    /// The reference's loss (mean of per-batch mean losses over batches of `eval_batch_size` in input
    /// order) and, per sentence, the predicted tag ids of its kept words. The forward passes run on
    /// length-sorted batches; per-sentence loss sums rebuild the input-order batch means exactly.
    fn predict(&self, split: &Split) -> Result<(f64, Vec<Vec<usize>>)> {
        let bs = self.cfg.eval_batch_size;
        let batches = split.features.len().div_ceil(bs.max(1));
        let bar = progress::bar(batches as u64, &format!("eval {}", split.name));
        let mut loss_sums = vec![0f64; split.examples.len()];
        let preds = predict_word_tags(
            &self.model,
            &split.features,
            self.pad_id,
            self.device,
            bs,
            |idx, logits, labels| {
                let sums = Vec::<f64>::try_from(&sentence_loss_sums(logits, labels)).context("cannot read losses")?;
                for (&i, sum) in idx.iter().zip(sums) {
                    loss_sums[i] = sum;
                }
                bar.inc(1);
                Ok(())
            },
        )?;
        bar.finish_and_clear();
        let counts: Vec<usize> = split.features.iter().map(|f| f.words_kept).collect();
        Ok((
            reference_batch_mean(&loss_sums, &counts, self.cfg.eval_batch_size),
            preds,
        ))
    }

    /// Gold and predicted tag sequences as scored: words cut off by truncation count as `O`
    /// predictions with `ner_score_truncated`, else they are left out (the reference).
    fn tag_sequences(&self, split: &Split, preds: &[Vec<usize>]) -> (Vec<Vec<&'static str>>, Vec<Vec<&'static str>>) {
        let tag = |id: usize| NAVER_NER_LABELS.get(id).copied().unwrap_or("O");
        let mut gold = Vec::with_capacity(preds.len());
        let mut pred = Vec::with_capacity(preds.len());
        for (example, p) in split.examples.iter().zip(preds) {
            let scored = if self.cfg.ner_score_truncated {
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

impl TaskRun for Ner<'_> {
    type Split = Split;

    fn split_name(split: &Split) -> &'static str {
        split.name
    }

    fn lengths(split: &Split) -> Vec<usize> {
        split.features.iter().map(|f| f.input_ids.len()).collect()
    }

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
        })
    }

    fn train_loss(&self, split: &Split, indices: &[usize]) -> Result<Tensor> {
        Ok(self.batch_loss(split, indices, true).0)
    }

    fn selection_metric(&self) -> &'static str {
        "f1"
    }
}

/// Per-sentence sums of the token cross-entropies (ignored positions contribute 0), on the CPU.
fn sentence_loss_sums(logits: &Tensor, labels: &Tensor) -> Tensor {
    let (n, len) = (labels.size()[0], labels.size()[1]);
    let classes = logits.size()[2];
    logits
        .view([-1, classes])
        .to_kind(Kind::Float)
        .cross_entropy_loss::<Tensor>(&labels.view([-1]), None, tch::Reduction::None, IGNORE_INDEX, 0.0)
        .view([n, len])
        .to_kind(Kind::Double)
        .sum_dim_intlist(1, false, Kind::Double)
        .to_device(Device::Cpu)
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
