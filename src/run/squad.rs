//! `squad`: KorQuAD extractive QA end to end — windows, training on start/end targets, n-best
//! decoding, the SQuAD and official KorQuAD scores, and the reference prediction files.
use super::pipeline::{self, Evaluation, PredictionFile, TaskRun};
use super::{build_model, load_tokenizer, ModelSource};
use crate::checkpoint::HeadInfo;
use crate::config::Config;
use crate::model::heads::{Batch, ElectraForQuestionAnswering, HeadKind};
use crate::output::Metrics;
use crate::progress;
use crate::squad_eval::{self, ExamplePrediction, ExampleView, FeatureView};
use crate::tasks::squad::{build_features, read_examples, SquadExample, SquadFeature};
use crate::tokenizer::ElectraTokenizer;
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// A KorQuAD/SQuAD file, read and cut into windows.
pub struct Split {
    name: &'static str,
    examples: Vec<SquadExample>,
    features: Vec<SquadFeature>,
}

struct Squad<'a> {
    cfg: &'a Config,
    pad_id: i64,
    model: ElectraForQuestionAnswering,
    device: Device,
}

/// Runs the `squad` subcommand for a loaded config.
pub fn run(cfg: &Config, device: Device) -> Result<()> {
    let source = ModelSource::from_config(cfg)?;
    let tokenizer = load_tokenizer(cfg, &source)?;
    let train_split = match cfg.do_train {
        true => Some(read_split(cfg, "train", &cfg.train_file, true, &tokenizer)?),
        false => None,
    };
    // The predict file is KorQuAD's official dev set: the reported (test) split, never used to select.
    let test = match cfg.do_eval || cfg.evaluate_during_training {
        true => Some(read_split(cfg, "test", &cfg.predict_file, false, &tokenizer)?),
        false => None,
    };
    tch::manual_seed(cfg.seed as i64);
    let (vs, model, ecfg) = build_model(&source, HeadKind::QuestionAnswering, device, |vs, c| {
        ElectraForQuestionAnswering::new(&vs.root(), c)
    })?;
    let task = Squad {
        cfg,
        pad_id: tokenizer.pad_id(),
        model,
        device,
    };
    log::info!("device {device:?}");
    let splits = pipeline::Splits {
        train: train_split.as_ref(),
        dev: None,
        test: test.as_ref(),
        eval_during_training: test.as_ref().filter(|_| cfg.evaluate_during_training),
    };
    let head = HeadInfo {
        architecture: HeadKind::QuestionAnswering.architecture().into(),
        labels: vec!["LABEL_0".to_string(), "LABEL_1".to_string()],
    };
    let saving = pipeline::Saving {
        source: &source,
        model_config: &ecfg,
        head,
        tokenizer: &tokenizer,
    };
    pipeline::execute(cfg, &vs, &task, splits, &[], saving)
}

fn read_split(cfg: &Config, name: &'static str, file: &str, training: bool, tok: &ElectraTokenizer) -> Result<Split> {
    let key = if training { "train_file" } else { "predict_file" };
    let path = cfg
        .data_path(file)
        .with_context(|| format!("config key \"{key}\" is empty"))?;
    let read = read_examples(&path, training, cfg.version_2_with_negative)?;
    if read.dropped > 0 {
        log::info!(
            "{name}: dropped {} question(s) whose answer is not at answer_start (as the reference)",
            read.dropped
        );
    }
    if !training && !read.version.is_empty() && !read.version.starts_with("KorQuAD_v1.0") {
        log::warn!(
            "{}: version {:?}, the official scorer expects KorQuAD_v1.0",
            path.display(),
            read.version
        );
    }
    if read.examples.is_empty() {
        bail!("{}: no questions", path.display());
    }
    let bar = progress::bar(read.examples.len() as u64, &format!("windows {name}"));
    let started = Instant::now();
    let features = build_features(
        tok,
        &read.examples,
        cfg.max_seq_length,
        cfg.doc_stride,
        cfg.max_query_length,
        training,
        cfg.threads.max(1),
    )?;
    bar.finish_and_clear();
    log::info!(
        "{name}: {} questions, {} windows from {} ({:.1}s)",
        read.examples.len(),
        features.len(),
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(Split {
        name,
        examples: read.examples,
        features,
    })
}

/// Pads every window to `max_seq_length`: the QA head masks nothing, so padded positions take part in
/// the training softmax and the top-k search as in the reference, independent of batching.
pub fn pad_windows(rows: &[&SquadFeature], pad_id: i64, max_seq_length: usize, device: Device) -> Batch {
    let len = max_seq_length.max(rows.iter().map(|r| r.input_ids.len()).max().unwrap_or(0));
    let n = rows.len();
    let (mut ids, mut mask, mut types) = (vec![pad_id; n * len], vec![0i64; n * len], vec![0i64; n * len]);
    for (i, row) in rows.iter().enumerate() {
        let (at, k) = (i * len, row.input_ids.len());
        ids[at..at + k].copy_from_slice(&row.input_ids);
        mask[at..at + k].fill(1);
        types[at..at + k].copy_from_slice(&row.token_type_ids);
    }
    let to = |v: Vec<i64>| Tensor::from_slice(&v).view([n as i64, len as i64]).to_device(device);
    Batch {
        input_ids: to(ids),
        attention_mask: to(mask),
        token_type_ids: to(types),
    }
}

/// Start and end logits of every window, in window order (consecutive batches of `batch_size` windows,
/// each padded to `max_seq_length`), in eval mode under no-grad; `each` runs after every batch.
pub fn window_logits(
    model: &ElectraForQuestionAnswering,
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
        let (start, end) = model.forward_t(&pad_windows(&rows, pad_id, max_seq_length, device), false);
        let read = |t: Tensor| Vec::<Vec<f32>>::try_from(&t.to_kind(Kind::Float).to_device(Device::Cpu));
        let (start, end) = (read(start).context("start logits")?, read(end).context("end logits")?);
        out.extend(start.into_iter().zip(end));
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

/// n-best decoding of every question, in order, with the config's `n_best_size`,
/// `max_answer_length`, `do_lower_case`, `version_2_with_negative` and `null_score_diff_threshold`.
pub fn decode_examples(
    cfg: &Config,
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
            squad_eval::predict_example(
                &view,
                &views,
                cfg.n_best_size,
                cfg.max_answer_length,
                cfg.do_lower_case,
                cfg.version_2_with_negative,
                cfg.null_score_diff_threshold,
            )
        })
        .collect()
}

impl Squad<'_> {
    /// Start and end logits of every window of a split, in window order.
    fn logits(&self, split: &Split) -> Result<Vec<(Vec<f32>, Vec<f32>)>> {
        let batches = split.features.len().div_ceil(self.cfg.eval_batch_size.max(1));
        let bar = progress::bar(batches as u64, &format!("eval {}", split.name));
        let cfg = self.cfg;
        let out = window_logits(
            &self.model,
            &split.features,
            self.pad_id,
            cfg.max_seq_length,
            cfg.eval_batch_size,
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
        let mut metrics = squad_eval::squad_metrics(&gold, preds, None, 1.0);
        let (em, f1) = squad_eval::korquad_official(&gold, preds);
        metrics.push(("official_exact_match".into(), em));
        metrics.push(("official_f1".into(), f1));
        metrics
    }
}

impl TaskRun for Squad<'_> {
    type Split = Split;

    fn split_name(split: &Split) -> &'static str {
        split.name
    }

    fn lengths(split: &Split) -> Vec<usize> {
        // Every window is padded to max_seq_length (see `batch`): grouping by length would save
        // nothing and only make batches homogeneous (all short last windows together), so all
        // lengths are equal and the stable sort keeps the random order.
        vec![0; split.features.len()]
    }

    fn evaluate(&self, split: &Split) -> Result<Evaluation> {
        let started = Instant::now();
        let logits = self.logits(split)?;
        let predictions = decode_examples(self.cfg, &split.examples, &split.features, &logits);
        let answers: Vec<(String, String)> = split
            .examples
            .iter()
            .zip(&predictions)
            .map(|(e, p)| (e.qas_id.clone(), p.answer.clone()))
            .collect();
        let nbest: Vec<(String, Vec<squad_eval::NbestEntry>)> = split
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
            file("predictions", squad_eval::predictions_json(&answers)),
            file("nbest_predictions", squad_eval::nbest_json(&nbest)),
        ];
        if self.cfg.version_2_with_negative {
            let odds: Vec<(String, f64)> = split
                .examples
                .iter()
                .zip(&predictions)
                .filter_map(|(e, p)| Some((e.qas_id.clone(), p.null_odds?)))
                .collect();
            files.push(file("null_odds", squad_eval::null_odds_json(&odds)));
        }
        Ok(Evaluation {
            loss: f64::NAN,
            metrics: self.metrics(split, &answers),
            report: None,
            predictions: files,
            samples_per_second: split.features.len() as f64 / started.elapsed().as_secs_f64().max(1e-9),
        })
    }

    fn train_loss(&self, split: &Split, indices: &[usize]) -> Result<Tensor> {
        let rows: Vec<&SquadFeature> = indices.iter().map(|&i| &split.features[i]).collect();
        let batch = pad_windows(&rows, self.pad_id, self.cfg.max_seq_length, self.device);
        let (start, end) = self.model.forward_t(&batch, true);
        let target = |f: fn(&SquadFeature) -> usize| {
            let v: Vec<i64> = rows.iter().map(|r| f(r) as i64).collect();
            Tensor::from_slice(&v).to_device(self.device)
        };
        let (starts, ends) = (target(|r| r.start_position), target(|r| r.end_position));
        Ok(self.model.loss(&start, &end, &starts, &ends))
    }

    fn selection_metric(&self) -> &'static str {
        "official_f1"
    }
}
