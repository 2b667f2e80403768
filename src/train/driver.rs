//! The task-independent half of every run: the output folder, training with evaluation and
//! checkpoint cadence, the final pass over checkpoints, and the result files. A task plugs in
//! through [`TaskModel`]; what the driver needs from the run config is resolved once into
//! [`RunSettings`].
use super::checkpoints::{
    check_output_space, list_checkpoints, prepare_output_dir, read_history, resume_point, warn_changed_settings,
    CheckpointWriter, History,
};
use super::optim::AdamW;
use super::schedule::ScheduleKind;
use super::summary::{self, CheckpointResult, RunInfo};
use super::trainer::{self, Hooks, LoopConfig, Plan, Position, TrainLog};
use super::{batches, interrupt, retention};
use crate::config::Config;
use crate::device::amp::Precision;
use crate::infer::{Evaluation, SplitData, TaskModel};
use crate::io::lock::{lock_run_folder, RunLock};
use crate::io::metrics_log::{EndEvent, EvalEvent, MetricsLog};
use crate::io::results::{self, Metrics};
use crate::io::tensorboard::EventWriter;
use crate::io::{curves, progress, stdout};
use crate::model::source::ModelSource;
use crate::model::weights::{self, HeadInfo};
use crate::model::{Family, ModelConfig};
use crate::text::Tokenizer;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use tch::nn::VarStore;

/// What the driver needs from a run config.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The run folder, `<ckpt_dir>/<output_dir>`.
    pub out: PathBuf,
    pub resuming: bool,
    pub overwrite_output_dir: bool,
    pub do_eval: bool,
    pub eval_all_checkpoints: bool,
    pub train_batch_size: usize,
    pub eval_batch_size: usize,
    pub group_by_length: bool,
    /// Early stopping on the dev selection metric (`early_stopping_patience`, 0 = off).
    pub early_stopping: EarlyStopping,
    /// `save_total_limit` (0: keep every checkpoint).
    pub save_total_limit: usize,
    pub load_best_model_at_end: bool,
    pub loop_config: LoopConfig,
    pub task: String,
    pub model_type: String,
    pub model_name_or_path: String,
    /// `report_to`: write `metrics.jsonl` / a TensorBoard event file.
    pub jsonl: bool,
    pub tensorboard: bool,
    /// The whole config, saved in every checkpoint as `training_args.json`.
    pub training_args: serde_json::Value,
}

impl RunSettings {
    pub fn new(cfg: &Config) -> Result<Self> {
        Ok(Self {
            out: cfg.output_path(),
            resuming: !cfg.resume_from_checkpoint.is_empty(),
            overwrite_output_dir: cfg.overwrite_output_dir,
            do_eval: cfg.do_eval,
            eval_all_checkpoints: cfg.eval_all_checkpoints,
            train_batch_size: cfg.train_batch_size,
            eval_batch_size: cfg.eval_batch_size,
            group_by_length: cfg.group_by_length,
            early_stopping: EarlyStopping {
                patience: cfg.early_stopping_patience as i64,
                threshold: cfg.early_stopping_threshold,
                ..EarlyStopping::default()
            },
            save_total_limit: cfg.save_total_limit as usize,
            load_best_model_at_end: cfg.load_best_model_at_end,
            jsonl: cfg.reports_to("jsonl"),
            tensorboard: cfg.reports_to("tensorboard"),
            loop_config: loop_config(cfg),
            task: cfg.task.clone(),
            model_type: cfg.model_type.clone(),
            model_name_or_path: cfg.model_name_or_path.clone(),
            training_args: serde_json::to_value(cfg)?,
        })
    }

    fn run_info(&self) -> RunInfo<'_> {
        RunInfo {
            task: &self.task,
            model_type: &self.model_type,
            model_name_or_path: &self.model_name_or_path,
        }
    }
}

/// The loop settings of a run config.
pub fn loop_config(cfg: &Config) -> LoopConfig {
    LoopConfig {
        epochs: cfg.num_train_epochs as i64,
        grad_accum: cfg.gradient_accumulation_steps as i64,
        max_steps: cfg.max_steps,
        learning_rate: cfg.learning_rate,
        warmup_proportion: cfg.warmup_proportion,
        warmup_steps: cfg.warmup_steps as i64,
        lr_scheduler_type: ScheduleKind::from_name(&cfg.lr_scheduler_type).unwrap_or(ScheduleKind::Linear),
        weight_decay: cfg.weight_decay,
        adam_epsilon: cfg.adam_epsilon,
        max_grad_norm: cfg.max_grad_norm,
        logging_steps: cfg.logging_steps as i64,
        save_steps: cfg.save_steps as i64,
        save_optimizer: cfg.save_optimizer,
        seed: cfg.seed,
        precision: Precision::from_flags(cfg.bf16, cfg.fp16),
        empty_cache_steps: cfg.torch_empty_cache_steps as i64,
    }
}

/// The splits of a run (any may be absent).
pub struct Splits<'a, S> {
    pub train: Option<&'a S>,
    pub dev: Option<&'a S>,
    pub test: Option<&'a S>,
    /// Where evaluation during training runs.
    pub eval_during_training: Option<&'a S>,
}

impl<'a, S> Splits<'a, S> {
    /// Train, dev and test; evaluation during training on test when `test_first`
    /// (`evaluate_test_during_training`) or when there is no dev split, else on dev.
    pub fn new(train: Option<&'a S>, dev: Option<&'a S>, test: Option<&'a S>, test_first: bool) -> Self {
        let eval_during_training = if test_first || dev.is_none() { test } else { dev };
        Self {
            train,
            dev,
            test,
            eval_during_training,
        }
    }
}

/// What a checkpoint holds besides the weights, and where the weights came from (for resuming).
pub struct Saving<'a> {
    pub source: &'a ModelSource,
    pub model_config: &'a ModelConfig,
    pub head: HeadInfo,
    pub tokenizer: &'a dyn Tokenizer,
}

/// Run-wide context: settings, weights and their family, event log.
struct RunContext<'a> {
    settings: &'a RunSettings,
    vs: &'a VarStore,
    family: &'static Family,
    log: MetricsLog,
    board: Option<Board>,
}

/// The run's TensorBoard event file (`<out>/runs/`), and which evaluations it holds already.
struct Board {
    writer: RefCell<EventWriter>,
    written: RefCell<HashSet<(String, i64)>>,
}

impl Board {
    fn open(out: &Path) -> Result<Self> {
        let writer = EventWriter::create(&out.join("runs"))?;
        log::info!("TensorBoard events in {}", writer.path().display());
        Ok(Self {
            writer: RefCell::new(writer),
            written: RefCell::default(),
        })
    }

    /// `train/loss`, `train/learning_rate`, `train/grad_norm`, `train/samples_per_second`.
    fn train(&self, event: &TrainLog) -> Result<()> {
        let mut values = vec![("train/loss", event.loss), ("train/learning_rate", event.lr)];
        if event.grad_norm.is_finite() {
            values.push(("train/grad_norm", event.grad_norm));
        }
        values.push(("train/samples_per_second", event.samples_per_second));
        self.writer.borrow_mut().scalars(event.step, &values)
    }

    /// `<split>/loss` and `<split>/<metric>` at `step`, once per split and step (the final pass
    /// re-evaluates checkpoints that training evaluated already).
    fn eval(&self, split: &str, step: i64, eval: &Evaluation) -> Result<()> {
        if !self.written.borrow_mut().insert((split.to_string(), step)) {
            return Ok(());
        }
        let mut values: Vec<(String, f64)> = vec![];
        if eval.loss.is_finite() {
            values.push((format!("{split}/loss"), eval.loss));
        }
        values.extend(eval.metrics.iter().map(|(k, v)| (format!("{split}/{k}"), *v)));
        let values: Vec<(&str, f64)> = values.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        self.writer.borrow_mut().scalars(step, &values)
    }
}

/// A whole run once the data and model are ready: the output folder, the feature events, training
/// (when there is a train split), the final pass (with `do_eval`) and the end event.
pub fn execute<T: TaskModel>(
    settings: &RunSettings,
    vs: &VarStore,
    task: &T,
    splits: Splits<T::Split>,
    saving: Saving,
) -> Result<()> {
    // Data and model are ready: a signal from here on stops at a step boundary (the earlier run is
    // cleared only after this, so a Ctrl-C before it leaves that run alone).
    interrupt::arm();
    let _lock = open_output(settings, splits.train.is_some())?;
    log::info!("outputs in {}", settings.out.display());
    let ctx = RunContext {
        settings,
        vs,
        family: saving.model_config.family,
        log: MetricsLog::new(&settings.out, settings.jsonl),
        board: settings.tensorboard.then(|| Board::open(&settings.out)).transpose()?,
    };
    let all = [splits.train, splits.dev, splits.test];
    for stats in all.into_iter().flatten().filter_map(SplitData::stats) {
        ctx.log.append(stats)?;
    }
    let mut trained = Trained::default();
    if let Some(train_split) = splits.train {
        trained = train(&ctx, task, train_split, splits.eval_during_training, saving)?;
    }
    if settings.do_eval {
        let Some(test) = splits.test else {
            bail!("do_eval is true but the config names no file to evaluate (test_file / predict_file)");
        };
        final_pass(&ctx, task, test, splits.dev, &trained)?;
    }
    ctx.finish()
}

/// Creates and locks the output folder for a run (the earlier run cleared with `overwrite_output_dir`
/// when training); the run holds the lock until it ends.
fn open_output(settings: &RunSettings, training: bool) -> Result<RunLock> {
    let lock = lock_run_folder(&settings.out)?;
    if training {
        prepare_output_dir(&settings.out, settings.resuming, settings.overwrite_output_dir)?;
    }
    Ok(lock)
}

/// What training leaves for the final pass.
#[derive(Default)]
struct Trained {
    /// The dev metrics seen during training, by step.
    dev_results: HashMap<i64, Metrics>,
    /// HF's `log_history` of the whole run (a resumed run's included).
    log_history: Vec<serde_json::Value>,
}

/// Trains on `train`, evaluating `eval_split` every `logging_steps` and saving checkpoints.
fn train<T: TaskModel>(
    ctx: &RunContext,
    task: &T,
    train: &T::Split,
    eval_split: Option<&T::Split>,
    saving: Saving,
) -> Result<Trained> {
    let settings = ctx.settings;
    let loop_cfg = &settings.loop_config;
    let lengths = train.lengths();
    let n = lengths.len();
    let bs = settings.train_batch_size;
    let plan = Plan::new(n.div_ceil(bs) as i64, loop_cfg)?;
    log::info!(
        "training: {n} examples, batch {bs}, {} epoch(s), {} optimisation steps",
        plan.epochs,
        plan.total_updates
    );
    check_output_space(&settings.out, ctx.vs, loop_cfg.save_optimizer)?;
    let resume = match saving.source {
        ModelSource::Dir(dir) => resume_point(dir)?,
        ModelSource::Scratch(_) => None,
    };
    if let Some((pos, optimizer_file)) = &resume {
        let finished = match pos.global_step >= plan.total_updates {
            true => ": the run had finished; nothing left to train, its checkpoints are evaluated again",
            false => "",
        };
        log::info!(
            "resuming at step {} of {} (epoch {}, batch {}){finished}",
            pos.global_step,
            plan.total_updates,
            pos.epoch,
            pos.next_batch
        );
        if let Some(checkpoint) = optimizer_file.parent() {
            warn_changed_settings(checkpoint, &settings.training_args);
        }
    }
    let history = match &resume {
        Some((_, optimizer_file)) => optimizer_file.parent().map(read_history).unwrap_or_default(),
        None => History::default(),
    };
    let writer = CheckpointWriter {
        out: &settings.out,
        updates_per_epoch: plan.updates_per_epoch,
        max_steps: plan.total_updates,
        training_args: &settings.training_args,
        save_optimizer: loop_cfg.save_optimizer,
        seed: loop_cfg.seed,
        model_config: saving.model_config,
        head: saving.head,
        tokenizer: saving.tokenizer,
    };
    let mut early_stopping = settings.early_stopping;
    early_stopping.without_improvement = history.early_stopping_counter.unwrap_or(0);
    let mut hooks = TrainHooks {
        ctx,
        task,
        writer,
        eval_split,
        plan,
        dev_results: HashMap::new(),
        history,
        early_stopping,
        bar: None,
    };
    let seed = loop_cfg.seed;
    let batches = |epoch| match settings.group_by_length {
        true => batches::length_grouped_batches(&lengths, bs, seed, epoch),
        false => batches::random_batches(n, bs, seed, epoch),
    };
    let loss = |idx: &[usize]| task.train_loss(train, idx);
    let resume = resume.as_ref().map(|(p, f)| (*p, f.as_path()));
    let outcome = trainer::run(ctx.vs, loop_cfg, &plan, &batches, &loss, &mut hooks, resume)?;
    if let Some(bar) = hooks.bar.take() {
        bar.finish_and_clear();
    }
    log::info!("training done: {} steps", outcome.position.global_step);
    Ok(Trained {
        dev_results: hooks.dev_results,
        log_history: hooks.history.log_history,
    })
}

/// Evaluates every checkpoint (or the last, without `eval_all_checkpoints`) on test, and on dev
/// where training did not, then writes eval_results.txt, predictions and summary.json. Without
/// checkpoints, evaluates the loaded model itself.
fn final_pass<T: TaskModel>(
    ctx: &RunContext,
    task: &T,
    test: &T::Split,
    dev: Option<&T::Split>,
    trained: &Trained,
) -> Result<()> {
    let dev_results = &trained.dev_results;
    let out = &ctx.settings.out;
    let test_name = test.name();
    let mut checkpoints = list_checkpoints(out)?;
    if checkpoints.is_empty() {
        return evaluate_loaded_model(ctx, task, test, dev);
    }
    if !ctx.settings.eval_all_checkpoints {
        let steps: Vec<i64> = checkpoints.iter().map(|(s, _)| *s).collect();
        let best = retention::best_checkpoint_step(&trained.log_history, task.selection_metric(), &steps);
        let keep = match best.filter(|_| ctx.settings.load_best_model_at_end) {
            Some(best) => {
                log::info!("load_best_model_at_end: evaluating checkpoint-{best}, the best on dev");
                steps.iter().position(|s| *s == best).unwrap_or(steps.len() - 1)
            }
            None => checkpoints.len() - 1,
        };
        checkpoints = vec![checkpoints.swap_remove(keep)];
    }
    let mut all = Metrics::new();
    let mut checkpoint_results = vec![];
    for (step, dir) in &checkpoints {
        if interrupt::requested() {
            return Err(anyhow::Error::new(interrupt::Interrupted {
                step: *step,
                checkpoint: None,
            }));
        }
        let label = step.to_string();
        weights::load_weights(ctx.vs, &weights::weights_file(dir)?, ctx.family, &[])?;
        let eval = ctx.evaluate(task, test)?;
        ctx.record(test_name, &label, None, &eval)?;
        ctx.write_predictions(test_name, &label, &eval)?;
        all.extend(summary::suffixed(&eval.metrics, &label));
        let dev_metrics = match (dev_results.get(step), dev) {
            (Some(m), _) => Some(m.clone()),
            (None, Some(dev)) => {
                let eval = ctx.evaluate(task, dev)?;
                ctx.record(dev.name(), &label, None, &eval)?;
                Some(eval.metrics)
            }
            (None, None) => None,
        };
        checkpoint_results.push(CheckpointResult {
            checkpoint: format!("checkpoint-{label}"),
            step: Some(*step),
            dev: dev_metrics.as_ref().map(results::metrics_json),
            test: Some(results::metrics_json(&eval.metrics)),
        });
    }
    results::write_eval_results(out, &all, checkpoints.len())?;
    let metric = task.selection_metric();
    summary::write_summary(&ctx.settings.run_info(), out, &checkpoint_results, metric)?;
    if let Some(best) = summary::selected(&checkpoint_results, metric) {
        let metrics: Metrics = best
            .test
            .iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
            .collect();
        print_result(test_name, &best.checkpoint, &metrics);
    }
    Ok(())
}

/// A run without checkpoints (`do_train: false`): the loaded model itself on test (and dev), with a
/// `summary.json` as a trained run's, so that `report` lists it.
fn evaluate_loaded_model<T: TaskModel>(
    ctx: &RunContext,
    task: &T,
    test: &T::Split,
    dev: Option<&T::Split>,
) -> Result<()> {
    const LOADED: &str = "the model as loaded";
    let out = &ctx.settings.out;
    let eval = ctx.evaluate(task, test)?;
    ctx.record(test.name(), "", None, &eval)?;
    ctx.write_predictions(test.name(), "", &eval)?;
    results::write_eval_results(out, &eval.metrics, 1)?;
    let dev_metrics = match dev {
        Some(dev) => {
            let dev_eval = ctx.evaluate(task, dev)?;
            ctx.record(dev.name(), "", None, &dev_eval)?;
            Some(results::metrics_json(&dev_eval.metrics))
        }
        None => None,
    };
    let result = CheckpointResult {
        checkpoint: LOADED.to_string(),
        step: None,
        dev: dev_metrics,
        test: Some(results::metrics_json(&eval.metrics)),
    };
    summary::write_summary(&ctx.settings.run_info(), out, &[result], task.selection_metric())?;
    print_result(test.name(), LOADED, &eval.metrics);
    Ok(())
}

fn print_result(split: &str, what: &str, metrics: &Metrics) {
    let shown: Vec<String> = metrics.iter().map(|(k, v)| format!("{k} = {v:.4}")).collect();
    stdout::print_line_or_warn(&format!("{split} ({what}): {}", shown.join(", ")));
}

impl RunContext<'_> {
    /// Evaluates a split under the run's autocast, at a fault boundary: out-of-memory gives advice
    /// on `eval_batch_size`, a libtorch or CUDA failure one error line.
    fn evaluate<T: TaskModel>(&self, task: &T, split: &T::Split) -> Result<Evaluation> {
        let precision = self.settings.loop_config.precision;
        let device = self.vs.device();
        let advice = || {
            format!(
                "out of memory while evaluating {}; lower eval_batch_size (e.g. --set eval_batch_size={})",
                split.name(),
                (self.settings.eval_batch_size / 2).max(1)
            )
        };
        let what = format!("evaluating {}", split.name());
        let before = crate::device::transfers();
        let mut eval = crate::device::guarded(&what, advice, || precision.autocast(device, || task.evaluate(split)))?;
        eval.device_reads = (crate::device::transfers() - before).reads;
        Ok(eval)
    }

    /// Appends the `end` event (peak resident memory) to metrics.jsonl and draws curves.svg.
    fn finish(&self) -> Result<()> {
        let end = EndEvent::now(crate::device::peak_gpu_mib(self.vs.device()));
        if let Some(mib) = end.peak_rss_mib {
            log::info!("peak memory {mib:.0} MiB");
        }
        if let Some(mib) = end.peak_gpu_mib {
            log::info!("peak GPU memory {mib:.0} MiB (allocated by tensors)");
        }
        self.log.append(&end)?;
        match self.settings.jsonl {
            true => curves::write(&self.settings.out),
            false => Ok(()),
        }
    }

    /// Writes the per-eval file, the metrics.jsonl event and the log line of one evaluation.
    /// `step` is the checkpoint's step label ("" when evaluating the loaded model itself).
    fn record(&self, split: &str, step: &str, epoch: Option<f64>, eval: &Evaluation) -> Result<()> {
        let label = Some(step).filter(|s| !s.is_empty());
        results::write_eval_file(&self.settings.out, split, label, &eval.metrics, eval.report.as_deref())?;
        self.log.append(&EvalEvent {
            event: "eval",
            step: step.parse().ok(),
            epoch,
            split,
            loss: eval.loss,
            metrics: results::metrics_json(&eval.metrics),
            samples_per_second: eval.samples_per_second,
            device_reads: eval.device_reads,
        })?;
        if let (Some(board), Ok(step)) = (&self.board, step.parse()) {
            board.eval(split, step, eval)?;
        }
        let shown: Vec<String> = eval
            .metrics
            .iter()
            .filter(|(k, _)| k != "loss")
            .map(|(k, v)| format!("{k} {v:.4}"))
            .collect();
        let at = label.map(|s| format!(" @ {s}")).unwrap_or_default();
        let loss = if eval.loss.is_nan() {
            String::new()
        } else {
            format!("loss {:.4}, ", eval.loss)
        };
        log::info!("eval {split}{at}: {loss}{}", shown.join(", "));
        Ok(())
    }

    fn write_predictions(&self, split: &str, step: &str, eval: &Evaluation) -> Result<()> {
        for file in &eval.predictions {
            let path = file.path(&self.settings.out, split, step);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            crate::io::atomic::write_file(&path, file.content.as_bytes())?;
        }
        Ok(())
    }
}

impl<T: TaskModel> TrainHooks<'_, T> {
    /// An evaluation in HF's `log_history` (`eval_*` for dev, `test_*` for test) and, on dev, the
    /// best value of the selection metric (higher is better for every task's metric).
    fn remember(&mut self, split: &str, step: i64, epoch: f64, eval: &Evaluation) {
        let prefix = if split == "dev" { "eval" } else { split };
        let mut entry = serde_json::Map::new();
        if eval.loss.is_finite() {
            entry.insert(format!("{prefix}_loss"), eval.loss.into());
        }
        for (key, value) in &eval.metrics {
            entry.insert(format!("{prefix}_{key}"), (*value).into());
        }
        entry.insert("epoch".into(), epoch.into());
        entry.insert("step".into(), step.into());
        self.history.log_history.push(entry.into());
        let metric = self.task.selection_metric();
        let value = eval.metrics.iter().find(|(k, _)| k == metric).map(|(_, v)| *v);
        if let (true, Some(value)) = (split == "dev", value) {
            self.early_stopping.observe(value, self.history.best, step, metric);
            if self.history.best.is_none_or(|(best, _)| value > best) {
                self.history.best = Some((value, step));
            }
        }
    }
}

/// HF's `EarlyStoppingCallback`: counts dev evaluations whose selection metric does not beat the
/// best so far by more than `threshold`; `patience` of them in a row stop the run.
#[derive(Debug, Clone, Copy, Default)]
pub struct EarlyStopping {
    pub patience: i64,
    pub threshold: f64,
    /// Evaluations without improvement in a row.
    pub without_improvement: i64,
    pub stop: bool,
}

impl EarlyStopping {
    fn observe(&mut self, value: f64, best: Option<(f64, i64)>, step: i64, metric: &str) {
        if self.patience <= 0 {
            return;
        }
        let improved = best.is_none_or(|(best, _)| value > best && (value - best).abs() > self.threshold);
        self.without_improvement = if improved { 0 } else { self.without_improvement + 1 };
        if self.without_improvement >= self.patience && !self.stop {
            self.stop = true;
            if let Some((best, at)) = best {
                log::info!(
                    "early stopping at step {step}: dev {metric} has not improved on {best:.4} (step {at}) by more \
                     than {} for {} evaluations (early_stopping_patience)",
                    self.threshold,
                    self.patience
                );
            }
        }
    }
}

/// The loop's callbacks for one run: log events, evaluations, checkpoints and the progress bar.
struct TrainHooks<'a, T: TaskModel> {
    ctx: &'a RunContext<'a>,
    task: &'a T,
    writer: CheckpointWriter<'a>,
    eval_split: Option<&'a T::Split>,
    plan: Plan,
    dev_results: HashMap<i64, Metrics>,
    /// HF's `log_history` and best dev metric, written into each checkpoint's trainer_state.json.
    history: History,
    early_stopping: EarlyStopping,
    bar: Option<indicatif::ProgressBar>,
}

impl<T: TaskModel> Hooks for TrainHooks<'_, T> {
    fn on_log(&mut self, event: &TrainLog) -> Result<()> {
        #[derive(Serialize)]
        struct Event<'a> {
            event: &'static str,
            #[serde(flatten)]
            log: &'a TrainLog,
        }
        self.ctx.log.append(&Event {
            event: "train",
            log: event,
        })?;
        if let Some(board) = &self.ctx.board {
            board.train(event)?;
        }
        self.history.log_history.push(serde_json::json!({
            "loss": event.loss,
            "learning_rate": event.lr,
            "grad_norm": event.grad_norm,
            "epoch": event.epoch,
            "step": event.step,
        }));
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
        let eval = self.ctx.evaluate(self.task, split)?;
        let epoch = position.global_step as f64 / self.plan.updates_per_epoch as f64;
        let name = split.name();
        let step = position.global_step.to_string();
        self.ctx.record(name, &step, Some(epoch), &eval)?;
        self.ctx.write_predictions(name, &step, &eval)?;
        self.remember(name, position.global_step, epoch, &eval);
        if name == "dev" {
            self.dev_results.insert(position.global_step, eval.metrics);
        }
        Ok(())
    }

    fn save(&mut self, position: Position, optimizer: &AdamW, resumable: bool) -> Result<PathBuf> {
        let stopping = self.early_stopping;
        self.history.early_stopping_counter = (stopping.patience > 0).then_some(stopping.without_improvement);
        let dir = self
            .writer
            .save(self.ctx.vs, position, optimizer, resumable, &self.history)?;
        let limit = self.ctx.settings.save_total_limit;
        if limit > 0 {
            let metric = self.task.selection_metric();
            let history = &self.history.log_history;
            retention::enforce(&self.ctx.settings.out, limit, |steps| {
                retention::best_checkpoint_step(history, metric, steps)
            })?;
        }
        Ok(dir)
    }

    fn should_stop(&self) -> bool {
        self.early_stopping.stop
    }

    fn on_update(&mut self, position: Position, loss: f64, lr: f64) {
        let epoch = (position.global_step - 1) / self.plan.updates_per_epoch;
        let plan = self.plan;
        let bar = self.bar.get_or_insert_with(|| epoch_bar(epoch, &plan));
        if bar.position() >= plan.updates_per_epoch as u64 {
            bar.finish_and_clear();
            *bar = epoch_bar(epoch, &plan);
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
