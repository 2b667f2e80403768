//! AdamW with the exact update of `torch.optim.AdamW`, its state kept in our own tensors so it can
//! be saved and restored (tch's C++ optimizer cannot), plus the linear warmup/decay schedule and
//! global-norm gradient clipping.
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use tch::{nn::VarStore, Tensor};

/// HF's no-decay rule: parameters whose name contains `bias` or `LayerNorm.weight`.
pub fn decays(name: &str) -> bool {
    !(name.contains("bias") || name.contains("LayerNorm.weight"))
}

#[derive(Debug)]
struct Param {
    name: String,
    value: Tensor,
    decay: bool,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
}

/// `torch.optim.AdamW(betas=(0.9, 0.999), eps, weight_decay)` over the trainable variables of a
/// VarStore, with weight decay only on [`decays`] parameters.
#[derive(Debug)]
pub struct AdamW {
    params: Vec<Param>,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    steps: i64,
}

impl AdamW {
    pub fn new(vs: &VarStore, weight_decay: f64, eps: f64) -> Self {
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let params = vars
            .into_iter()
            .map(|(name, value)| Param {
                decay: decays(&name),
                exp_avg: value.zeros_like().detach(),
                exp_avg_sq: value.zeros_like().detach(),
                name,
                value,
            })
            .collect();
        Self {
            params,
            beta1: 0.9,
            beta2: 0.999,
            eps,
            weight_decay,
            steps: 0,
        }
    }

    /// Number of updates done so far.
    pub fn steps(&self) -> i64 {
        self.steps
    }

    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            let mut grad = p.value.grad();
            if grad.defined() {
                let _ = grad.detach_().zero_();
            }
        }
    }

    /// Global L2 norm of all gradients, scaled down to `max_norm` as `torch.nn.utils.clip_grad_norm_`
    /// does (factor `max_norm / (norm + 1e-6)`, applied only when below 1). Returns the norm before clipping.
    pub fn clip_grad_norm(&mut self, max_norm: f64) -> f64 {
        let grads: Vec<Tensor> = self
            .params
            .iter()
            .map(|p| p.value.grad())
            .filter(|g| g.defined())
            .collect();
        if grads.is_empty() {
            return 0.0;
        }
        let norms: Vec<Tensor> = grads.iter().map(|g| g.norm()).collect();
        let total = Tensor::stack(&norms, 0).norm().double_value(&[]);
        let coef = max_norm / (total + 1e-6);
        if coef < 1.0 {
            tch::no_grad(|| {
                for mut g in grads {
                    let _ = g.g_mul_scalar_(coef);
                }
            });
        }
        total
    }

    /// One AdamW update at learning rate `lr`, exactly as `torch.optim.AdamW.step`.
    pub fn step(&mut self, lr: f64) {
        self.steps += 1;
        let bias1 = 1.0 - self.beta1.powi(self.steps as i32);
        let bias2_sqrt = (1.0 - self.beta2.powi(self.steps as i32)).sqrt();
        let step_size = lr / bias1;
        let (beta1, beta2, eps, wd) = (self.beta1, self.beta2, self.eps, self.weight_decay);
        tch::no_grad(|| {
            for p in &mut self.params {
                let grad = p.value.grad();
                if !grad.defined() {
                    continue;
                }
                if p.decay && wd != 0.0 {
                    let _ = p.value.g_mul_scalar_(1.0 - lr * wd);
                }
                let _ = p.exp_avg.lerp_(&grad, 1.0 - beta1);
                let _ = p
                    .exp_avg_sq
                    .g_mul_scalar_(beta2)
                    .addcmul_(&grad, &(&grad * (1.0 - beta2)));
                let denom = (p.exp_avg_sq.sqrt() / bias2_sqrt).g_add_scalar_(eps);
                let _ = p.value.addcdiv_(&(&p.exp_avg * -step_size), &denom);
            }
        });
    }

    /// State tensors named `exp_avg.<param>` / `exp_avg_sq.<param>`, plus the step count.
    pub fn state(&self) -> (Vec<(String, Tensor)>, i64) {
        let mut out = Vec::with_capacity(self.params.len() * 2);
        for p in &self.params {
            out.push((format!("exp_avg.{}", p.name), p.exp_avg.shallow_clone()));
            out.push((format!("exp_avg_sq.{}", p.name), p.exp_avg_sq.shallow_clone()));
        }
        (out, self.steps)
    }

    /// Restores the state written by [`AdamW::state`]; every parameter must be present.
    pub fn load_state(&mut self, tensors: Vec<(String, Tensor)>, steps: i64) -> Result<()> {
        let mut map: HashMap<String, Tensor> = tensors.into_iter().collect();
        for p in &mut self.params {
            for (prefix, dst) in [("exp_avg", &mut p.exp_avg), ("exp_avg_sq", &mut p.exp_avg_sq)] {
                let key = format!("{prefix}.{}", p.name);
                let src = map
                    .remove(&key)
                    .with_context(|| format!("optimizer state lacks {key}"))?;
                if src.size() != dst.size() {
                    bail!(
                        "optimizer state {key} has shape {:?}, expected {:?}",
                        src.size(),
                        dst.size()
                    );
                }
                let kind = dst.kind();
                tch::no_grad(|| dst.f_copy_(&src.to_kind(kind)))?;
            }
        }
        self.steps = steps;
        Ok(())
    }
}

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
