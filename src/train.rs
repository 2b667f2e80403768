//! The training loop shared by seq-cls, ner and squad: epochs of shuffled batches, gradient
//! accumulation, global-norm clipping, AdamW with linear warmup/decay, evaluation and checkpoint
//! cadence, and resumable state.
use crate::optim::{AdamW, LinearSchedule};
use anyhow::{bail, Context, Result};
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
    let schedule = LinearSchedule::new(plan.total_updates, cfg.warmup_proportion);
    let mut losses = vec![];
    let mut window = LogWindow::new();
    'epochs: while position.epoch < plan.epochs && position.global_step < plan.total_updates {
        let batches = epoch_batches(position.epoch);
        if batches.is_empty() {
            bail!("epoch {} has no batches", position.epoch);
        }
        let mut micro = vec![];
        for (i, batch) in batches.iter().enumerate().skip(position.next_batch as usize) {
            seed_step(cfg.seed, position.global_step, micro.len());
            let started = Instant::now();
            let step = position.global_step + 1;
            let (loss, forward_done) = guard_memory(step, batch.len(), cfg.grad_accum, || {
                let loss = batch_loss(batch)? / cfg.grad_accum as f64;
                let forward_done = Instant::now();
                loss.backward();
                Ok((loss, forward_done))
            })?;
            window.forward += forward_done - started;
            window.backward += forward_done.elapsed();
            micro.push(loss.detach());
            window.samples += batch.len();
            let last = i + 1 == batches.len();
            if micro.len() as i64 == cfg.grad_accum || last {
                let started = Instant::now();
                let loss = update(&mut optimizer, cfg, &schedule, &micro)
                    .map_err(|e| anyhow::anyhow!("{e:#}; {}", saved.describe()))?;
                window.optimizer += started.elapsed();
                micro.clear();
                losses.push(loss);
                window.loss_sum += loss;
                window.updates += 1;
                position = Position {
                    global_step: position.global_step + 1,
                    ..position
                };
                position.next_batch = i as i64 + 1;
                if last {
                    position = Position {
                        epoch: position.epoch + 1,
                        next_batch: 0,
                        ..position
                    };
                }
                let lr = cfg.learning_rate * schedule.multiplier(position.global_step);
                hooks.on_update(position, loss, lr);
                at_update(cfg, plan, position, &optimizer, &mut window, hooks, &mut saved, lr)?;
                if crate::interrupt::requested() {
                    return Err(interrupted(position, &optimizer, hooks, &saved)?);
                }
                if position.global_step >= plan.total_updates {
                    break 'epochs;
                }
            }
        }
        if !micro.is_empty() {
            bail!("internal: epoch ended with {} unapplied micro-batches", micro.len());
        }
    }
    if saved.step != position.global_step && position.global_step > 0 {
        hooks.save(position, &optimizer, false)?;
    }
    Ok(Outcome { position, losses })
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
    Ok(anyhow::Error::new(crate::interrupt::Interrupted {
        step: position.global_step,
        checkpoint: Some(dir),
    }))
}

/// Runs a forward/backward pass, turning libtorch's out-of-memory panic into an error that names
/// the batch size and what to change.
fn guard_memory<T>(step: i64, batch: usize, grad_accum: i64, pass: impl FnOnce() -> Result<T>) -> Result<T> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(pass));
    std::panic::set_hook(hook);
    match result {
        Ok(result) => result,
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            if is_out_of_memory(&message) {
                bail!("{}", out_of_memory_advice(step, batch, grad_accum));
            }
            bail!(
                "step {step}: libtorch error: {}",
                message.lines().next().unwrap_or_default()
            )
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "unknown panic".to_string()
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

#[allow(clippy::too_many_arguments)]
fn at_update(
    cfg: &LoopConfig,
    plan: &Plan,
    position: Position,
    optimizer: &AdamW,
    window: &mut LogWindow,
    hooks: &mut dyn Hooks,
    saved: &mut Saved,
    lr: f64,
) -> Result<()> {
    let step = position.global_step;
    let log_now = cfg.logging_steps > 0 && step % cfg.logging_steps == 0;
    let save_now = cfg.save_steps > 0 && step % cfg.save_steps == 0;
    if log_now {
        let epoch = step as f64 / plan.updates_per_epoch as f64;
        hooks.on_log(&window.take(step, epoch, lr))?;
        hooks.evaluate(position)?;
    }
    if save_now {
        *saved = Saved {
            step,
            dir: Some(hooks.save(position, optimizer, false)?),
            resumable: cfg.save_optimizer,
        };
    }
    if log_now || save_now {
        // Evaluation and saving are not training time.
        window.since = Instant::now();
    }
    Ok(())
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

/// SplitMix64: a tiny, well-mixed PRNG step; data order and dropout seeds derive from it.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform random permutation of `0..n` for `epoch`, derived from `seed` (Fisher–Yates).
pub fn permutation(n: usize, seed: u64, epoch: i64) -> Vec<usize> {
    let mut state = splitmix64(seed ^ 0xD1B5_4A32_D192_ED03u64.wrapping_mul(epoch as u64 + 1));
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        state = splitmix64(state);
        let j = (state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// The reference's batches: a fresh permutation each epoch, cut into `batch_size` chunks
/// (the last one partial).
pub fn random_batches(n: usize, batch_size: usize, seed: u64, epoch: i64) -> Vec<Vec<usize>> {
    permutation(n, seed, epoch)
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// HF's `LengthGroupedSampler` order, cut into batches: a fresh permutation each epoch, split into
/// mega-batches of (up to) 50 batches, each sorted by length, longest first; the mega-batch holding
/// the longest example goes first so an out-of-memory shows at once. Batches then hold examples of
/// similar length, so little padding is computed.
pub fn length_grouped_batches(lengths: &[usize], batch_size: usize, seed: u64, epoch: i64) -> Vec<Vec<usize>> {
    let batch_size = batch_size.max(1);
    let order = permutation(lengths.len(), seed, epoch);
    let mult = (lengths.len() / (batch_size * 4)).clamp(1, 50);
    let mut megabatches: Vec<Vec<usize>> = order.chunks(mult * batch_size).map(<[usize]>::to_vec).collect();
    for mb in &mut megabatches {
        mb.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]));
    }
    let longest = (0..megabatches.len()).max_by_key(|&i| (lengths[megabatches[i][0]], std::cmp::Reverse(i)));
    if let Some(i) = longest {
        let first = megabatches[0][0];
        megabatches[0][0] = megabatches[i][0];
        megabatches[i][0] = first;
    }
    let flat: Vec<usize> = megabatches.into_iter().flatten().collect();
    flat.chunks(batch_size).map(<[usize]>::to_vec).collect()
}
