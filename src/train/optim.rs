//! AdamW with the exact update of `torch.optim.AdamW(fused=True)` (libtorch's `_fused_adamw_`
//! kernel, on CPU and CUDA), its state kept in our own tensors so it can be saved and restored
//! (tch's C++ optimizer cannot), and global-norm gradient clipping computed on the device.
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use tch::{nn::VarStore, Device, Kind, Tensor};

use crate::device::amp::GradScaler;
use crate::device::shim::{self, AdamWBuffers, AdamWHyper};
use crate::device::{read_f64, to_host};

/// HF's no-decay rule: parameters whose name contains `bias` or `LayerNorm.weight`.
pub fn decays(name: &str) -> bool {
    !(name.contains("bias") || name.contains("LayerNorm.weight"))
}

/// One trainable variable: its name, the variable, where it lives in the flat buffers, and its
/// gradient's place in the flat gradient buffer (a view shaped like the variable).
#[derive(Debug)]
struct Param {
    name: String,
    var: Tensor,
    offset: i64,
    numel: i64,
    grad: Tensor,
}

/// `torch.optim.AdamW(betas=(0.9, 0.999), eps, weight_decay, fused=True)` over the trainable
/// variables of a VarStore, with weight decay only on [`decays`] parameters.
///
/// Speed: every variable is re-pointed into one flat parameter buffer (decayed ones first), and
/// gradients and moments are flat buffers too, so an update is two fused kernel launches (decayed
/// and not) instead of a few per parameter.
#[derive(Debug)]
pub struct AdamW {
    params: Vec<Param>,
    flat: Tensor,
    /// The gradients, back to back; after [`AdamW::gather_grads`] each variable's is a view of it.
    grad: Tensor,
    /// Whether the variables' gradients are views of `grad`.
    grads_gathered: bool,
    /// Whether `zero_grad` drops the gradients instead of zeroing `grad`.
    drop_grads: bool,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    /// The float step count the kernel reads for its bias corrections, on the device (as torch's
    /// fused AdamW keeps it), so skipping an update needs no host round trip.
    step_count: Tensor,
    /// Elements `0..n_decay` of the flat buffers are decayed, the rest not.
    n_decay: i64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    /// Updates applied so far, as the host knows it.
    steps: i64,
    /// fp16's dynamic loss scaling, saved and restored with the moments.
    scaler: Option<GradScaler>,
}

impl AdamW {
    /// Moves the trainable variables into one flat buffer and allocates gradient and moment buffers
    /// (an out-of-memory error here is an error, not a crash).
    pub fn new(vs: &VarStore, weight_decay: f64, eps: f64) -> Result<Self> {
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
        let zeros = || Tensor::f_zeros([total], options).context("cannot allocate the optimizer's buffers");
        let (flat, grad) = (zeros()?, zeros()?);
        let mut params = Vec::with_capacity(vars.len());
        let mut offset = 0;
        tch::no_grad(|| -> Result<()> {
            for (name, mut var) in vars {
                let numel = var.numel() as i64;
                let view = flat.f_narrow(0, offset, numel)?;
                view.f_view_as(&var)?.f_copy_(&var)?;
                var.set_data(&view.f_view(var.size().as_slice())?);
                let grad = grad.f_narrow(0, offset, numel)?.f_view(var.size().as_slice())?;
                params.push(Param {
                    name,
                    var,
                    offset,
                    numel,
                    grad,
                });
                offset += numel;
            }
            Ok(())
        })?;
        Ok(Self {
            params,
            grad,
            grads_gathered: false,
            drop_grads: options.1.is_cuda(),
            exp_avg: zeros()?,
            exp_avg_sq: zeros()?,
            step_count: Tensor::f_zeros([], (Kind::Float, options.1))?,
            flat,
            n_decay,
            beta1: 0.9,
            beta2: 0.999,
            eps,
            weight_decay,
            steps: 0,
            scaler: None,
        })
    }

    /// Adds fp16's dynamic loss scaling ([`GradScaler`]) on the parameters' device.
    pub fn with_loss_scaling(mut self) -> Result<Self> {
        self.scaler = Some(GradScaler::new(self.flat.device())?);
        Ok(self)
    }

    /// The loss scaler, with fp16.
    pub fn scaler(&self) -> Option<&GradScaler> {
        self.scaler.as_ref()
    }

    /// What backward runs on: `loss`, times the loss scale with fp16.
    pub fn scale_loss(&self, loss: &Tensor) -> Result<Tensor> {
        match &self.scaler {
            Some(scaler) => scaler.scale_loss(loss),
            None => Ok(loss.shallow_clone()),
        }
    }

    /// With fp16: gathers the gradients, divides them by the loss scale and returns the device flag
    /// that is 1.0 when they are not finite (`GradScaler.unscale_`); `None` without loss scaling.
    pub fn unscale_grads(&mut self) -> Result<Option<Tensor>> {
        self.gather_grads()?;
        let Some(scaler) = self.scaler.as_mut() else {
            return Ok(None);
        };
        scaler.unscale(&self.grad)?;
        Ok(Some(scaler.found_inf().shallow_clone()))
    }

    /// After an update with fp16: the loss scale backs off or grows (`GradScaler.update`).
    pub fn update_scale(&mut self) -> Result<()> {
        match self.scaler.as_mut() {
            Some(scaler) => scaler.update(),
            None => Ok(()),
        }
    }

    /// Number of updates applied so far.
    pub fn steps(&self) -> i64 {
        self.steps
    }

    /// Clears the gradients for the next update. On the CPU it zeroes the flat gradient buffer,
    /// which every gathered gradient is a view of, so backward adds straight into it (memory
    /// traffic is the CPU's cost). With [`AdamW::drop_grads`] (the default on CUDA) it drops them
    /// instead (`zero_grad(set_to_none=True)`, as the HF Trainer does): backward then hands each
    /// variable its new gradient without zeroing or adding, a kernel launch per variable fewer (the
    /// host's cost on a GPU), and the next update gathers them with one copy.
    pub fn zero_grad(&mut self) -> Result<()> {
        if self.drop_grads || !self.grads_gathered {
            shim::clear_grads(&self.vars())?;
            self.grads_gathered = false;
        } else {
            let _ = tch::no_grad(|| self.grad.f_zero_())?;
        }
        Ok(())
    }

    /// Whether [`AdamW::zero_grad`] drops the gradients (`true`) or zeroes them in place; the
    /// default is `true` on CUDA, `false` on the CPU. Both give the same updates.
    pub fn drop_grads(mut self, drop: bool) -> Self {
        self.drop_grads = drop;
        self
    }

    fn vars(&self) -> Vec<&Tensor> {
        self.params.iter().map(|p| &p.var).collect()
    }

    /// Copies the gradients into the flat gradient buffer (one `_foreach_copy_`) and makes each
    /// variable's gradient its view there, unless they already are: from then on backward adds
    /// straight into the buffer, until [`AdamW::zero_grad`] drops them.
    fn gather_grads(&mut self) -> Result<&Tensor> {
        if !self.grads_gathered {
            let views: Vec<&Tensor> = self.params.iter().map(|p| &p.grad).collect();
            shim::take_grads(&self.vars(), &views)?;
            self.grads_gathered = true;
        }
        Ok(&self.grad)
    }

    /// Global L2 norm of all gradients (a device scalar), after scaling them down to `max_norm` as
    /// `torch.nn.utils.clip_grad_norm_` does (factor `max_norm / (norm + 1e-6)` clamped to 1), on
    /// the device: nothing waits for the result. Returns the norm before clipping; gathers the
    /// gradients first.
    pub fn clip_grad_norm(&mut self, max_norm: f64) -> Result<Tensor> {
        self.gather_grads()?;
        let norm = self.grad.f_norm()?;
        if max_norm.is_finite() {
            let coef = norm
                .f_add_scalar(1e-6)?
                .f_reciprocal()?
                .f_mul_scalar(max_norm)?
                .f_clamp_max(1.0)?;
            let _ = tch::no_grad(|| self.grad.f_mul_(&coef))?;
        }
        Ok(norm)
    }

    /// One AdamW update at learning rate `lr`, as `torch.optim.AdamW(fused=True).step()`. With
    /// `found_inf` (a float device flag), the kernels skip the update when it is 1, and the step
    /// count stays, as under `torch.amp.GradScaler`; call [`AdamW::skipped`] once the host knows.
    pub fn step(&mut self, lr: f64, found_inf: Option<&Tensor>) -> Result<()> {
        self.gather_grads()?;
        self.steps += 1;
        tch::no_grad(|| -> Result<()> {
            let _ = self.step_count.f_add_scalar_(1.0)?;
            let total = self.flat.size()[0];
            let groups = [
                (0, self.n_decay, self.weight_decay),
                (self.n_decay, total - self.n_decay, 0.0),
            ];
            for (start, len, weight_decay) in groups.into_iter().filter(|(_, len, _)| *len > 0) {
                let slice = |t: &Tensor| t.f_narrow(0, start, len);
                let (param, grad) = (slice(&self.flat)?, slice(&self.grad)?);
                let (exp_avg, exp_avg_sq) = (slice(&self.exp_avg)?, slice(&self.exp_avg_sq)?);
                let buffers = AdamWBuffers {
                    param: &param,
                    grad: &grad,
                    exp_avg: &exp_avg,
                    exp_avg_sq: &exp_avg_sq,
                    step: &self.step_count,
                };
                let hyper = AdamWHyper {
                    lr,
                    beta1: self.beta1,
                    beta2: self.beta2,
                    weight_decay,
                    eps: self.eps,
                };
                shim::fused_adamw(&buffers, hyper, None, found_inf)?;
            }
            if let Some(flag) = found_inf {
                let _ = self.step_count.f_sub_(&flag.f_reshape([])?)?;
            }
            Ok(())
        })
    }

    /// The last [`AdamW::step`] was skipped on the device (its `found_inf` was set): the host count
    /// follows.
    pub fn skipped(&mut self) {
        self.steps -= 1;
    }

    /// The first parameter holding a NaN or infinity: one read for the whole flat buffer, and a
    /// search by parameter only when it is not finite.
    pub fn first_non_finite(&self) -> Result<Option<String>> {
        let all_finite = |t: &Tensor| all_true(&t.f_isfinite()?);
        if all_finite(&self.flat)? {
            return Ok(None);
        }
        let mut params: Vec<&Param> = self.params.iter().collect();
        params.sort_by(|a, b| a.name.cmp(&b.name));
        for p in params {
            if !all_finite(&p.var)? {
                return Ok(Some(p.name.clone()));
            }
        }
        Ok(None)
    }

    /// State tensors on the CPU, named `exp_avg.<param>` / `exp_avg_sq.<param>`, plus `step` (the
    /// applied updates, a float scalar as torch keeps it): one read per flat buffer.
    pub fn state(&self) -> Result<Vec<(String, Tensor)>> {
        let (exp_avg, exp_avg_sq) = (to_host(&self.exp_avg)?, to_host(&self.exp_avg_sq)?);
        let mut out = Vec::with_capacity(self.params.len() * 2 + 1);
        for p in &self.params {
            let shape = p.var.size();
            for (prefix, buffer) in [("exp_avg", &exp_avg), ("exp_avg_sq", &exp_avg_sq)] {
                let view = buffer.f_narrow(0, p.offset, p.numel)?.f_view(shape.as_slice())?;
                out.push((format!("{prefix}.{}", p.name), view));
            }
        }
        out.push(("step".into(), Tensor::from(self.steps as f32)));
        if let Some(scaler) = &self.scaler {
            for (name, t) in scaler.state() {
                out.push((name, to_host(&t)?));
            }
        }
        Ok(out)
    }

    /// Restores the state written by [`AdamW::state`]; every parameter must be present. The step
    /// count comes from `step`, or is `fallback_steps` for checkpoints written before it existed.
    pub fn load_state(&mut self, map: &HashMap<String, Tensor>, fallback_steps: i64) -> Result<()> {
        for p in &self.params {
            for (prefix, buffer) in [("exp_avg", &self.exp_avg), ("exp_avg_sq", &self.exp_avg_sq)] {
                let key = format!("{prefix}.{}", p.name);
                let src = map.get(&key).with_context(|| format!("optimizer state lacks {key}"))?;
                if src.size() != p.var.size() {
                    bail!(
                        "optimizer state {key} has shape {:?}, expected {:?}",
                        src.size(),
                        p.var.size()
                    );
                }
                check_moment(&key, src, prefix == "exp_avg_sq")?;
                let mut dst = buffer.f_narrow(0, p.offset, p.numel)?;
                let src = src.f_to_kind(dst.kind())?.f_to_device(dst.device())?.f_reshape([-1])?;
                tch::no_grad(|| dst.f_copy_(&src))?;
            }
        }
        self.steps = match map.get("step") {
            Some(step) => step_count(step)?,
            None => fallback_steps,
        };
        let _ = tch::no_grad(|| self.step_count.f_fill_(self.steps as f64))?;
        if let Some(scaler) = self.scaler.as_mut() {
            scaler.load_state(map)?;
        }
        Ok(())
    }
}

/// A saved moment must be finite, and a second moment also non-negative: anything else (a damaged
/// or edited file) would turn the weights into NaN at the first update after resuming.
fn check_moment(key: &str, t: &Tensor, second: bool) -> Result<()> {
    let mut sane = t.f_isfinite()?;
    if second {
        sane = sane.f_logical_and(&t.f_ge(0.0)?)?;
    }
    if !all_true(&sane)? {
        let bad = if second {
            "negative, infinite or NaN"
        } else {
            "infinite or NaN"
        };
        bail!("optimizer state {key} holds a value that is {bad}");
    }
    Ok(())
}

/// Whether every element of the boolean `mask` is true, in one read.
fn all_true(mask: &Tensor) -> Result<bool> {
    Ok(read_f64(&mask.f_all()?)? == [1.0])
}

/// The step count of a saved `step` tensor (a non-negative whole number).
fn step_count(step: &Tensor) -> Result<i64> {
    match read_f64(step)?.as_slice() {
        [v] if *v >= 0.0 && v.fract() == 0.0 && *v < 1e15 => Ok(*v as i64),
        other => bail!("optimizer state \"step\" is {other:?}, expected one whole number >= 0"),
    }
}
