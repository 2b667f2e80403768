//! The training loop shared by seq-cls, ner and squad: epochs of shuffled batches, gradient
//! accumulation, global-norm clipping, AdamW with linear warmup/decay, evaluation and checkpoint
//! cadence, and resumable state. `Trainer::step` is one optimisation step, start to end.
use super::batches::splitmix64;
use super::optim::AdamW;
use super::schedule::LinearSchedule;
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tch::{nn::VarStore, Tensor};

/// The loop's settings, read from the run config.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopConfig {
    pub epochs: i64,
    pub grad_accum: i64,
    pub max_steps: i64,
    pub learning_rate: f64,
    pub warmup_proportion: f64,
    pub weight_decay: f64,
    pub adam_epsilon: f64,
    pub max_grad_norm: f64,
    pub logging_steps: i64,
    pub save_steps: i64,
    /// Whether periodic checkpoints hold the optimizer state (interrupt checkpoints always do).
    pub save_optimizer: bool,
    pub seed: u64,
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
}

/// A training-log event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainLog {
    pub step: i64,
    pub epoch: f64,
    pub loss: f64,
    pub lr: f64,
    pub samples_per_second: f64,
    /// Mean wall time per update of the forward passes, the backward passes and the optimizer
    /// (clipping + AdamW + zeroing), in milliseconds.
    pub forward_ms: f64,
    pub backward_ms: f64,
    pub optimizer_ms: f64,
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
    optimizer: AdamW,
    schedule: LinearSchedule,
    position: Position,
    /// The newest checkpoint.
    saved: Saved,
    window: LogWindow,
    losses: Vec<f64>,
}

impl<'a> Trainer<'a> {
    /// A fresh start, or the state of `resume` (its position and optimizer state file).
    fn new(vs: &VarStore, cfg: &'a LoopConfig, plan: &'a Plan, resume: Option<(Position, &Path)>) -> Result<Self> {
        let mut optimizer = AdamW::new(vs, cfg.weight_decay, cfg.adam_epsilon);
        let mut position = Position {
            global_step: 0,
            epoch: 0,
            next_batch: 0,
        };
        let mut saved = Saved::default();
        if let Some((pos, state_file)) = resume {
            let tensors = Tensor::read_safetensors(state_file)
                .with_context(|| format!("cannot read optimizer state {}", state_file.display()))?;
            optimizer.load_state(tensors, pos.global_step)?;
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
            optimizer,
            schedule: LinearSchedule::new(plan.total_updates, cfg.warmup_proportion),
            position,
            saved,
            window: LogWindow::new(),
            losses: vec![],
        })
    }

    /// One optimisation step over `micro_batches` (gradient accumulation): for each, collate,
    /// forward and loss (`batch_loss`), then backward; then clip, AdamW at the scheduled learning
    /// rate, and zero the gradients. Returns the step's loss.
    fn step(&mut self, micro_batches: &[Vec<usize>], batch_loss: &dyn Fn(&[usize]) -> Result<Tensor>) -> Result<f64> {
        let (step, accum) = (self.position.global_step + 1, self.cfg.grad_accum);
        let mut losses = Vec::with_capacity(micro_batches.len());
        for (micro, batch) in micro_batches.iter().enumerate() {
            seed_step(self.cfg.seed, self.position.global_step, micro);
            let started = Instant::now();
            let (loss, forward_done) = guard_memory(step, batch.len(), accum, || {
                let loss = batch_loss(batch)? / accum as f64;
                let forward_done = Instant::now();
                loss.backward();
                Ok((loss, forward_done))
            })?;
            self.window.forward += forward_done - started;
            self.window.backward += forward_done.elapsed();
            self.window.samples += batch.len();
            losses.push(loss.detach());
        }
        let started = Instant::now();
        let loss = update(&mut self.optimizer, self.cfg, &self.schedule, &losses)
            .map_err(|e| anyhow!("{e:#}; {}", self.saved.describe()))?;
        self.window.optimizer += started.elapsed();
        Ok(loss)
    }

    /// Counts a finished step: the position moves past `next_batch` (to the next epoch at its end).
    fn advance(&mut self, loss: f64, epoch_done: bool, next_batch: usize) {
        self.losses.push(loss);
        self.window.loss_sum += loss;
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
            self.window.since = Instant::now();
        }
        Ok(())
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

/// Runs a forward/backward pass, turning libtorch's out-of-memory panic into an error that names
/// the batch size and what to change.
fn guard_memory<T>(step: i64, batch: usize, grad_accum: i64, pass: impl FnOnce() -> Result<T>) -> Result<T> {
    match crate::error::catch_panic(pass) {
        Ok(result) => result,
        Err(message) if is_out_of_memory(&message) => bail!("{}", out_of_memory_advice(step, batch, grad_accum)),
        Err(message) => {
            log::debug!("step {step}: {message}");
            bail!("step {step}: libtorch error: {}", crate::error::first_line(&message))
        }
    }
}

/// libtorch's CUDA and CPU allocators' failure messages.
pub fn is_out_of_memory(message: &str) -> bool {
    message.contains("out of memory") || message.contains("can't allocate memory")
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

/// Clip, step at the scheduled lr, zero the grads; returns the update's loss.
fn update(optimizer: &mut AdamW, cfg: &LoopConfig, schedule: &LinearSchedule, micro: &[Tensor]) -> Result<f64> {
    let step = optimizer.steps() + 1;
    let loss = Tensor::stack(micro, 0).sum(tch::Kind::Double).double_value(&[]);
    if !loss.is_finite() {
        bail!("step {step}: training loss is {loss}; stopped before applying this update");
    }
    // Without clipping the norm is still computed: an infinite gradient must not reach the weights.
    let max_norm = if cfg.max_grad_norm > 0.0 {
        cfg.max_grad_norm
    } else {
        f64::INFINITY
    };
    let norm = optimizer.clip_grad_norm(max_norm);
    if !norm.is_finite() {
        bail!("step {step}: gradient norm is {norm} (loss {loss}); stopped before applying this update");
    }
    let lr = cfg.learning_rate * schedule.multiplier(optimizer.steps());
    optimizer.step(lr);
    optimizer.zero_grad();
    Ok(loss)
}

/// Dropout masks depend only on (seed, step, micro-batch), so a resumed run draws the same ones.
fn seed_step(seed: u64, global_step: i64, micro: usize) {
    let mixed = splitmix64(seed ^ splitmix64(global_step as u64 * 1024 + micro as u64));
    tch::manual_seed((mixed >> 1) as i64);
}

/// What happened since the last training-log event. The time split is wall time per update; on
/// CUDA (asynchronous kernels) it shows where the host waits rather than where the GPU works.
struct LogWindow {
    loss_sum: f64,
    updates: usize,
    samples: usize,
    since: Instant,
    forward: Duration,
    backward: Duration,
    optimizer: Duration,
}

impl LogWindow {
    fn new() -> Self {
        Self {
            loss_sum: 0.0,
            updates: 0,
            samples: 0,
            since: Instant::now(),
            forward: Duration::ZERO,
            backward: Duration::ZERO,
            optimizer: Duration::ZERO,
        }
    }

    fn take(&mut self, step: i64, epoch: f64, lr: f64) -> TrainLog {
        let secs = self.since.elapsed().as_secs_f64().max(1e-9);
        let per_update = |d: Duration| d.as_secs_f64() * 1e3 / self.updates.max(1) as f64;
        let log = TrainLog {
            step,
            epoch,
            loss: self.loss_sum / self.updates.max(1) as f64,
            lr,
            samples_per_second: self.samples as f64 / secs,
            forward_ms: per_update(self.forward),
            backward_ms: per_update(self.backward),
            optimizer_ms: per_update(self.optimizer),
        };
        *self = Self::new();
        log
    }
}
