//! Learning-rate schedules: HF's linear warmup and decay.

/// HF `get_linear_schedule_with_warmup`: the multiplier for the update after `done` updates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearSchedule {
    pub warmup: i64,
    pub total: i64,
}

impl LinearSchedule {
    /// `warmup = int(total × proportion)`, as the reference computes it.
    pub fn new(total: i64, warmup_proportion: f64) -> Self {
        Self {
            warmup: (total as f64 * warmup_proportion) as i64,
            total,
        }
    }

    pub fn multiplier(&self, done: i64) -> f64 {
        if done < self.warmup {
            done as f64 / self.warmup.max(1) as f64
        } else {
            ((self.total - done) as f64 / (self.total - self.warmup).max(1) as f64).max(0.0)
        }
    }
}
