//! Safe wrappers over `csrc/shim.cpp`: the libtorch calls tch 0.24 has no binding for (fused AdamW,
//! GradScaler's unscale kernel, autocast with a chosen dtype on CPU or CUDA, TF32, deterministic
//! algorithms, CUDA memory statistics, the cuDNN attention switch, pinning without tch's deprecated
//! device argument). Each returns a `Result` carrying libtorch's message.
use std::ffi::{c_char, c_int, CStr};

use anyhow::{bail, Result};
use tch::{Kind, Tensor};

extern "C" {
    fn kft_last_error() -> *const c_char;
    fn kft_fused_adamw(
        param: *const std::ffi::c_void,
        grad: *const std::ffi::c_void,
        exp_avg: *const std::ffi::c_void,
        exp_avg_sq: *const std::ffi::c_void,
        step: *const std::ffi::c_void,
        lr: f64,
        beta1: f64,
        beta2: f64,
        weight_decay: f64,
        eps: f64,
        grad_scale: *const std::ffi::c_void,
        found_inf: *const std::ffi::c_void,
    ) -> c_int;
    fn kft_amp_unscale(
        grad: *const std::ffi::c_void,
        found_inf: *const std::ffi::c_void,
        inv_scale: *const std::ffi::c_void,
    ) -> c_int;
    fn kft_op_count_start() -> c_int;
    fn kft_op_count(count: *mut i64) -> c_int;
    fn kft_clear_grads(vars: *const *const std::ffi::c_void, n: i64) -> c_int;
    fn kft_take_grads(vars: *const *const std::ffi::c_void, views: *const *const std::ffi::c_void, n: i64) -> c_int;
    fn kft_autocast_enter(cuda: c_int, dtype: i8, prev_enabled: *mut c_int, prev_dtype: *mut i8) -> c_int;
    fn kft_autocast_exit(cuda: c_int, prev_enabled: c_int, prev_dtype: i8) -> c_int;
    fn kft_autocast_state(cuda: c_int, enabled: *mut c_int, dtype: *mut i8) -> c_int;
    fn kft_set_tf32(enabled: c_int) -> c_int;
    fn kft_tf32_enabled(enabled: *mut c_int) -> c_int;
    fn kft_set_deterministic(enabled: c_int) -> c_int;
    fn kft_cuda_peak_allocated(device: i8, bytes: *mut i64) -> c_int;
    fn kft_cuda_empty_cache() -> c_int;
    fn kft_set_sdp_cudnn(enabled: c_int) -> c_int;
    fn kft_pin_memory(src: *const std::ffi::c_void, out: *mut *mut std::ffi::c_void) -> c_int;
    fn kft_cpu_generator_seed(seed: *mut u64) -> c_int;
    fn kft_cpu_half_matmul_supported(fp16: c_int, supported: *mut c_int) -> c_int;
    fn kft_dropout_mask(like: *const std::ffi::c_void, p: f64, seed: u64, out: *mut *mut std::ffi::c_void) -> c_int;
}

/// The libtorch handle of a tensor: tch's `C_tensor` is libtorch's `at::Tensor`, which the shim takes.
fn ptr(t: &Tensor) -> *const std::ffi::c_void {
    t.as_ptr().cast()
}

fn opt_ptr(t: Option<&Tensor>) -> *const std::ffi::c_void {
    t.map_or(std::ptr::null(), ptr)
}

/// Turns a shim return code into a `Result` with libtorch's message (its first line).
fn check(rc: c_int, what: &str) -> Result<()> {
    if rc == 0 {
        return Ok(());
    }
    // SAFETY: kft_last_error returns a NUL-terminated string owned by this thread, valid until the
    // next shim call on this thread; it is copied at once.
    let message = unsafe { CStr::from_ptr(kft_last_error()) }
        .to_string_lossy()
        .into_owned();
    log::debug!("{what}: {message}");
    bail!("{what}: {}", crate::error::first_line(&message))
}

/// The moments and step of one parameter buffer, as `_fused_adamw_` takes them.
pub struct AdamWBuffers<'a> {
    pub param: &'a Tensor,
    pub grad: &'a Tensor,
    pub exp_avg: &'a Tensor,
    pub exp_avg_sq: &'a Tensor,
    /// The float step count, already incremented for this update.
    pub step: &'a Tensor,
}

/// AdamW's hyper-parameters for one call.
#[derive(Debug, Clone, Copy)]
pub struct AdamWHyper {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub weight_decay: f64,
    pub eps: f64,
}

/// `torch._fused_adamw_` on one buffer (what `torch.optim.AdamW(fused=True)` runs): `grad_scale`
/// divides the gradient first, a non-zero `found_inf` skips the update entirely.
pub fn fused_adamw(
    b: &AdamWBuffers,
    h: AdamWHyper,
    grad_scale: Option<&Tensor>,
    found_inf: Option<&Tensor>,
) -> Result<()> {
    // SAFETY: every pointer is a live tch tensor handle (or null for an absent optional), borrowed
    // for the duration of the call; the kernel updates the tensors' storage in place.
    let rc = unsafe {
        kft_fused_adamw(
            ptr(b.param),
            ptr(b.grad),
            ptr(b.exp_avg),
            ptr(b.exp_avg_sq),
            ptr(b.step),
            h.lr,
            h.beta1,
            h.beta2,
            h.weight_decay,
            h.eps,
            opt_ptr(grad_scale),
            opt_ptr(found_inf),
        )
    };
    check(rc, "fused AdamW")
}

/// `torch._amp_foreach_non_finite_check_and_unscale_` on one buffer: `grad *= inv_scale`, and
/// `found_inf` (float, one element) set to 1 when `grad` holds an infinity or NaN.
pub fn amp_unscale(grad: &Tensor, found_inf: &Tensor, inv_scale: &Tensor) -> Result<()> {
    // SAFETY: live tensor handles borrowed for the call.
    let rc = unsafe { kft_amp_unscale(ptr(grad), ptr(found_inf), ptr(inv_scale)) };
    check(rc, "gradient unscaling")
}

/// Starts counting the operators libtorch dispatches, nested ones included (see [`op_count`]).
pub fn op_count_start() -> Result<()> {
    // SAFETY: no arguments; registers a callback once.
    check(unsafe { kft_op_count_start() }, "counting operators")
}

/// The operators libtorch dispatched since [`op_count_start`] (0 before), on every thread.
pub fn op_count() -> Result<i64> {
    let mut count = 0;
    // SAFETY: writes one integer through a valid pointer.
    check(unsafe { kft_op_count(&mut count) }, "counting operators")?;
    Ok(count)
}

/// The handles of `vars`, for the shim's list arguments.
fn handles(vars: &[&Tensor]) -> Vec<*const std::ffi::c_void> {
    vars.iter().map(|t| ptr(t)).collect()
}

/// `optimizer.zero_grad(set_to_none=True)`: drops the gradients of `vars`, so the next backward
/// hands each its new gradient (no zeroing, no in-place add).
pub fn clear_grads(vars: &[&Tensor]) -> Result<()> {
    let list = handles(vars);
    // SAFETY: live tensor handles borrowed for the call; only their autograd metadata changes.
    let rc = unsafe { kft_clear_grads(list.as_ptr(), list.len() as i64) };
    check(rc, "clearing the gradients")
}

/// Copies the gradients of `vars` into `views` (same shapes; zeros for a variable without one) in
/// one `_foreach_copy_`, and makes each view the variable's gradient.
pub fn take_grads(vars: &[&Tensor], views: &[&Tensor]) -> Result<()> {
    if vars.len() != views.len() {
        bail!(
            "gathering the gradients: {} variables but {} places",
            vars.len(),
            views.len()
        );
    }
    let (vars, views) = (handles(vars), handles(views));
    // SAFETY: live tensor handles borrowed for the call; the views are written and each variable's
    // gradient becomes its view.
    let rc = unsafe { kft_take_grads(vars.as_ptr(), views.as_ptr(), vars.len() as i64) };
    check(rc, "gathering the gradients")
}

/// libtorch's `ScalarType` code of an autocast dtype.
fn scalar_type(kind: Kind) -> Result<i8> {
    match kind {
        Kind::Half => Ok(5),
        Kind::BFloat16 => Ok(15),
        other => bail!("autocast to {other:?} is not supported (only Half and BFloat16)"),
    }
}

/// An open autocast region; closing it (drop) restores the previous state.
pub struct AutocastRegion {
    cuda: bool,
    prev_enabled: c_int,
    prev_dtype: i8,
}

/// Opens an autocast region casting to `kind` on CPU or CUDA (`torch.autocast(device_type, dtype)`).
pub fn autocast_enter(cuda: bool, kind: Kind) -> Result<AutocastRegion> {
    let dtype = scalar_type(kind)?;
    let (mut prev_enabled, mut prev_dtype) = (0, 0);
    // SAFETY: the out-pointers point at live locals.
    let rc = unsafe { kft_autocast_enter(c_int::from(cuda), dtype, &mut prev_enabled, &mut prev_dtype) };
    check(rc, "autocast")?;
    Ok(AutocastRegion {
        cuda,
        prev_enabled,
        prev_dtype,
    })
}

impl Drop for AutocastRegion {
    fn drop(&mut self) {
        // SAFETY: plain values; restores what kft_autocast_enter returned.
        let rc = unsafe { kft_autocast_exit(c_int::from(self.cuda), self.prev_enabled, self.prev_dtype) };
        if let Err(e) = check(rc, "autocast") {
            log::warn!("{e:#}");
        }
    }
}

/// The dtype autocast casts to on CPU or CUDA, `None` when autocast is off there.
pub fn autocast_kind(cuda: bool) -> Result<Option<Kind>> {
    let (mut enabled, mut dtype) = (0, 0);
    // SAFETY: out-pointers to live locals.
    check(
        unsafe { kft_autocast_state(c_int::from(cuda), &mut enabled, &mut dtype) },
        "autocast",
    )?;
    Ok(match (enabled, dtype) {
        (0, _) => None,
        (_, 5) => Some(Kind::Half),
        (_, 15) => Some(Kind::BFloat16),
        _ => Some(Kind::Float),
    })
}

/// TF32 matmuls and convolutions on or off (`torch.backends.cuda.matmul.allow_tf32` and friends).
pub fn set_tf32(enabled: bool) -> Result<()> {
    // SAFETY: no pointers.
    check(unsafe { kft_set_tf32(c_int::from(enabled)) }, "TF32")
}

/// Whether TF32 matmuls are on.
pub fn tf32_enabled() -> Result<bool> {
    let mut enabled = 0;
    // SAFETY: the out-pointer points at a live local.
    check(unsafe { kft_tf32_enabled(&mut enabled) }, "TF32")?;
    Ok(enabled != 0)
}

/// `torch.use_deterministic_algorithms(enabled)`.
pub fn set_deterministic(enabled: bool) -> Result<()> {
    // SAFETY: no pointers.
    check(
        unsafe { kft_set_deterministic(c_int::from(enabled)) },
        "deterministic algorithms",
    )
}

/// `torch.cuda.max_memory_allocated(device)` in bytes.
pub fn cuda_peak_allocated(device: usize) -> Result<i64> {
    let mut bytes = 0;
    let index = i8::try_from(device)?;
    // SAFETY: the out-pointer points at a live local.
    check(
        unsafe { kft_cuda_peak_allocated(index, &mut bytes) },
        "CUDA memory statistics",
    )?;
    Ok(bytes)
}

/// `torch.cuda.empty_cache()`.
pub fn cuda_empty_cache() -> Result<()> {
    // SAFETY: no pointers.
    check(unsafe { kft_cuda_empty_cache() }, "CUDA cache")
}

/// `torch.ops.mkldnn._is_mkldnn_bf16_supported()` (`_fp16_` for `fp16`): whether libtorch runs
/// half-precision matmuls on this CPU through oneDNN.
pub fn cpu_half_matmul_supported(fp16: bool) -> Result<bool> {
    let mut supported: c_int = 0;
    // SAFETY: `supported` outlives the call, which writes it on success.
    check(
        unsafe { kft_cpu_half_matmul_supported(c_int::from(fp16), &mut supported) },
        "oneDNN half-precision check",
    )?;
    Ok(supported != 0)
}

/// `torch.backends.cuda.enable_cudnn_sdp(enabled)`.
pub fn set_sdp_cudnn(enabled: bool) -> Result<()> {
    // SAFETY: no pointers.
    check(
        unsafe { kft_set_sdp_cudnn(c_int::from(enabled)) },
        "cuDNN attention switch",
    )
}

/// `t.pin_memory()`: a copy of a CPU tensor in page-locked memory.
pub fn pin_memory(t: &Tensor) -> Result<Tensor> {
    let mut out: *mut std::ffi::c_void = std::ptr::null_mut();
    // SAFETY: `t` is a live tensor; on success the shim stores a new heap `at::Tensor` in `out`.
    let rc = unsafe { kft_pin_memory(ptr(t), &mut out) };
    new_tensor(rc, out, "pinned memory")
}

/// A number drawn from the default CPU generator (so `tch::manual_seed` decides it).
pub fn cpu_generator_seed() -> Result<u64> {
    let mut seed = 0;
    // SAFETY: the out-pointer points at a live local.
    check(unsafe { kft_cpu_generator_seed(&mut seed) }, "CPU generator")?;
    Ok(seed)
}

/// A dropout mask for a CPU tensor: `like`'s shape and dtype, each element 0 with probability `p`
/// (in `[0, 1)`), else `1 / (1 - p)`. Element `i` depends only on `seed` and `i` (a counter-based
/// generator), not on the thread count. `x * mask` is dropout, several times faster than
/// libtorch's on the CPU.
pub fn dropout_mask(like: &Tensor, p: f64, seed: u64) -> Result<Tensor> {
    let mut out: *mut std::ffi::c_void = std::ptr::null_mut();
    // SAFETY: `like` is a live tensor; on success the shim stores a new heap `at::Tensor` in `out`.
    let rc = unsafe { kft_dropout_mask(ptr(like), p, seed, &mut out) };
    new_tensor(rc, out, "dropout mask")
}

/// The tensor a shim call returned through its out-pointer, owned by tch from here on.
fn new_tensor(rc: c_int, out: *mut std::ffi::c_void, what: &str) -> Result<Tensor> {
    check(rc, what)?;
    if out.is_null() {
        bail!("{what}: libtorch returned no tensor");
    }
    // SAFETY: on success `out` is a valid heap `at::Tensor` that nothing else owns (checked
    // non-null above); `Tensor::from_ptr` takes ownership and tch frees it on drop.
    Ok(unsafe { Tensor::from_ptr(out.cast()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(t.to_kind(Kind::Float).flatten(0, -1)).expect("mask values")
    }

    #[test]
    fn dropout_mask_drops_a_fraction_p_and_scales_the_rest() {
        let like = Tensor::zeros([1000, 1000], (Kind::Float, tch::Device::Cpu));
        for p in [0.1, 0.5] {
            let mask = dropout_mask(&like, p, 42).expect("mask");
            assert_eq!(mask.size(), like.size());
            let keep = (1.0 / (1.0 - p)) as f32;
            let v = values(&mask);
            assert!(v.iter().all(|&x| x == 0.0 || x == keep), "only 0 and {keep}");
            let dropped = v.iter().filter(|&&x| x == 0.0).count() as f64 / v.len() as f64;
            // One million draws: the standard deviation of the fraction is at most 5e-4.
            assert!((dropped - p).abs() < 3e-3, "p {p}: dropped {dropped}");
        }
    }

    #[test]
    fn dropout_mask_depends_on_the_seed_and_the_index_only() {
        let small = Tensor::zeros([3, 333], (Kind::Float, tch::Device::Cpu));
        let large = Tensor::zeros([100_001], (Kind::Float, tch::Device::Cpu));
        let a = values(&dropout_mask(&small, 0.1, 7).expect("mask"));
        let b = values(&dropout_mask(&large, 0.1, 7).expect("mask"));
        // Element i of any mask with seed 7 is the same, however the work was split among threads.
        assert_eq!(a[..], b[..a.len()]);
        assert_eq!(a, values(&dropout_mask(&small, 0.1, 7).expect("mask")));
        assert_ne!(a, values(&dropout_mask(&small, 0.1, 8).expect("mask")));
    }

    #[test]
    fn dropout_mask_has_the_dtype_of_its_input_and_refuses_bad_p() {
        for kind in [Kind::BFloat16, Kind::Half, Kind::Double] {
            let like = Tensor::zeros([4, 8], (kind, tch::Device::Cpu));
            assert_eq!(dropout_mask(&like, 0.2, 1).expect("mask").kind(), kind);
        }
        let like = Tensor::zeros([4], (Kind::Float, tch::Device::Cpu));
        let err = dropout_mask(&like, 1.0, 1).expect_err("p = 1");
        assert!(format!("{err:#}").contains("p must be in [0, 1)"), "{err:#}");
    }
}
