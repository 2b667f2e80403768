//! AdamW with the exact update of `torch.optim.AdamW`, its state kept in our own tensors so it can
//! be saved and restored (tch's C++ optimizer cannot), and global-norm gradient clipping.
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use tch::{nn::VarStore, Device, Kind, Tensor};

/// Elements per slice of the update (512 KiB of f32 per buffer).
const CHUNK: i64 = 1 << 17;

/// HF's no-decay rule: parameters whose name contains `bias` or `LayerNorm.weight`.
pub fn decays(name: &str) -> bool {
    !(name.contains("bias") || name.contains("LayerNorm.weight"))
}

/// One trainable variable: its name, the variable, and where it lives in the flat buffers.
#[derive(Debug)]
struct Param {
    name: String,
    var: Tensor,
    offset: i64,
    numel: i64,
}

/// `torch.optim.AdamW(betas=(0.9, 0.999), eps, weight_decay)` over the trainable variables of a
/// VarStore, with weight decay only on [`decays`] parameters.
///
/// Speed: every variable is re-pointed into one flat parameter buffer (decayed ones first), and the
/// moments are flat buffers too, so a step is a dozen whole-buffer kernels into preallocated scratch
/// space instead of hundreds of small ops each allocating a parameter-sized temporary.
#[derive(Debug)]
pub struct AdamW {
    params: Vec<Param>,
    flat: Tensor,
    /// Gradients gathered into one buffer, then the scratch space of the update.
    grad: Tensor,
    scratch: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    /// Elements `0..n_decay` of the flat buffers are decayed, the rest not.
    n_decay: i64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    steps: i64,
    /// `clip_grad_norm` already gathered (and clipped) this step's gradients.
    grads_ready: bool,
}

impl AdamW {
    pub fn new(vs: &VarStore, weight_decay: f64, eps: f64) -> Self {
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
        vars.sort_by(|a, b| (!decays(&a.0), &a.0).cmp(&(!decays(&b.0), &b.0)));
        let total: i64 = vars.iter().map(|(_, t)| t.numel() as i64).sum();
        let n_decay: i64 = vars
            .iter()
            .filter(|(n, _)| decays(n))
            .map(|(_, t)| t.numel() as i64)
            .sum();
        let options = vars
            .first()
            .map(|(_, t)| (t.kind(), t.device()))
            .unwrap_or((Kind::Float, Device::Cpu));
        let flat = Tensor::zeros([total], options);
        let mut params = Vec::with_capacity(vars.len());
        let mut offset = 0;
        tch::no_grad(|| {
            for (name, mut var) in vars {
                let numel = var.numel() as i64;
                let view = flat.narrow(0, offset, numel);
                view.view_as(&var).copy_(&var);
                var.set_data(&view.view(var.size().as_slice()));
                params.push(Param {
                    name,
                    var,
                    offset,
                    numel,
                });
                offset += numel;
            }
        });
        let zeros = || Tensor::zeros([total], options);
        Self {
            params,
            grad: zeros(),
            scratch: zeros(),
            exp_avg: zeros(),
            exp_avg_sq: zeros(),
            flat,
            n_decay,
            beta1: 0.9,
            beta2: 0.999,
            eps,
            weight_decay,
            steps: 0,
            grads_ready: false,
        }
    }

    /// Number of updates done so far.
    pub fn steps(&self) -> i64 {
        self.steps
    }

    /// Zeroes the flat gradient buffer, which every adopted gradient is a view of.
    pub fn zero_grad(&mut self) {
        let _ = tch::no_grad(|| self.grad.zero_());
        for p in &self.params {
            let mut grad = p.var.grad();
            if grad.defined() && !self.adopted(p, &grad) {
                let _ = grad.detach_().zero_();
            }
        }
    }

    /// Whether `grad` already lives in the flat gradient buffer at `p`'s place.
    fn adopted(&self, p: &Param, grad: &Tensor) -> bool {
        let expected = self.grad.data_ptr() as usize + p.offset as usize * self.grad.kind().elt_size_in_bytes();
        grad.data_ptr() as usize == expected
    }

    /// Makes every variable's gradient a view of the flat gradient buffer. Backward then accumulates
    /// straight into it (autograd adds into an existing `.grad` in place), so after the first step
    /// gathering is a pointer check per variable instead of a copy.
    fn gather_grads(&mut self) {
        tch::no_grad(|| {
            for p in &self.params {
                let mut grad = p.var.grad();
                if grad.defined() && self.adopted(p, &grad) {
                    continue;
                }
                let mut dst = self.grad.narrow(0, p.offset, p.numel);
                if grad.defined() {
                    let mut view = dst.view(grad.size().as_slice());
                    view.copy_(&grad);
                    grad.set_data(&view);
                } else {
                    let _ = dst.zero_();
                }
            }
        });
    }

    /// Global L2 norm of all gradients, scaled down to `max_norm` as `torch.nn.utils.clip_grad_norm_`
    /// does (factor `max_norm / (norm + 1e-6)`, applied only when below 1). Returns the norm before
    /// clipping. Gathers the gradients for the next [`AdamW::step`].
    pub fn clip_grad_norm(&mut self, max_norm: f64) -> f64 {
        self.gather_grads();
        let total = self.grad.norm().double_value(&[]);
        let coef = max_norm / (total + 1e-6);
        if coef < 1.0 {
            let _ = tch::no_grad(|| self.grad.g_mul_scalar_(coef));
        }
        self.grads_ready = true;
        total
    }

    /// One AdamW update at learning rate `lr`, exactly as `torch.optim.AdamW.step`.
    pub fn step(&mut self, lr: f64) {
        if !self.grads_ready {
            self.gather_grads();
        }
        self.grads_ready = false;
        self.steps += 1;
        let bias1 = 1.0 - self.beta1.powi(self.steps as i32);
        let bias2_sqrt = (1.0 - self.beta2.powi(self.steps as i32)).sqrt();
        let step_size = lr / bias1;
        let (beta1, beta2, eps, wd) = (self.beta1, self.beta2, self.eps, self.weight_decay);
        let c1 = 1.0 - lr * wd;
        let total = self.flat.size()[0];
        tch::no_grad(|| {
            // Chunks small enough that the five buffers' slices stay in the L2 cache between kernels.
            for start in (0..total).step_by(CHUNK as usize) {
                let len = CHUNK.min(total - start);
                let slice = |t: &Tensor| t.narrow(0, start, len);
                let (mut param, grad) = (slice(&self.flat), slice(&self.grad));
                let (mut m, mut v, mut tmp) = (slice(&self.exp_avg), slice(&self.exp_avg_sq), slice(&self.scratch));
                let decayed = (self.n_decay - start).clamp(0, len);
                if wd != 0.0 && decayed > 0 {
                    let _ = param.narrow(0, 0, decayed).g_mul_scalar_(c1);
                }
                let _ = m.lerp_(&grad, 1.0 - beta1);
                // v = beta2 v + (1 - beta2) g²
                let _ = grad.mul_out(&tmp, &grad);
                let _ = v.lerp_(&tmp, 1.0 - beta2);
                // param -= lr/bias1 · m / (sqrt(v)/bias2_sqrt + eps), with bias2_sqrt moved out of
                // the division: param -= (lr/bias1 · bias2_sqrt) · m / (sqrt(v) + eps · bias2_sqrt)
                let _ = v.sqrt_out(&tmp);
                let _ = tmp.g_add_scalar_(eps * bias2_sqrt);
                let _ = m.div_out(&tmp, &tmp);
                let _ = param.g_add_(&tmp.g_mul_scalar_(-step_size * bias2_sqrt));
            }
        });
    }

    /// State tensors named `exp_avg.<param>` / `exp_avg_sq.<param>`, plus the step count.
    pub fn state(&self) -> (Vec<(String, Tensor)>, i64) {
        let mut out = Vec::with_capacity(self.params.len() * 2);
        for p in &self.params {
            let shape = p.var.size();
            out.push((
                format!("exp_avg.{}", p.name),
                self.exp_avg.narrow(0, p.offset, p.numel).view(shape.as_slice()),
            ));
            let sq = self.exp_avg_sq.narrow(0, p.offset, p.numel).view(shape.as_slice());
            out.push((format!("exp_avg_sq.{}", p.name), sq));
        }
        (out, self.steps)
    }

    /// Restores the state written by [`AdamW::state`]; every parameter must be present.
    pub fn load_state(&mut self, tensors: Vec<(String, Tensor)>, steps: i64) -> Result<()> {
        let mut map: HashMap<String, Tensor> = tensors.into_iter().collect();
        for p in &self.params {
            for (prefix, buffer) in [("exp_avg", &self.exp_avg), ("exp_avg_sq", &self.exp_avg_sq)] {
                let key = format!("{prefix}.{}", p.name);
                let src = map
                    .remove(&key)
                    .with_context(|| format!("optimizer state lacks {key}"))?;
                if src.size() != p.var.size() {
                    bail!(
                        "optimizer state {key} has shape {:?}, expected {:?}",
                        src.size(),
                        p.var.size()
                    );
                }
                let mut dst = buffer.narrow(0, p.offset, p.numel);
                let src = src.to_kind(dst.kind()).to_device(dst.device()).reshape([-1]);
                tch::no_grad(|| dst.f_copy_(&src))?;
            }
        }
        self.steps = steps;
        Ok(())
    }
}
