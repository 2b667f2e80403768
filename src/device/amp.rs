//! Mixed precision as the Hugging Face Trainer does it: `bf16` autocasts forward and loss to
//! bfloat16 with fp32 master weights and no loss scaling; `fp16` autocasts to float16 with dynamic
//! loss scaling (`torch.amp.GradScaler`); `tf32` lets float32 matmuls use TF32.
use anyhow::{anyhow, bail, Result};
use tch::{Device, Kind, Tensor};

use super::shim;

/// The arithmetic of the forward passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Fp32,
    Bf16,
    Fp16,
}

impl Precision {
    /// From the config keys `bf16` and `fp16` (the config loader refuses both).
    pub fn from_flags(bf16: bool, fp16: bool) -> Self {
        match (bf16, fp16) {
            (true, _) => Self::Bf16,
            (_, true) => Self::Fp16,
            _ => Self::Fp32,
        }
    }

    /// The autocast dtype, `None` for fp32.
    pub fn autocast_kind(self) -> Option<Kind> {
        match self {
            Self::Fp32 => None,
            Self::Bf16 => Some(Kind::BFloat16),
            Self::Fp16 => Some(Kind::Half),
        }
    }

    /// The config key that asks for this precision.
    pub fn key(self) -> &'static str {
        match self {
            Self::Fp32 => "fp32",
            Self::Bf16 => "bf16",
            Self::Fp16 => "fp16",
        }
    }

    /// Runs `f` under autocast on `device` (plain for fp32).
    pub fn autocast<T>(self, device: Device, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let Some(kind) = self.autocast_kind() else {
            return f();
        };
        let _region = shim::autocast_enter(device.is_cuda(), kind)?;
        f()
    }

    /// Refuses what `device` cannot do: bf16 on a GPU older than Ampere, and fp16 or bf16 where a
    /// tiny autocast forward and backward fails (e.g. a libtorch without half-precision CPU kernels).
    pub fn check(self, device: Device) -> Result<()> {
        if self == Self::Fp32 {
            return Ok(());
        }
        if let (Self::Bf16, Device::Cuda(index)) = (self, device) {
            if let Some((major, minor)) = super::cuda_capability(index) {
                if major < 8 {
                    bail!(
                        "config key \"bf16\": cuda:{index} (compute capability {major}.{minor}) has no bfloat16 \
                         support; it needs 8.0 (Ampere) or newer: use \"fp16\" instead"
                    );
                }
            }
        }
        if let Err(e) = self.probe(device) {
            bail!(
                "config key \"{}\": mixed precision does not work on {} with this libtorch ({})",
                self.key(),
                super::name(device),
                crate::error::first_line(&format!("{e:#}"))
            );
        }
        if device == Device::Cpu {
            self.warn_if_emulated_on_cpu();
        }
        Ok(())
    }

    /// Warns when libtorch has no oneDNN matmul for this half precision on this CPU (it needs AVX-512):
    /// autocast then runs ATen's generic kernels. HF does not refuse this, so neither do we, but on a
    /// 2-core AMD EPYC with AVX2 only, bf16 trained about 20× slower than fp32 (HF's peer about 30×).
    fn warn_if_emulated_on_cpu(self) {
        if shim::cpu_half_matmul_supported(self == Self::Fp16).unwrap_or(true) {
            return;
        }
        log::warn!(
            "config key \"{key}\": libtorch has no oneDNN {key} matmul on this CPU (it needs AVX-512 or newer), so \
             mixed precision runs generic kernels, about 20× slower than fp32 on an AVX2 CPU; drop the key to \
             train in fp32",
            key = self.key()
        );
    }

    /// A linear layer's forward and backward under autocast, and the scaler's kernels for fp16.
    fn probe(self, device: Device) -> Result<()> {
        let w = Tensor::f_ones([4, 4], (Kind::Float, device))?.set_requires_grad(true);
        let x = Tensor::f_ones([2, 4], (Kind::Float, device))?;
        let y = self.autocast(device, || Ok(x.f_matmul(&w)?.f_sum(Kind::Float)?))?;
        y.f_backward()?;
        if self == Self::Fp16 {
            let mut scaler = GradScaler::new(device)?;
            scaler.unscale(&w.grad())?;
            scaler.update()?;
        }
        Ok(())
    }
}

/// `torch.amp.GradScaler` with its defaults: the loss is multiplied by `scale` (initially 2^16)
/// before backward; gradients are unscaled before clipping; an update whose gradients hold an
/// infinity or NaN is skipped and the scale halved; after 2000 good updates in a row it doubles.
/// Scale, tracker and flag live on the device, so none of this waits for the GPU.
#[derive(Debug)]
pub struct GradScaler {
    /// The current scale, float `[1]`.
    scale: Tensor,
    /// Good updates since the last change of scale, int `[1]`.
    growth_tracker: Tensor,
    /// Set by [`GradScaler::unscale`]: 1.0 when this update's gradients are not finite.
    found_inf: Tensor,
}

pub const INIT_SCALE: f64 = 65536.0;
pub const GROWTH_FACTOR: f64 = 2.0;
pub const BACKOFF_FACTOR: f64 = 0.5;
pub const GROWTH_INTERVAL: i64 = 2000;

impl GradScaler {
    pub fn new(device: Device) -> Result<Self> {
        Ok(Self {
            scale: Tensor::f_full([1], INIT_SCALE, (Kind::Float, device))?,
            growth_tracker: Tensor::f_zeros([1], (Kind::Int, device))?,
            found_inf: Tensor::f_zeros([1], (Kind::Float, device))?,
        })
    }

    /// `loss * scale`, what backward runs on.
    pub fn scale_loss(&self, loss: &Tensor) -> Result<Tensor> {
        Ok(loss.f_mul(&self.scale.f_to_kind(loss.kind())?)?)
    }

    /// Divides `grad` by the scale in place and sets the non-finite flag (`GradScaler.unscale_`).
    pub fn unscale(&mut self, grad: &Tensor) -> Result<()> {
        let _ = self.found_inf.f_zero_()?;
        // As torch: the reciprocal in double, then float.
        let inv_scale = self
            .scale
            .f_to_kind(Kind::Double)?
            .f_reciprocal()?
            .f_to_kind(Kind::Float)?;
        shim::amp_unscale(grad, &self.found_inf, &inv_scale)
    }

    /// 1.0 when the gradients of this update were not finite (after [`GradScaler::unscale`]).
    pub fn found_inf(&self) -> &Tensor {
        &self.found_inf
    }

    /// The current scale (a device tensor).
    pub fn scale(&self) -> &Tensor {
        &self.scale
    }

    /// Backs off after a non-finite update, grows after `GROWTH_INTERVAL` good ones (`GradScaler.update`).
    pub fn update(&mut self) -> Result<()> {
        let _ = self.scale.f_internal_amp_update_scale_(
            &self.growth_tracker,
            &self.found_inf,
            GROWTH_FACTOR,
            BACKOFF_FACTOR,
            GROWTH_INTERVAL,
        )?;
        Ok(())
    }

    /// Scale and growth tracker, for resumable checkpoints.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        vec![
            ("grad_scaler.scale".into(), self.scale.shallow_clone()),
            ("grad_scaler.growth_tracker".into(), self.growth_tracker.shallow_clone()),
        ]
    }

    /// Restores [`GradScaler::state`]; a checkpoint saved without fp16 has none and starts afresh.
    pub fn load_state(&mut self, tensors: &std::collections::HashMap<String, Tensor>) -> Result<()> {
        type Check = fn(f64) -> std::result::Result<(), String>;
        for (key, dst, check) in [
            ("grad_scaler.scale", &mut self.scale, check_scale as Check),
            (
                "grad_scaler.growth_tracker",
                &mut self.growth_tracker,
                check_growth_tracker,
            ),
        ] {
            let Some(src) = tensors.get(key) else {
                log::info!("the checkpoint has no {key}; the fp16 loss scale starts at {INIT_SCALE}");
                return Ok(());
            };
            if src.numel() != 1 {
                bail!("optimizer state {key} has shape {:?}, expected [1]", src.size());
            }
            let value = super::read_f64(src)?[0];
            check(value).map_err(|expected| anyhow!("optimizer state {key} is {value}, expected {expected}"))?;
            let src = src.f_to_kind(dst.kind())?.f_to_device(dst.device())?.f_reshape([1])?;
            tch::no_grad(|| dst.f_copy_(&src))?;
        }
        Ok(())
    }
}

/// A saved scale must be finite and > 0: at 0, inf or NaN every update would be skipped as
/// non-finite, for ever. Returns what was expected otherwise.
fn check_scale(value: f64) -> std::result::Result<(), String> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err("a finite number > 0".into())
    }
}

/// A saved growth tracker counts good steps since the last growth: at or above `GROWTH_INTERVAL`
/// the scale would never grow again.
fn check_growth_tracker(value: f64) -> std::result::Result<(), String> {
    if value >= 0.0 && value.fract() == 0.0 && value < GROWTH_INTERVAL as f64 {
        Ok(())
    } else {
        Err(format!("a whole number from 0 to {}", GROWTH_INTERVAL - 1))
    }
}
