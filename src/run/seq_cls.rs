//! `seq-cls`: nsmc, kornli, paws, question-pair, korsts and hate-speech end to end — read, encode,
//! train, evaluate every checkpoint, write the reference result files and ours.
use super::{build_model, list_checkpoints, load_tokenizer, prepare_output_dir, resume_point, suffixed};
use super::{CheckpointResult, CheckpointWriter, ModelSource};
use crate::checkpoint::{self, HeadInfo};
use crate::config::Config;
use crate::features::{length_sorted_batches, pad_batch};
use crate::metrics::{korsts_metrics, seq_cls_metrics};
use crate::model::heads::{ElectraForSequenceClassification, HeadKind};
use crate::optim::AdamW;
use crate::output::{self, EvalEvent, Metrics, MetricsLog};
use crate::progress;
use crate::tasks::seq_cls::{read_examples, task_spec, Example, Label, TaskSpec};
use crate::tokenizer::{ElectraTokenizer, Encoded};
use crate::train::{self, Hooks, LoopConfig, Plan, Position, TrainLog};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{nn::VarStore, Device, Kind, Tensor};

/// One data split, read and encoded.
struct Split {
    name: &'static str,
    examples: Vec<Example>,
    features: Vec<Encoded>,
}

/// Everything a seq-cls run works with.
struct SeqCls<'a> {
    cfg: &'a Config,
    spec: TaskSpec,
    tokenizer: ElectraTokenizer,
    vs: VarStore,
    model: ElectraForSequenceClassification,
    device: Device,
    out: PathBuf,
    log: MetricsLog,
}

/// Runs the `seq-cls` subcommand for a loaded config.
pub fn run(cfg: &Config, device: Device) -> Result<()> {
    let spec = task_spec(&cfg.task)?;
    let source = ModelSource::from_config(cfg)?;
    let tokenizer = load_tokenizer(cfg, &source)?;
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
    let out = cfg.output_path();
    log::info!("device {device:?}; outputs in {}", out.display());
    let run = SeqCls {
        cfg,
        spec,
        tokenizer,
        vs,
        model,
        device,
        log: MetricsLog::new(&out),
        out,
    };
    let mut dev_results = HashMap::new();
    if let Some(train_split) = &train_split {
        prepare_output_dir(cfg, &run.out)?;
        let eval_split = if cfg.evaluate_test_during_training || dev.is_none() {
            test.as_ref()
        } else {
            dev.as_ref()
        };
        dev_results = run.train(train_split, eval_split, &source, &ecfg)?;
    } else {
        std::fs::create_dir_all(&run.out).with_context(|| format!("cannot create {}", run.out.display()))?;
    }
    if cfg.do_eval {
        if let Some(test) = &test {
            run.final_pass(test, dev.as_ref(), &dev_results)?;
        }
    }
    Ok(())
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
    let features = encode(tok, &report.examples, cfg.max_seq_len, name)?;
    log::info!("{name}: {} examples from {}", report.examples.len(), path.display());
    Ok(Split {
        name,
        examples: report.examples,
        features,
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

/// One evaluation: mean of per-batch losses, metrics, and per-example logits in input order.
struct EvalOutput {
    loss: f64,
    metrics: Metrics,
    logits: Vec<Vec<f32>>,
    samples_per_second: f64,
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

    fn evaluate(&self, split: &Split) -> Result<EvalOutput> {
        let started = Instant::now();
        let lengths: Vec<usize> = split.features.iter().map(|f| f.ids.len()).collect();
        let batches = length_sorted_batches(&lengths, self.cfg.eval_batch_size);
        let bar = progress::bar(batches.len() as u64, &format!("eval {}", split.name));
        let mut logits = vec![vec![]; split.examples.len()];
        let mut loss_sum = 0.0;
        let _guard = tch::no_grad_guard();
        for idx in &batches {
            let (loss, out) = self.batch_loss(split, idx, false);
            loss_sum += loss.double_value(&[]);
            let out = out.to_kind(Kind::Float).to_device(Device::Cpu);
            let rows: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(&out).context("cannot read logits")?;
            for (&i, row) in idx.iter().zip(rows) {
                logits[i] = row;
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        let metrics = self.metrics(&split.examples, &logits);
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        Ok(EvalOutput {
            loss: loss_sum / batches.len().max(1) as f64,
            metrics,
            logits,
            samples_per_second: split.examples.len() as f64 / secs,
        })
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

    fn write_predictions(&self, path: &Path, split: &Split, logits: &[Vec<f32>]) -> Result<()> {
        let names = self.spec.label_names();
        let value = |label: Label, row: &[f32]| -> (serde_json::Value, serde_json::Value) {
            match label {
                Label::Score(s) => (
                    serde_json::json!(s),
                    serde_json::json!(row.first().copied().unwrap_or(f32::NAN)),
                ),
                Label::Class(c) => (names.get(c).copied().into(), names.get(argmax(row)).copied().into()),
            }
        };
        let rows = split.examples.iter().zip(logits).map(|(e, l)| {
            let (label, pred) = value(e.label, l);
            Prediction {
                guid: &e.guid,
                label,
                pred,
                logits: l,
            }
        });
        output::write_jsonl(path, rows)
    }

    /// Writes the per-eval file, metrics.jsonl and the log line of one evaluation.
    fn record(
        &self,
        split: &Split,
        step: Option<i64>,
        epoch: Option<f64>,
        label: &str,
        eval: &EvalOutput,
    ) -> Result<()> {
        output::write_eval_file(
            &self.out,
            split.name,
            Some(label).filter(|l| !l.is_empty()),
            &eval.metrics,
            None,
        )?;
        self.log.append(&EvalEvent {
            event: "eval",
            step,
            epoch,
            split: split.name,
            loss: eval.loss,
            metrics: output::metrics_json(&eval.metrics),
            samples_per_second: eval.samples_per_second,
        })?;
        let shown: Vec<String> = eval.metrics.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
        let at = if label.is_empty() {
            String::new()
        } else {
            format!(" @ {label}")
        };
        log::info!("eval {}{at}: loss {:.4}, {}", split.name, eval.loss, shown.join(", "));
        Ok(())
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

    fn train(
        &self,
        train: &Split,
        eval_split: Option<&Split>,
        source: &ModelSource,
        ecfg: &crate::model::electra::ElectraConfig,
    ) -> Result<HashMap<i64, Metrics>> {
        let cfg = self.cfg;
        let loop_cfg = loop_config(cfg);
        let n = train.examples.len();
        let batches_per_epoch = n.div_ceil(cfg.train_batch_size) as i64;
        let plan = Plan::new(batches_per_epoch, &loop_cfg)?;
        log::info!(
            "training: {n} examples, batch {}, {} epoch(s), {} optimisation steps",
            cfg.train_batch_size,
            plan.epochs,
            plan.total_updates
        );
        let resume = match source {
            ModelSource::Dir(dir) => resume_point(dir)?,
            ModelSource::Scratch(_) => None,
        };
        if let Some((pos, _)) = &resume {
            log::info!(
                "resuming at step {} (epoch {}, batch {})",
                pos.global_step,
                pos.epoch,
                pos.next_batch
            );
        }
        let writer = CheckpointWriter {
            out: &self.out,
            cfg,
            model_config: ecfg,
            head: self.head_info(),
            tokenizer: &self.tokenizer,
        };
        let mut hooks = SeqClsHooks {
            run: self,
            writer,
            eval_split,
            plan,
            dev_results: HashMap::new(),
            bar: None,
        };
        let (bs, seed) = (cfg.train_batch_size, cfg.seed);
        let batches = |epoch| train::random_batches(n, bs, seed, epoch);
        let loss = |idx: &[usize]| Ok(self.batch_loss(train, idx, true).0);
        let resume = resume.as_ref().map(|(p, f)| (*p, f.as_path()));
        let outcome = train::run(&self.vs, &loop_cfg, &plan, &batches, &loss, &mut hooks, resume)?;
        if let Some(bar) = hooks.bar.take() {
            bar.finish_and_clear();
        }
        log::info!("training done: {} steps", outcome.position.global_step);
        Ok(hooks.dev_results)
    }

    /// Evaluates every checkpoint (or the last) on test, plus dev where needed for selection, and
    /// writes eval_results.txt, predictions and summary.json. Without checkpoints, evaluates the
    /// loaded model itself.
    fn final_pass(&self, test: &Split, dev: Option<&Split>, dev_results: &HashMap<i64, Metrics>) -> Result<()> {
        let mut checkpoints = list_checkpoints(&self.out)?;
        if checkpoints.is_empty() {
            let eval = self.evaluate(test)?;
            self.record(test, None, None, "", &eval)?;
            self.write_predictions(&self.out.join(test.name).join("predictions.jsonl"), test, &eval.logits)?;
            output::write_eval_results(&self.out, &eval.metrics, 1)?;
            print_result(test.name, "the model as loaded", &eval.metrics);
            return Ok(());
        }
        if !self.cfg.eval_all_checkpoints {
            checkpoints = checkpoints.split_off(checkpoints.len() - 1);
        }
        let mut all = Metrics::new();
        let mut results = vec![];
        for (step, dir) in &checkpoints {
            let label = step.to_string();
            let weights = checkpoint::weights_file(dir)?;
            checkpoint::load_weights(&self.vs, &weights, &[])?;
            let eval = self.evaluate(test)?;
            self.record(test, Some(*step), None, &label, &eval)?;
            let predictions = self.out.join(test.name).join(format!("predictions-{label}.jsonl"));
            self.write_predictions(&predictions, test, &eval.logits)?;
            all.extend(suffixed(&eval.metrics, &label));
            let dev_metrics = match (dev_results.get(step), dev) {
                (Some(m), _) => Some(m.clone()),
                (None, Some(dev)) => {
                    let eval = self.evaluate(dev)?;
                    self.record(dev, Some(*step), None, &label, &eval)?;
                    Some(eval.metrics)
                }
                (None, None) => None,
            };
            results.push(CheckpointResult {
                checkpoint: format!("checkpoint-{label}"),
                step: *step,
                dev: dev_metrics.as_ref().map(output::metrics_json),
                test: Some(output::metrics_json(&eval.metrics)),
            });
        }
        output::write_eval_results(&self.out, &all, checkpoints.len())?;
        super::write_summary(&self.out, &results, selection_metric(&self.cfg.task))?;
        if let Some(best) = super::selected(&results, selection_metric(&self.cfg.task)) {
            let metrics: Metrics = best
                .test
                .iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                .collect();
            print_result(test.name, &best.checkpoint, &metrics);
        }
        Ok(())
    }
}

fn print_result(split: &str, what: &str, metrics: &Metrics) {
    let shown: Vec<String> = metrics.iter().map(|(k, v)| format!("{k} = {v:.4}")).collect();
    println!("{split} ({what}): {}", shown.join(", "));
}

/// The dev metric that picks the checkpoint reported in summary.json.
pub fn selection_metric(task: &str) -> &'static str {
    match task {
        "korsts" => "spearmanr",
        "hate-speech" => "f1",
        _ => "acc",
    }
}

struct SeqClsHooks<'a, 'b> {
    run: &'a SeqCls<'b>,
    writer: CheckpointWriter<'a>,
    eval_split: Option<&'a Split>,
    plan: Plan,
    dev_results: HashMap<i64, Metrics>,
    bar: Option<indicatif::ProgressBar>,
}

impl Hooks for SeqClsHooks<'_, '_> {
    fn on_log(&mut self, event: &TrainLog) -> Result<()> {
        #[derive(Serialize)]
        struct Event<'a> {
            event: &'static str,
            #[serde(flatten)]
            log: &'a TrainLog,
        }
        self.run.log.append(&Event {
            event: "train",
            log: event,
        })?;
        log::info!(
            "step {} (epoch {:.2}): loss {:.4}, lr {:.3e}, {:.1} samples/s",
            event.step,
            event.epoch,
            event.loss,
            event.lr,
            event.samples_per_second
        );
        Ok(())
    }

    fn evaluate(&mut self, position: Position) -> Result<()> {
        let Some(split) = self.eval_split else { return Ok(()) };
        let eval = self.run.evaluate(split)?;
        let epoch = position.global_step as f64 / self.plan.updates_per_epoch as f64;
        self.run.record(
            split,
            Some(position.global_step),
            Some(epoch),
            &position.global_step.to_string(),
            &eval,
        )?;
        if split.name == "dev" {
            self.dev_results.insert(position.global_step, eval.metrics);
        }
        Ok(())
    }

    fn save(&mut self, position: Position, optimizer: &AdamW) -> Result<()> {
        self.writer.save(&self.run.vs, position, optimizer).map(|_| ())
    }

    fn on_update(&mut self, position: Position, loss: f64, lr: f64) {
        let epoch_of_update = (position.global_step - 1) / self.plan.updates_per_epoch;
        let bar = self.bar.get_or_insert_with(|| epoch_bar(epoch_of_update, &self.plan));
        if bar.position() >= self.plan.updates_per_epoch as u64 {
            bar.finish_and_clear();
            *bar = epoch_bar(epoch_of_update, &self.plan);
        }
        bar.inc(1);
        bar.set_message(format!("loss {loss:.4} lr {lr:.2e}"));
    }
}

fn epoch_bar(epoch: i64, plan: &Plan) -> indicatif::ProgressBar {
    progress::bar(
        plan.updates_per_epoch as u64,
        &format!("epoch {}/{}", epoch + 1, plan.epochs),
    )
}

/// The loop settings of a run config.
pub fn loop_config(cfg: &Config) -> LoopConfig {
    LoopConfig {
        epochs: cfg.num_train_epochs as i64,
        grad_accum: cfg.gradient_accumulation_steps as i64,
        max_steps: cfg.max_steps,
        learning_rate: cfg.learning_rate,
        warmup_proportion: cfg.warmup_proportion,
        weight_decay: cfg.weight_decay,
        adam_epsilon: cfg.adam_epsilon,
        max_grad_norm: cfg.max_grad_norm,
        logging_steps: cfg.logging_steps as i64,
        save_steps: cfg.save_steps as i64,
        seed: cfg.seed,
    }
}

fn argmax(row: &[f32]) -> usize {
    // First maximum on ties, as numpy's argmax.
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
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
