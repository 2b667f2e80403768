//! Where tensors cross between host and device, and the device's settings.
//!
//! Every device→host read of the training and evaluation paths goes through [`to_host`], and every
//! host→device batch through [`Upload`]; both are counted ([`transfers`]) so tests can check that a
//! training update does at most one blocking read and a micro-batch one copy. On CUDA each read is
//! a synchronisation point: fewer reads let the host queue work ahead of the GPU.
//! `clippy.toml` forbids tch's scalar reads (`double_value`, `int64_value`) in the crate.
pub mod amp;
pub mod shim;

use std::cell::Cell;

use anyhow::{Context, Result};
use tch::{Device, Kind, Tensor};

thread_local! {
    /// This thread's transfers: a run's loop and evaluations run on one thread, and tests running
    /// side by side do not disturb each other's counts.
    static COUNTS: Cell<Transfers> = const { Cell::new(Transfers { reads: 0, uploads: 0 }) };
}

/// Device→host reads and host→device batch copies since the thread started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfers {
    pub reads: u64,
    pub uploads: u64,
}

impl std::ops::Sub for Transfers {
    type Output = Transfers;
    fn sub(self, earlier: Transfers) -> Transfers {
        Transfers {
            reads: self.reads - earlier.reads,
            uploads: self.uploads - earlier.uploads,
        }
    }
}

/// A device as `--device` spells it: `cpu`, `cuda:N` (also the other kinds libtorch knows, in its own words).
pub fn name(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".to_string(),
        Device::Cuda(index) => format!("cuda:{index}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The transfer counters of this thread.
pub fn transfers() -> Transfers {
    COUNTS.with(Cell::get)
}

fn count(reads: u64, uploads: u64) {
    COUNTS.with(|c| {
        let t = c.get();
        c.set(Transfers {
            reads: t.reads + reads,
            uploads: t.uploads + uploads,
        })
    });
}

/// A copy of `t` on the CPU: one blocking device→host read (counted). Errors of earlier
/// asynchronous CUDA kernels surface here, as an error rather than a panic.
pub fn to_host(t: &Tensor) -> Result<Tensor> {
    count(1, 0);
    t.f_to_device(Device::Cpu)
        .context("cannot read a result back from the device")
}

/// The values of `t` as f64, in one read.
pub fn read_f64(t: &Tensor) -> Result<Vec<f64>> {
    let host = to_host(&t.f_to_kind(Kind::Double)?.f_reshape([-1])?)?;
    Vec::<f64>::try_from(&host).context("cannot read values")
}

/// Int64 arrays gathered on the host and sent to the device together: one pinned, non-blocking
/// copy (counted) instead of one pageable, blocking copy per array.
#[derive(Debug, Default)]
pub struct Upload {
    data: Vec<i64>,
    shapes: Vec<Vec<i64>>,
}

impl Upload {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an array of `shape` (its element count must match).
    pub fn push(&mut self, values: &[i64], shape: &[i64]) -> &mut Self {
        debug_assert_eq!(values.len() as i64, shape.iter().product::<i64>());
        self.data.extend_from_slice(values);
        self.shapes.push(shape.to_vec());
        self
    }

    /// Adds the arrays of `other` after these.
    pub fn extend(&mut self, other: Upload) -> &mut Self {
        self.data.extend(other.data);
        self.shapes.extend(other.shapes);
        self
    }

    /// Adds f32 values, carried as their bit patterns (see [`as_f32`]).
    pub fn push_f32(&mut self, values: &[f32], shape: &[i64]) -> &mut Self {
        let bits: Vec<i64> = values.iter().map(|v| i64::from(v.to_bits() as i32)).collect();
        self.push(&bits, shape)
    }

    /// The arrays on `device`, in the order pushed. On CUDA the host buffer is pinned and the copy
    /// asynchronous; libtorch's pinned-memory pool keeps the buffer alive until the copy is done.
    pub fn send(self, device: Device) -> Result<Vec<Tensor>> {
        count(0, 1);
        let host = Tensor::f_from_slice(&self.data)?;
        let on_device = match device {
            Device::Cpu => host,
            _ => shim::pin_memory(&host)?
                .f_to_device_(device, Kind::Int64, true, false)
                .context("cannot copy a batch to the device")?,
        };
        let mut parts = Vec::with_capacity(self.shapes.len());
        let mut offset = 0;
        for shape in &self.shapes {
            let numel: i64 = shape.iter().product();
            parts.push(on_device.f_narrow(0, offset, numel)?.f_view(shape.as_slice())?);
            offset += numel;
        }
        Ok(parts)
    }
}

/// The f32 values of an array pushed with [`Upload::push_f32`].
pub fn as_f32(bits: &Tensor) -> Result<Tensor> {
    Ok(bits.f_to_kind(Kind::Int)?.f_view_dtype(Kind::Float)?)
}

/// Peak CUDA memory allocated by tensors since the start (or the last reset), in MiB; `None` on CPU.
pub fn peak_gpu_mib(device: Device) -> Option<f64> {
    let Device::Cuda(index) = device else { return None };
    match shim::cuda_peak_allocated(index) {
        Ok(bytes) => Some(bytes as f64 / (1 << 20) as f64),
        Err(e) => {
            log::debug!("{e:#}");
            None
        }
    }
}

/// `torch.cuda.empty_cache()` on a CUDA device (`torch_empty_cache_steps`): the caching allocator's
/// free blocks go back to the driver, which waits for the device. The CPU allocator keeps no cache.
pub fn empty_cache(device: Device) -> Result<()> {
    match device {
        Device::Cuda(_) => shim::cuda_empty_cache(),
        _ => Ok(()),
    }
}

/// The compute capability (major, minor) of CUDA device `index`, from the CUDA runtime libtorch
/// loaded (`cudaDeviceGetAttribute`); `None` when it cannot be asked.
pub fn cuda_capability(index: usize) -> Option<(i32, i32)> {
    type GetAttribute = unsafe extern "C" fn(*mut i32, i32, i32) -> i32;
    const MAJOR: i32 = 75; // cudaDevAttrComputeCapabilityMajor
    const MINOR: i32 = 76; // cudaDevAttrComputeCapabilityMinor

    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name; a non-null result is the CUDA
    // runtime's cudaDeviceGetAttribute, whose C signature is GetAttribute.
    let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"cudaDeviceGetAttribute".as_ptr()) };
    if symbol.is_null() {
        return None;
    }
    // SAFETY: see above; the symbol has this signature.
    let get: GetAttribute = unsafe { std::mem::transmute::<*mut libc::c_void, GetAttribute>(symbol) };
    let device = i32::try_from(index).ok()?;
    let (mut major, mut minor) = (0, 0);
    // SAFETY: out-pointers to live locals.
    let ok = unsafe { get(&mut major, MAJOR, device) == 0 && get(&mut minor, MINOR, device) == 0 };
    ok.then_some((major, minor))
}

/// Runs device work at a fault boundary: a libtorch failure, whether tch returned it or panicked
/// with it (its infallible API), becomes one error line prefixed by `what`; out-of-memory becomes
/// `oom_advice()` instead, which says what setting to change. CUDA reports an asynchronous kernel
/// fault (an illegal address, a device-side assert) at the next call that waits for the device,
/// which is a read ([`to_host`]) inside such a boundary.
pub fn guarded<T>(what: &str, oom_advice: impl FnOnce() -> String, work: impl FnOnce() -> Result<T>) -> Result<T> {
    let message = match crate::error::catch_panic(work) {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(e)) if !is_out_of_memory(&format!("{e:#}")) => return Err(e),
        Ok(Err(e)) => format!("{e:#}"),
        Err(message) => message,
    };
    if is_out_of_memory(&message) {
        log::debug!("{what}: {message}");
        anyhow::bail!("{}", oom_advice());
    }
    log::debug!("{what}: {message}");
    anyhow::bail!("{what}: libtorch error: {}", crate::error::first_line(&message))
}

/// libtorch's CUDA and CPU allocators' failure messages.
pub fn is_out_of_memory(message: &str) -> bool {
    message.contains("out of memory") || message.contains("can't allocate memory")
}

/// The run's numeric settings on `device`, refused (as config errors) where the device cannot do
/// them: the precision ([`amp::Precision::check`]), TF32 matmuls (`tf32`, CUDA only, as HF), and
/// deterministic algorithms (`full_determinism`, as HF's `enable_full_determinism`).
pub fn configure(device: Device, precision: amp::Precision, tf32: Option<bool>, deterministic: bool) -> Result<()> {
    precision.check(device)?;
    match (tf32, device) {
        (Some(true), Device::Cpu) => anyhow::bail!(
            "config key \"tf32\": TF32 is a mode of NVIDIA GPUs (Ampere or newer) and the run is on the CPU; \
             drop the key or run with --device cuda"
        ),
        (Some(true), Device::Cuda(index)) if cuda_capability(index).is_some_and(|(major, _)| major < 8) => {
            anyhow::bail!(
                "config key \"tf32\": cuda:{index} is older than Ampere (compute capability 8.0) and has no TF32"
            )
        }
        (Some(enabled), _) => shim::set_tf32(enabled)?,
        (None, _) => {}
    }
    if deterministic {
        // What cuBLAS needs for reproducible results (HF sets the same); read when CUDA starts.
        if std::env::var_os("CUBLAS_WORKSPACE_CONFIG").is_none() {
            std::env::set_var("CUBLAS_WORKSPACE_CONFIG", ":16:8");
        }
        shim::set_deterministic(true)?;
    }
    log::info!(
        "precision {}{}{}",
        precision.key(),
        if shim::tf32_enabled().unwrap_or(false) {
            ", TF32 matmuls"
        } else {
            ""
        },
        if deterministic {
            ", deterministic algorithms"
        } else {
            ""
        }
    );
    Ok(())
}
