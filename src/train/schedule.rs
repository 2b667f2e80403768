//! Learning-rate schedules: transformers' `get_scheduler` multipliers (`lr_scheduler_type`), with the
//! reference's linear warmup and decay as the default.

// The names are config values, checked when a config is read: they live in `config`, which must
// not import `train` (config -> train -> config would be a cycle).
pub use crate::config::schedule::{ScheduleKind, POLYNOMIAL_LR_END};

/// A schedule over `total` updates with `warmup` warmup updates: the multiplier of the base rate for
/// the update after `done` updates (HF's `LambdaLR` after `done` scheduler steps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub kind: ScheduleKind,
    pub warmup: i64,
    pub total: i64,
    /// The base learning rate (the polynomial schedule decays towards an absolute `lr_end`).
    pub lr_init: f64,
}

/// The reference's schedule: linear warmup and decay.
pub type LinearSchedule = Schedule;

impl Schedule {
    /// Linear warmup and decay with `warmup = int(total × proportion)`, as the reference computes it.
    pub fn new(total: i64, warmup_proportion: f64) -> Self {
        Self::with(
            ScheduleKind::Linear,
            total,
            warmup_steps(total, 0, warmup_proportion),
            1.0,
        )
    }

    pub fn with(kind: ScheduleKind, total: i64, warmup: i64, lr_init: f64) -> Self {
        Self {
            kind,
            warmup,
            total,
            lr_init,
        }
    }

    pub fn multiplier(&self, done: i64) -> f64 {
        let (step, warmup, total) = (done as f64, self.warmup as f64, self.total as f64);
        if done < self.warmup && self.kind != ScheduleKind::Constant {
            return step / warmup.max(1.0);
        }
        let progress = (step - warmup) / (total - warmup).max(1.0);
        match self.kind {
            ScheduleKind::Linear => ((total - step) / (total - warmup).max(1.0)).max(0.0),
            ScheduleKind::Cosine => (0.5 * (1.0 + (std::f64::consts::PI * 0.5 * 2.0 * progress).cos())).max(0.0),
            ScheduleKind::CosineWithRestarts if progress >= 1.0 => 0.0,
            ScheduleKind::CosineWithRestarts => {
                (0.5 * (1.0 + (std::f64::consts::PI * ((1.0 * progress) % 1.0)).cos())).max(0.0)
            }
            ScheduleKind::Polynomial if done > self.total => POLYNOMIAL_LR_END / self.lr_init,
            ScheduleKind::Polynomial => {
                // HF divides by zero here when warmup == total; lr_end then.
                let remaining = 1.0 - (step - warmup) / (total - warmup).max(1.0);
                ((self.lr_init - POLYNOMIAL_LR_END) * remaining + POLYNOMIAL_LR_END) / self.lr_init
            }
            ScheduleKind::Constant | ScheduleKind::ConstantWithWarmup => 1.0,
            ScheduleKind::InverseSqrt => {
                let timescale = if self.warmup > 0 { warmup } else { 10_000.0 };
                1.0 / ((step + timescale - warmup) / timescale).sqrt()
            }
        }
    }
}

/// Warmup updates: `warmup_steps` when positive (HF), else `int(total × warmup_proportion)` (the
/// reference's rounding; HF's `warmup_ratio` rounds up).
pub fn warmup_steps(total: i64, warmup_steps: i64, warmup_proportion: f64) -> i64 {
    if warmup_steps > 0 {
        warmup_steps
    } else {
        (total as f64 * warmup_proportion) as i64
    }
}
