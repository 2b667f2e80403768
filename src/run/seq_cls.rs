//! `seq-cls`: nsmc, kornli, paws, question-pair, korsts and hate-speech end to end — read, encode,
//! train, evaluate every checkpoint, write the reference result files and ours.
use super::pipeline::{self, Evaluation, FeatureStats, PredictionFile, TaskRun};
use super::{build_model, load_tokenizer, ModelSource};
use crate::cache;
use crate::checkpoint::HeadInfo;
use crate::config::Config;
use crate::features::{argmax, length_sorted_batches, pad_batch};
use crate::metrics::{korsts_metrics, seq_cls_metrics};
use crate::model::heads::{ElectraForSequenceClassification, HeadKind};
use crate::output::Metrics;
use crate::progress;
use crate::tasks::seq_cls::{read_examples, task_spec, Example, Label, TaskSpec};
use crate::tokenizer::{ElectraTokenizer, Encoded};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// One data split, read and encoded.
pub struct Split {
    name: &'static str,
    examples: Vec<Example>,
    features: Vec<Encoded>,
    stats: FeatureStats,
}

/// The seq-cls half of a run: the task's columns and labels, the tokenizer and the model.
struct SeqCls<'a> {
    cfg: &'a Config,
    spec: TaskSpec,
    tokenizer: &'a ElectraTokenizer,
    model: ElectraForSequenceClassification,
    device: Device,
}

/// Runs the `seq-cls` subcommand for a loaded config.
pub fn run(cfg: &Config, device: Device) -> Result<()> {
    let spec = task_spec(&cfg.task)?;
    let source = ModelSource::from_config(cfg)?;
    let tokenizer = load_tokenizer(cfg, &source)?;
    // Read and encode everything before anything is written, so bad input leaves no output folder.
    let train_split = if cfg.do_train {
        Some(read_split(cfg, "train", &cfg.train_file, &tokenizer)?)
    } else {
        None
    };
    let dev = optional_split(cfg, "dev", &cfg.dev_file, &tokenizer)?;
    let test = optional_split(cfg, "test", &cfg.test_file, &tokenizer)?;
    if cfg.do_eval && test.is_none() {
        bail!("config key \"test_file\" is empty but do_eval is true (the final pass evaluates the test split)");
    }
    tch::manual_seed(cfg.seed as i64);
    let num_labels = spec.num_labels() as i64;
    let (vs, model, ecfg) = build_model(&source, HeadKind::SequenceClassification, device, |vs, c| {
        ElectraForSequenceClassification::new(&vs.root(), c, num_labels)
    })?;
    let task = SeqCls {
        cfg,
        spec,
        tokenizer: &tokenizer,
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
        head: task.head_info(),
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

fn optional_split(cfg: &Config, name: &'static str, file: &str, tok: &ElectraTokenizer) -> Result<Option<Split>> {
    if file.is_empty() {
        return Ok(None);
    }
    read_split(cfg, name, file, tok).map(Some)
}

fn read_split(cfg: &Config, name: &'static str, file: &str, tok: &ElectraTokenizer) -> Result<Split> {
    let Some(path) = cfg.data_path(file) else {
        bail!("config key \"{name}_file\" is empty but the {name} split is needed");
    };
    let report = read_examples(&cfg.task, &path, name)?;
    if report.skipped > 0 {
        log::info!(
            "{name}: skipped {} row(s) with an empty text ({})",
            report.skipped,
            path.display()
        );
    }
    if report.examples.is_empty() {
        bail!("{}: no examples (only a header line?)", path.display());
    }
    let started = Instant::now();
    let key = cache::Key::new("seq-cls")
        .value("task", &cfg.task)
        .value("max_seq_len", cfg.max_seq_len)
        .bytes("tokenizer", &tok.fingerprint()?)
        .file(&path)?;
    let (rows, cached) = cache::load_or_build(key, name, || {
        let encoded = encode(tok, &report.examples, cfg.max_seq_len, name)?;
        Ok(encoded
            .into_iter()
            .map(|e| vec![e.ids, e.type_ids, e.attention_mask])
            .collect())
    })?;
    let features: Vec<Encoded> = rows
        .into_iter()
        .map(|mut r| Encoded {
            attention_mask: r.pop().unwrap_or_default(),
            type_ids: r.pop().unwrap_or_default(),
            ids: r.pop().unwrap_or_default(),
        })
        .collect();
    if features.len() != report.examples.len() {
        bail!(
            "{name}: feature cache holds {} rows for {} examples",
            features.len(),
            report.examples.len()
        );
    }
    let stats = FeatureStats::new(name, features.len(), started.elapsed(), cached);
    log::info!(
        "{name}: {} examples from {} ({})",
        report.examples.len(),
        path.display(),
        stats.describe()
    );
    Ok(Split {
        name,
        examples: report.examples,
        features,
        stats,
    })
}

fn encode(tok: &ElectraTokenizer, examples: &[Example], max_len: usize, name: &str) -> Result<Vec<Encoded>> {
    let bar = progress::bar(examples.len() as u64, &format!("encode {name}"));
    let mut features = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(2048) {
        let pairs: Vec<(&str, Option<&str>)> = chunk.iter().map(|e| (e.text_a.as_str(), e.text_b.as_deref())).collect();
        features.extend(tok.encode_batch(&pairs, max_len)?);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(features)
}

/// Logits of every row in input order, in eval mode under no-grad. The forward passes run on
/// length-sorted batches of `batch_size` ([`length_sorted_batches`]); `each` sees every batch's row
/// indices and its logits (the evaluation adds up the loss there).
pub fn sorted_logits(
    model: &ElectraForSequenceClassification,
    rows: &[Encoded],
    pad_id: i64,
    device: Device,
    batch_size: usize,
    mut each: impl FnMut(&[usize], &Tensor),
) -> Result<Vec<Vec<f32>>> {
    let lengths: Vec<usize> = rows.iter().map(|f| f.ids.len()).collect();
    let mut logits = vec![vec![]; rows.len()];
    let _guard = tch::no_grad_guard();
    for idx in length_sorted_batches(&lengths, batch_size) {
        let batch: Vec<&Encoded> = idx.iter().map(|&i| &rows[i]).collect();
        let out = model.forward_t(&pad_batch(&batch, pad_id, device), false);
        each(&idx, &out);
        let out = out.to_kind(Kind::Float).to_device(Device::Cpu);
        let out = Vec::<Vec<f32>>::try_from(&out).context("cannot read logits")?;
        for (&i, row) in idx.iter().zip(out) {
            logits[i] = row;
        }
    }
    Ok(logits)
}

#[derive(Serialize)]
struct Prediction<'a> {
    guid: &'a str,
    label: serde_json::Value,
    pred: serde_json::Value,
    logits: &'a [f32],
}

impl SeqCls<'_> {
    fn label_tensor(&self, examples: &[&Example]) -> Tensor {
        if self.spec.is_regression() {
            let v: Vec<f32> = examples.iter().map(|e| score(e.label)).collect();
            Tensor::from_slice(&v).to_device(self.device)
        } else {
            let v: Vec<i64> = examples.iter().map(|e| class(e.label) as i64).collect();
            Tensor::from_slice(&v).to_device(self.device)
        }
    }

    fn batch_loss(&self, split: &Split, idx: &[usize], train: bool) -> (Tensor, Tensor) {
        let rows: Vec<&Encoded> = idx.iter().map(|&i| &split.features[i]).collect();
        let examples: Vec<&Example> = idx.iter().map(|&i| &split.examples[i]).collect();
        let batch = pad_batch(&rows, self.tokenizer.pad_id(), self.device);
        let logits = self.model.forward_t(&batch, train);
        let loss = self.model.loss(&logits, &self.label_tensor(&examples));
        (loss, logits)
    }

    /// Mean of per-batch losses and per-example logits in input order.
    fn logits(&self, split: &Split) -> Result<(f64, Vec<Vec<f32>>)> {
        let bs = self.cfg.eval_batch_size;
        let batches = split.features.len().div_ceil(bs.max(1));
        let bar = progress::bar(batches as u64, &format!("eval {}", split.name));
        let mut loss_sum = 0.0;
        let pad_id = self.tokenizer.pad_id();
        let logits = sorted_logits(&self.model, &split.features, pad_id, self.device, bs, |idx, out| {
            let examples: Vec<&Example> = idx.iter().map(|&i| &split.examples[i]).collect();
            loss_sum += self.model.loss(out, &self.label_tensor(&examples)).double_value(&[]);
            bar.inc(1);
        })?;
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
            seq_cls_metrics(&self.cfg.task, &preds, &gold)
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

    fn head_info(&self) -> HeadInfo {
        let labels = match self.spec.label_names() {
            [] => vec!["LABEL_0".to_string()],
            names => names.iter().map(|s| s.to_string()).collect(),
        };
        HeadInfo {
            architecture: HeadKind::SequenceClassification.architecture().into(),
            labels,
        }
    }
}

impl TaskRun for SeqCls<'_> {
    type Split = Split;

    fn split_name(split: &Split) -> &'static str {
        split.name
    }

    fn lengths(split: &Split) -> Vec<usize> {
        split.features.iter().map(|f| f.ids.len()).collect()
    }

    fn evaluate(&self, split: &Split) -> Result<Evaluation> {
        let started = Instant::now();
        let (loss, logits) = self.logits(split)?;
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

    fn train_loss(&self, split: &Split, indices: &[usize]) -> Result<Tensor> {
        Ok(self.batch_loss(split, indices, true).0)
    }

    fn selection_metric(&self) -> &'static str {
        match self.cfg.task.as_str() {
            "korsts" => "spearmanr",
            "hate-speech" => "f1",
            _ => "acc",
        }
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
