//! The task-independent half of `seq-cls` and `ner` runs: training with evaluation and checkpoint
//! cadence, the final pass over checkpoints, and the result files.
use super::{list_checkpoints, resume_point, suffixed, write_summary, CheckpointResult, CheckpointWriter};
use super::{selected, ModelSource};
use crate::checkpoint::{self, HeadInfo};
use crate::config::Config;
use crate::model::electra::ElectraConfig;
use crate::optim::AdamW;
use crate::output::{self, EvalEvent, Metrics, MetricsLog};
use crate::progress;
use crate::tokenizer::ElectraTokenizer;
use crate::train::{self, Hooks, LoopConfig, Plan, Position, TrainLog};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::{nn::VarStore, Tensor};

/// A finished evaluation of one split.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Mean of the per-batch mean losses.
    pub loss: f64,
    pub metrics: Metrics,
    /// Text appended to the per-eval file after a blank line (NER: the per-type report).
    pub report: Option<String>,
    /// Prediction files to write next to the result files.
    pub predictions: Vec<PredictionFile>,
    pub samples_per_second: f64,
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

/// The `features` event of metrics.jsonl: how a split's features were built.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureStats {
    pub event: &'static str,
    pub split: &'static str,
    pub rows: usize,
    pub seconds: f64,
    pub rows_per_second: f64,
    pub cached: bool,
}

impl FeatureStats {
    pub fn new(split: &'static str, rows: usize, took: std::time::Duration, cached: bool) -> Self {
        let seconds = took.as_secs_f64();
        Self {
            event: "features",
            split,
            rows,
            seconds,
            rows_per_second: rows as f64 / seconds.max(1e-9),
            cached,
        }
    }

    /// For the log line: `12000 rows/s` or `from cache`.
    pub fn describe(&self) -> String {
        match self.cached {
            true => format!("features from cache in {:.2}s", self.seconds),
            false => format!("encoded at {:.0} rows/s", self.rows_per_second),
        }
    }
}

/// What a task contributes to a run.
pub trait TaskRun {
    type Split;
    /// `"dev"` or `"test"`.
    fn split_name(split: &Self::Split) -> &'static str;
    /// Token count of every example of a split (for length-grouped batches).
    fn lengths(split: &Self::Split) -> Vec<usize>;
    /// Evaluates the current weights on a split.
    fn evaluate(&self, split: &Self::Split) -> Result<Evaluation>;
    /// Mean loss of training examples `indices`, in train mode.
    fn train_loss(&self, split: &Self::Split, indices: &[usize]) -> Result<Tensor>;
    /// The dev metric that selects the reported checkpoint.
    fn selection_metric(&self) -> &'static str;
}

/// Run-wide context: config, weights, output folder, event log.
pub struct RunContext<'a> {
    pub cfg: &'a Config,
    pub vs: &'a VarStore,
    pub out: PathBuf,
    pub log: MetricsLog,
}

impl RunContext<'_> {
    /// Appends the `end` event (peak resident memory) to metrics.jsonl and draws curves.svg.
    pub fn finish(&self) -> Result<()> {
        #[derive(Serialize)]
        struct End {
            event: &'static str,
            peak_rss_mib: Option<f64>,
        }
        let peak = peak_rss_mib();
        if let Some(mib) = peak {
            log::info!("peak memory {mib:.0} MiB");
        }
        self.log.append(&End {
            event: "end",
            peak_rss_mib: peak,
        })?;
        crate::curves::write(&self.out)
    }

    /// Writes the per-eval file, the metrics.jsonl event and the log line of one evaluation.
    /// `step` is the checkpoint's step label ("" when evaluating the loaded model itself).
    pub fn record(&self, split: &str, step: &str, epoch: Option<f64>, eval: &Evaluation) -> Result<()> {
        let label = Some(step).filter(|s| !s.is_empty());
        output::write_eval_file(&self.out, split, label, &eval.metrics, eval.report.as_deref())?;
        self.log.append(&EvalEvent {
            event: "eval",
            step: step.parse().ok(),
            epoch,
            split,
            loss: eval.loss,
            metrics: output::metrics_json(&eval.metrics),
            samples_per_second: eval.samples_per_second,
        })?;
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
            let path = file.path(&self.out, split, step);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            crate::atomic::write_file(&path, file.content.as_bytes())?;
        }
        Ok(())
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

/// What a checkpoint holds besides the weights, and where the weights came from (for resuming).
pub struct Saving<'a> {
    pub source: &'a ModelSource,
    pub model_config: &'a ElectraConfig,
    pub head: HeadInfo,
    pub tokenizer: &'a ElectraTokenizer,
}

/// A whole run once the data and model are ready: the output folder, the feature events, training
/// (when there is a train split), the final pass (with `do_eval`) and the end event.
pub fn execute<T: TaskRun>(
    cfg: &Config,
    vs: &VarStore,
    task: &T,
    splits: Splits<T::Split>,
    stats: &[&FeatureStats],
    saving: Saving,
) -> Result<()> {
    let out = open_output(cfg, splits.train.is_some())?;
    log::info!("outputs in {}", out.display());
    let ctx = RunContext {
        cfg,
        vs,
        log: MetricsLog::new(&out),
        out,
    };
    for event in stats {
        ctx.log.append(event)?;
    }
    let mut dev_results = HashMap::new();
    if let Some(train_split) = splits.train {
        let writer = CheckpointWriter {
            out: &ctx.out,
            cfg,
            model_config: saving.model_config,
            head: saving.head,
            tokenizer: saving.tokenizer,
        };
        dev_results = train(
            &ctx,
            task,
            train_split,
            splits.eval_during_training,
            saving.source,
            writer,
        )?;
    }
    if cfg.do_eval {
        let Some(test) = splits.test else {
            bail!("do_eval is true but the config names no file to evaluate (test_file / predict_file)");
        };
        final_pass(&ctx, task, test, splits.dev, &dev_results)?;
    }
    ctx.finish()
}

/// Trains on `train`, evaluating `eval_split` every `logging_steps` and saving checkpoints.
/// Returns the dev metrics seen during training, by step.
pub fn train<T: TaskRun>(
    ctx: &RunContext,
    task: &T,
    train: &T::Split,
    eval_split: Option<&T::Split>,
    source: &ModelSource,
    writer: CheckpointWriter,
) -> Result<HashMap<i64, Metrics>> {
    let cfg = ctx.cfg;
    let loop_cfg = loop_config(cfg);
    let lengths = T::lengths(train);
    let n = lengths.len();
    let plan = Plan::new(n.div_ceil(cfg.train_batch_size) as i64, &loop_cfg)?;
    log::info!(
        "training: {n} examples, batch {}, {} epoch(s), {} optimisation steps",
        cfg.train_batch_size,
        plan.epochs,
        plan.total_updates
    );
    super::check_output_space(&ctx.out, ctx.vs, cfg)?;
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
    let mut hooks = TrainHooks {
        ctx,
        task,
        writer,
        eval_split,
        plan,
        dev_results: HashMap::new(),
        bar: None,
    };
    let (bs, seed) = (cfg.train_batch_size, cfg.seed);
    let batches = |epoch| match cfg.group_by_length {
        true => train::length_grouped_batches(&lengths, bs, seed, epoch),
        false => train::random_batches(n, bs, seed, epoch),
    };
    let loss = |idx: &[usize]| task.train_loss(train, idx);
    let resume = resume.as_ref().map(|(p, f)| (*p, f.as_path()));
    let outcome = train::run(ctx.vs, &loop_cfg, &plan, &batches, &loss, &mut hooks, resume)?;
    if let Some(bar) = hooks.bar.take() {
        bar.finish_and_clear();
    }
    log::info!("training done: {} steps", outcome.position.global_step);
    Ok(hooks.dev_results)
}

/// Evaluates every checkpoint (or the last, without `eval_all_checkpoints`) on test, and on dev
/// where training did not, then writes eval_results.txt, predictions and summary.json. Without
/// checkpoints, evaluates the loaded model itself.
pub fn final_pass<T: TaskRun>(
    ctx: &RunContext,
    task: &T,
    test: &T::Split,
    dev: Option<&T::Split>,
    dev_results: &HashMap<i64, Metrics>,
) -> Result<()> {
    let test_name = T::split_name(test);
    let mut checkpoints = list_checkpoints(&ctx.out)?;
    if checkpoints.is_empty() {
        let eval = task.evaluate(test)?;
        ctx.record(test_name, "", None, &eval)?;
        ctx.write_predictions(test_name, "", &eval)?;
        output::write_eval_results(&ctx.out, &eval.metrics, 1)?;
        print_result(test_name, "the model as loaded", &eval.metrics);
        return Ok(());
    }
    if !ctx.cfg.eval_all_checkpoints {
        checkpoints = checkpoints.split_off(checkpoints.len() - 1);
    }
    let mut all = Metrics::new();
    let mut results = vec![];
    for (step, dir) in &checkpoints {
        if crate::interrupt::requested() {
            return Err(anyhow::Error::new(crate::interrupt::Interrupted {
                step: *step,
                checkpoint: None,
            }));
        }
        let label = step.to_string();
        checkpoint::load_weights(ctx.vs, &checkpoint::weights_file(dir)?, &[])?;
        let eval = task.evaluate(test)?;
        ctx.record(test_name, &label, None, &eval)?;
        ctx.write_predictions(test_name, &label, &eval)?;
        all.extend(suffixed(&eval.metrics, &label));
        let dev_metrics = match (dev_results.get(step), dev) {
            (Some(m), _) => Some(m.clone()),
            (None, Some(dev)) => {
                let eval = task.evaluate(dev)?;
                ctx.record(T::split_name(dev), &label, None, &eval)?;
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
    output::write_eval_results(&ctx.out, &all, checkpoints.len())?;
    write_summary(ctx.cfg, &ctx.out, &results, task.selection_metric())?;
    if let Some(best) = selected(&results, task.selection_metric()) {
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

fn print_result(split: &str, what: &str, metrics: &Metrics) {
    let shown: Vec<String> = metrics.iter().map(|(k, v)| format!("{k} = {v:.4}")).collect();
    println!("{split} ({what}): {}", shown.join(", "));
}

struct TrainHooks<'a, T: TaskRun> {
    ctx: &'a RunContext<'a>,
    task: &'a T,
    writer: CheckpointWriter<'a>,
    eval_split: Option<&'a T::Split>,
    plan: Plan,
    dev_results: HashMap<i64, Metrics>,
    bar: Option<indicatif::ProgressBar>,
}

impl<T: TaskRun> Hooks for TrainHooks<'_, T> {
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
        let eval = self.task.evaluate(split)?;
        let epoch = position.global_step as f64 / self.plan.updates_per_epoch as f64;
        let name = T::split_name(split);
        let step = position.global_step.to_string();
        self.ctx.record(name, &step, Some(epoch), &eval)?;
        self.ctx.write_predictions(name, &step, &eval)?;
        if name == "dev" {
            self.dev_results.insert(position.global_step, eval.metrics);
        }
        Ok(())
    }

    fn save(&mut self, position: Position, optimizer: &AdamW, resumable: bool) -> Result<PathBuf> {
        self.writer.save(self.ctx.vs, position, optimizer, resumable)
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
        save_optimizer: cfg.save_optimizer,
        seed: cfg.seed,
    }
}

/// Where evaluation during training runs: test when `evaluate_test_during_training` or no dev.
pub fn eval_split_during_training<'s, S>(cfg: &Config, dev: Option<&'s S>, test: Option<&'s S>) -> Option<&'s S> {
    if cfg.evaluate_test_during_training || dev.is_none() {
        test
    } else {
        dev
    }
}

/// Creates the output folder for a run (cleared with `overwrite_output_dir` when training).
pub fn open_output(cfg: &Config, training: bool) -> Result<PathBuf> {
    let out = cfg.output_path();
    if training {
        super::prepare_output_dir(cfg, &out)?;
    } else {
        std::fs::create_dir_all(&out)?;
    }
    Ok(out)
}

/// Peak resident set size of this process (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
