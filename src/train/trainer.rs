//! The training loop shared by seq-cls, ner and squad: epochs of shuffled batches, gradient
//! accumulation, global-norm clipping, AdamW with HF's warmup/decay schedules, evaluation and checkpoint
//! cadence, and resumable state. `Trainer::step` is one optimisation step, start to end.
use super::batches::splitmix64;
use super::optim::AdamW;
use super::schedule::{warmup_steps, Schedule, ScheduleKind};
use crate::device::amp::Precision;
use crate::device::{read_f64, transfers, Transfers};
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tch::{nn::VarStore, Device, Kind, Tensor};

/// The loop's settings, read from the run config.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopConfig {
    pub epochs: i64,
    pub grad_accum: i64,
    pub max_steps: i64,
    pub learning_rate: f64,
    pub warmup_proportion: f64,
    /// Warmup updates; when positive it wins over `warmup_proportion` (HF's `warmup_steps`).
    pub warmup_steps: i64,
    /// The learning-rate schedule (`lr_scheduler_type`).
    pub lr_scheduler_type: ScheduleKind,
    pub weight_decay: f64,
    pub adam_epsilon: f64,
    pub max_grad_norm: f64,
    pub logging_steps: i64,
    pub save_steps: i64,
    /// Whether periodic checkpoints hold the optimizer state (interrupt checkpoints always do).
    pub save_optimizer: bool,
    pub seed: u64,
    /// Autocast of forward and loss (fp16 adds loss scaling).
    pub precision: Precision,
    /// `torch_empty_cache_steps` (0: never).
    pub empty_cache_steps: i64,
}

impl LoopConfig {
    /// Whether the update after `global_step` done ones empties the CUDA cache: HF's
    /// `global_step % torch_empty_cache_steps == 0`, so the first update does.
    pub fn empties_cache(&self, global_step: i64) -> bool {
        self.empty_cache_steps > 0 && global_step % self.empty_cache_steps == 0
    }
}

/// Step budget: optimizer updates per epoch, epochs to run and total updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub batches_per_epoch: i64,
    pub updates_per_epoch: i64,
    pub epochs: i64,
    pub total_updates: i64,
}

impl Plan {
    /// An epoch's micro-batches end in an update every `grad_accum` batches and at the epoch's last
    /// batch (so no gradient leaks into the next epoch). `max_steps > 0` overrides the epochs, as in
    /// the reference, but runs exactly `max_steps` updates (the reference ran one extra at lr 0).
    pub fn new(batches_per_epoch: i64, cfg: &LoopConfig) -> Result<Self> {
        if batches_per_epoch <= 0 {
            bail!("the training set is empty");
        }
        let updates_per_epoch = (batches_per_epoch + cfg.grad_accum - 1) / cfg.grad_accum;
        let (epochs, total_updates) = if cfg.max_steps > 0 {
            (cfg.max_steps / updates_per_epoch + 1, cfg.max_steps)
        } else {
            (cfg.epochs, updates_per_epoch * cfg.epochs)
        };
        Ok(Self {
            batches_per_epoch,
            updates_per_epoch,
            epochs,
            total_updates,
        })
    }
}

/// Where a run stands after an update; saved with `save_optimizer` so a run can continue exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub global_step: i64,
    pub epoch: i64,
    /// Index of the next micro-batch within `epoch`.
    pub next_batch: i64,
}

/// What the loop asks of the task around it.
pub trait Hooks {
    /// Called every `logging_steps` updates with the mean training loss since the last call.
    fn on_log(&mut self, event: &TrainLog) -> Result<()>;
    /// Called every `logging_steps` updates: evaluate the current weights.
    fn evaluate(&mut self, position: Position) -> Result<()>;
    /// Called every `save_steps` updates, once at the end, and on an interrupt (`resumable`: with
    /// the optimizer state whatever `save_optimizer` says): writes `checkpoint-<step>`, returns it.
    fn save(&mut self, position: Position, optimizer: &AdamW, resumable: bool) -> Result<PathBuf>;
    /// Called after every update (progress display).
    fn on_update(&mut self, _position: Position, _loss: f64, _lr: f64) {}
    /// Asked after every update's evaluation and save: end training now (early stopping); the
    /// loop then saves its final checkpoint as at the natural end.
    fn should_stop(&self) -> bool {
        false
    }
}

/// A training-log event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainLog {
    pub step: i64,
    pub epoch: f64,
    pub loss: f64,
    pub lr: f64,
    /// The gradient norm of the window's last update, before clipping (HF's `grad_norm`).
    pub grad_norm: f64,
    pub samples_per_second: f64,
    /// Mean wall time per update of the forward passes, the backward passes and the optimizer
    /// (clipping + AdamW + zeroing), in milliseconds.
    pub forward_ms: f64,
    pub backward_ms: f64,
    pub optimizer_ms: f64,
    /// Blocking device→host reads per update and host→device batch copies per micro-batch in this
    /// window (1 and 1: see `device::transfers`).
    pub device_reads_per_update: f64,
    pub uploads_per_micro_batch: f64,
    /// Operators libtorch dispatched per update (forward, backward, optimizer; nested ones
    /// included), only when the environment sets `KOELECTRA_FT_COUNT_OPS` (counting costs time):
    /// the host's work per update, which on a GPU sets the pace of small batches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatched_ops_per_update: Option<f64>,
}

/// Set (to anything) in the environment, training logs report `dispatched_ops_per_update`.
pub const COUNT_OPS_ENV: &str = "KOELECTRA_FT_COUNT_OPS";

/// Whether this process counts dispatched operators; starts the count on the first call.
fn counting_ops() -> bool {
    static COUNTING: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *COUNTING.get_or_init(|| {
        std::env::var_os(COUNT_OPS_ENV).is_some()
            && crate::device::shim::op_count_start()
                .map_err(|e| log::warn!("{COUNT_OPS_ENV}: {e:#}"))
                .is_ok()
    })
}

/// Operators dispatched so far, when counting.
fn dispatched_ops() -> Option<i64> {
    counting_ops().then(|| crate::device::shim::op_count().ok()).flatten()
}

/// Result of a finished loop.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub position: Position,
    /// Mean loss of every update (after accumulation), in order.
    pub losses: Vec<f64>,
}

/// Runs the loop. `epoch_batches(epoch)` gives that epoch's micro-batches (indices into the
/// training set); `batch_loss` computes the mean loss of one micro-batch in train mode.
pub fn run(
    vs: &VarStore,
    cfg: &LoopConfig,
    plan: &Plan,
    epoch_batches: &dyn Fn(i64) -> Vec<Vec<usize>>,
    batch_loss: &dyn Fn(&[usize]) -> Result<Tensor>,
    hooks: &mut dyn Hooks,
    resume: Option<(Position, &Path)>,
) -> Result<Outcome> {
    let mut trainer = Trainer::new(vs, cfg, plan, resume)?;
    let accum = cfg.grad_accum.max(1) as usize;
    'epochs: while trainer.position.epoch < plan.epochs && trainer.position.global_step < plan.total_updates {
        let batches = epoch_batches(trainer.position.epoch);
        if batches.is_empty() {
            bail!("epoch {} has no batches", trainer.position.epoch);
        }
        let start = trainer.position.next_batch as usize;
        let Some(rest) = batches.get(start..).filter(|rest| !rest.is_empty()) else {
            bail!(
                "cannot resume at batch {start} of epoch {}: the epoch has {} batches (did the training data change?)",
                trainer.position.epoch,
                batches.len()
            );
        };
        let mut next_batch = start;
        // An update every `grad_accum` micro-batches, and one at the epoch's end for the rest.
        for micro_batches in rest.chunks(accum) {
            let loss = trainer.step(micro_batches, batch_loss)?;
            next_batch += micro_batches.len();
            trainer.advance(loss, next_batch == batches.len(), next_batch);
            let position = trainer.position;
            let lr = cfg.learning_rate * trainer.schedule.multiplier(position.global_step);
            hooks.on_update(position, loss, lr);
            trainer.at_update(hooks, lr)?;
            if crate::train::interrupt::requested() {
                return Err(interrupted(position, &trainer.optimizer, hooks, &trainer.saved)?);
            }
            if hooks.should_stop() {
                break 'epochs;
            }
            if position.global_step >= plan.total_updates {
                break 'epochs;
            }
        }
    }
    let position = trainer.position;
    if trainer.saved.step != position.global_step && position.global_step > 0 {
        hooks.save(position, &trainer.optimizer, false)?;
    }
    Ok(Outcome {
        position,
        losses: trainer.losses,
    })
}

/// The loop's state between steps.
struct Trainer<'a> {
    cfg: &'a LoopConfig,
    plan: &'a Plan,
    device: Device,
    optimizer: AdamW,
    schedule: Schedule,
    position: Position,
    /// The newest checkpoint.
    saved: Saved,
    window: LogWindow,
    losses: Vec<f64>,
}

impl<'a> Trainer<'a> {
    /// A fresh start, or the state of `resume` (its position and optimizer state file).
    fn new(vs: &VarStore, cfg: &'a LoopConfig, plan: &'a Plan, resume: Option<(Position, &Path)>) -> Result<Self> {
        let advice = || {
            "out of memory while creating the optimizer: the weights, gradients and AdamW's two moments \
             (4 copies of the parameters) do not fit on this device; use a smaller model or another device"
                .to_string()
        };
        let mut optimizer = crate::device::guarded("creating the optimizer", advice, || {
            AdamW::new(vs, cfg.weight_decay, cfg.adam_epsilon)
        })?;
        if cfg.precision == Precision::Fp16 {
            optimizer = optimizer.with_loss_scaling()?;
        }
        log_empty_cache(cfg.empty_cache_steps, vs.device());
        let mut position = Position {
            global_step: 0,
            epoch: 0,
            next_batch: 0,
        };
        let mut saved = Saved::default();
        if let Some((pos, state_file)) = resume {
            let tensors: HashMap<String, Tensor> = Tensor::read_safetensors(state_file)
                .with_context(|| format!("cannot read optimizer state {}", state_file.display()))?
                .into_iter()
                .collect();
            optimizer
                .load_state(&tensors, pos.global_step)
                .with_context(|| format!("cannot restore optimizer state {}", state_file.display()))?;
            position = pos;
            saved = Saved {
                step: pos.global_step,
                dir: state_file.parent().map(Path::to_path_buf),
                resumable: true,
            };
        }
        Ok(Self {
            cfg,
            plan,
            device: vs.device(),
            optimizer,
            schedule: Schedule::with(
                cfg.lr_scheduler_type,
                plan.total_updates,
                warmup_steps(plan.total_updates, cfg.warmup_steps, cfg.warmup_proportion),
                cfg.learning_rate,
            ),
            position,
            saved,
            window: LogWindow::new(),
            losses: vec![],
        })
    }

    /// One optimisation step over `micro_batches` (gradient accumulation): for each, collate,
    /// forward and loss (`batch_loss`, under autocast with bf16/fp16), then backward (of the scaled
    /// loss with fp16); then clip, AdamW at the scheduled learning rate, and zero the gradients.
    /// Returns the step's loss.
    fn step(&mut self, micro_batches: &[Vec<usize>], batch_loss: &dyn Fn(&[usize]) -> Result<Tensor>) -> Result<f64> {
        let (step, accum) = (self.position.global_step + 1, self.cfg.grad_accum);
        let (precision, device) = (self.cfg.precision, self.device);
        let mut losses = Vec::with_capacity(micro_batches.len());
        let empty_cache = self.cfg.empties_cache(self.position.global_step);
        for (micro, batch) in micro_batches.iter().enumerate() {
            seed_step(self.cfg.seed, self.position.global_step, micro);
            let started = Instant::now();
            let optimizer = &self.optimizer;
            let (loss, forward_done) = guard_memory(step, batch.len(), accum, || {
                let loss = precision
                    .autocast(device, || batch_loss(batch))?
                    .f_div_scalar(accum as f64)?;
                let forward_done = Instant::now();
                if empty_cache {
                    // Where HF's training_step does it: after the forward, before the backward.
                    crate::device::empty_cache(device)?;
                }
                optimizer.scale_loss(&loss)?.f_backward()?;
                Ok((loss, forward_done))
            })?;
            self.window.forward += forward_done - started;
            self.window.backward += forward_done.elapsed();
            self.window.samples += batch.len();
            self.window.micro_batches += 1;
            losses.push(loss.detach());
        }
        let started = Instant::now();
        let loss = guard_memory(step, micro_batches[0].len(), accum, || self.update(step, &losses))
            .map_err(|e| anyhow!("{e:#}; {}", self.saved.describe()))?;
        self.window.optimizer += started.elapsed();
        Ok(loss)
    }

    /// Unscale (fp16), clip, step at the scheduled lr, zero the grads; returns the update's loss.
    /// All of it is queued on the device; the one read of the update comes last and brings back
    /// loss, gradient norm, the non-finite flag and the loss scale together. A non-finite update is
    /// never applied: the fused kernels skip it on the device. With fp16 that is the loss scaler's
    /// normal business (logged, the scale backs off); otherwise the run stops.
    fn update(&mut self, step: i64, micro: &[Tensor]) -> Result<f64> {
        let optimizer = &mut self.optimizer;
        let loss = Tensor::f_stack(micro, 0)?.f_sum(Kind::Double)?;
        let scaled_found_inf = optimizer.unscale_grads()?;
        // Without clipping the norm is still computed: an infinite gradient must not reach the weights.
        let max_norm = if self.cfg.max_grad_norm > 0.0 {
            self.cfg.max_grad_norm
        } else {
            f64::INFINITY
        };
        let norm = optimizer.clip_grad_norm(max_norm)?;
        let found_inf = match scaled_found_inf {
            Some(flag) => flag,
            None => non_finite_flag(&loss, &norm)?,
        };
        let lr = self.cfg.learning_rate * self.schedule.multiplier(optimizer.steps());
        optimizer.step(lr, Some(&found_inf))?;
        optimizer.update_scale()?;
        optimizer.zero_grad()?;
        let mut parts = vec![&loss, &norm, &found_inf];
        parts.extend(optimizer.scaler().map(|scaler| scaler.scale()));
        let parts = parts.into_iter().map(|t| t.f_to_kind(Kind::Double)?.f_reshape([1]));
        let parts: Vec<Tensor> = parts.collect::<Result<_, _>>()?;
        let values = read_f64(&Tensor::f_cat(&parts, 0)?)?;
        let [loss, norm, skipped, ..] = values[..] else {
            bail!("step {step}: expected at least 3 values from the device");
        };
        let scale = values.get(3).copied().unwrap_or(1.0);
        self.window.grad_norm = norm;
        if skipped == 0.0 {
            return Ok(loss);
        }
        optimizer.skipped();
        if self.cfg.precision != Precision::Fp16 {
            if !loss.is_finite() {
                bail!("step {step}: training loss is {loss}; stopped before applying this update");
            }
            bail!("step {step}: gradient norm is {norm} (loss {loss}); stopped before applying this update");
        }
        log::warn!("step {step}: gradients not finite in fp16; update skipped, loss scale lowered to {scale}");
        if scale < MIN_LOSS_SCALE {
            bail!(
                "step {step}: the fp16 loss scale fell to {scale}: the gradients are not finite whatever the \
                 scale (the run diverged); try bf16 or fp32, or a lower learning_rate"
            );
        }
        Ok(loss)
    }

    /// Counts a finished step: the position moves past `next_batch` (to the next epoch at its end).
    fn advance(&mut self, loss: f64, epoch_done: bool, next_batch: usize) {
        self.losses.push(loss);
        // As HF's logging_nan_inf_filter: a non-finite loss (an fp16 update skipped for overflow)
        // is left out of the logged mean.
        if loss.is_finite() {
            self.window.loss_sum += loss;
            self.window.finite_losses += 1;
        }
        self.window.updates += 1;
        let global_step = self.position.global_step + 1;
        self.position = match epoch_done {
            true => Position {
                global_step,
                epoch: self.position.epoch + 1,
                next_batch: 0,
            },
            false => Position {
                global_step,
                next_batch: next_batch as i64,
                ..self.position
            },
        };
    }

    /// The logging, evaluation and checkpoint cadence after a step.
    fn at_update(&mut self, hooks: &mut dyn Hooks, lr: f64) -> Result<()> {
        let (cfg, position) = (self.cfg, self.position);
        let step = position.global_step;
        let log_now = cfg.logging_steps > 0 && step % cfg.logging_steps == 0;
        let save_now = cfg.save_steps > 0 && step % cfg.save_steps == 0;
        if log_now {
            let epoch = step as f64 / self.plan.updates_per_epoch as f64;
            hooks.on_log(&self.window.take(step, epoch, lr))?;
            hooks.evaluate(position)?;
        }
        if save_now {
            self.saved = Saved {
                step,
                dir: Some(hooks.save(position, &self.optimizer, false)?),
                resumable: cfg.save_optimizer,
            };
        }
        if log_now || save_now {
            // Evaluation and saving are not training time.
            self.window.restart();
        }
        Ok(())
    }
}

/// Says once what `torch_empty_cache_steps` does on this device.
fn log_empty_cache(every: i64, device: Device) {
    match (every, device) {
        (0, _) => {}
        (_, Device::Cuda(_)) => log::info!("emptying the CUDA cache every {every} updates (torch_empty_cache_steps)"),
        _ => log::info!("torch_empty_cache_steps: the CPU allocator keeps no cache; nothing to empty"),
    }
}

/// The newest checkpoint of this run, for error messages and interrupts.
#[derive(Debug, Default)]
struct Saved {
    step: i64,
    dir: Option<PathBuf>,
    /// Whether it holds the optimizer state and loop position.
    resumable: bool,
}

impl Saved {
    fn describe(&self) -> String {
        match &self.dir {
            Some(dir) => format!("last good checkpoint: {}", dir.display()),
            None => "no checkpoint saved yet".to_string(),
        }
    }
}

/// After an interrupt: makes sure a resumable checkpoint of `position` exists, and says where.
fn interrupted(position: Position, optimizer: &AdamW, hooks: &mut dyn Hooks, saved: &Saved) -> Result<anyhow::Error> {
    let dir = match (&saved.dir, saved.step == position.global_step && saved.resumable) {
        (Some(dir), true) => dir.clone(),
        _ => hooks.save(position, optimizer, true)?,
    };
    Ok(anyhow::Error::new(crate::train::interrupt::Interrupted {
        step: position.global_step,
        checkpoint: Some(dir),
    }))
}

/// Runs a forward/backward pass or an update, turning libtorch's failures into one error line and
/// out-of-memory into advice that names the batch size and what to change.
fn guard_memory<T>(step: i64, batch: usize, grad_accum: i64, pass: impl FnOnce() -> Result<T>) -> Result<T> {
    let advice = || out_of_memory_advice(step, batch, grad_accum);
    crate::device::guarded(&format!("step {step}"), advice, pass)
}

/// What to do when a batch does not fit: halve the batch, double the accumulation.
pub fn out_of_memory_advice(step: i64, batch: usize, grad_accum: i64) -> String {
    let (half, double) = ((batch / 2).max(1), grad_accum * 2);
    format!(
        "out of memory at step {step} with train_batch_size {batch}; lower train_batch_size and raise \
         gradient_accumulation_steps to keep the effective batch (e.g. --set train_batch_size={half} \
         --set gradient_accumulation_steps={double})"
    )
}

/// 1.0 (float, on the device) when the loss or the gradient norm is not finite.
fn non_finite_flag(loss: &Tensor, norm: &Tensor) -> Result<Tensor> {
    let finite = loss.f_isfinite()?.f_logical_and(&norm.f_isfinite()?)?;
    Ok(finite.f_logical_not()?.f_to_kind(Kind::Float)?.f_reshape([1])?)
}

/// Below this fp16 loss scale (2^-24, 40 halvings from 2^16) every update has been skipped for a
/// long time: the run stops instead of skipping for ever.
const MIN_LOSS_SCALE: f64 = 1.0 / 16_777_216.0;

/// Dropout masks depend only on (seed, step, micro-batch), so a resumed run draws the same ones.
fn seed_step(seed: u64, global_step: i64, micro: usize) {
    let mixed = splitmix64(seed ^ splitmix64(global_step as u64 * 1024 + micro as u64));
    tch::manual_seed((mixed >> 1) as i64);
}

/// What happened since the last training-log event. The time split is wall time per update; on
/// CUDA (asynchronous kernels) it shows where the host waits rather than where the GPU works.
struct LogWindow {
    loss_sum: f64,
    finite_losses: usize,
    updates: usize,
    grad_norm: f64,
    micro_batches: usize,
    samples: usize,
    since: Instant,
    transfers: Transfers,
    ops: Option<i64>,
    forward: Duration,
    backward: Duration,
    optimizer: Duration,
}

impl LogWindow {
    fn new() -> Self {
        Self {
            loss_sum: 0.0,
            finite_losses: 0,
            updates: 0,
            grad_norm: f64::NAN,
            micro_batches: 0,
            samples: 0,
            since: Instant::now(),
            transfers: transfers(),
            ops: dispatched_ops(),
            forward: Duration::ZERO,
            backward: Duration::ZERO,
            optimizer: Duration::ZERO,
        }
    }

    /// Evaluation and saving are not training: the clock and the transfer counts start again.
    fn restart(&mut self) {
        self.since = Instant::now();
        self.transfers = transfers();
        self.ops = dispatched_ops();
    }

    fn take(&mut self, step: i64, epoch: f64, lr: f64) -> TrainLog {
        let secs = self.since.elapsed().as_secs_f64().max(1e-9);
        let per_update = |d: Duration| d.as_secs_f64() * 1e3 / self.updates.max(1) as f64;
        let moved = transfers() - self.transfers;
        let log = TrainLog {
            step,
            epoch,
            loss: self.loss_sum / self.finite_losses.max(1) as f64,
            lr,
            grad_norm: self.grad_norm,
            samples_per_second: self.samples as f64 / secs,
            forward_ms: per_update(self.forward),
            backward_ms: per_update(self.backward),
            optimizer_ms: per_update(self.optimizer),
            device_reads_per_update: moved.reads as f64 / self.updates.max(1) as f64,
            uploads_per_micro_batch: moved.uploads as f64 / self.micro_batches.max(1) as f64,
            dispatched_ops_per_update: self
                .ops
                .zip(dispatched_ops())
                .map(|(then, now)| (now - then) as f64 / self.updates.max(1) as f64),
        };
        *self = Self::new();
        log
    }
}
