//! `--device`: which libtorch device a run uses, and whether it is there.
use anyhow::{bail, Result};

use super::usage_error;

/// Parses a `--device` value: `cpu`, `cuda` (= `cuda:0`) or `cuda:N`.
pub fn parse_device(s: &str) -> Result<tch::Device> {
    let index = |n: &str| n.parse::<usize>().ok().map(tch::Device::Cuda);
    match s.trim() {
        "cpu" => Ok(tch::Device::Cpu),
        "cuda" => Ok(tch::Device::Cuda(0)),
        other => other.strip_prefix("cuda:").and_then(index).ok_or_else(|| {
            usage_error(format!(
                "invalid device {s:?}: expected cpu, cuda or cuda:N (N = GPU index, e.g. cuda:1)"
            ))
        }),
    }
}

/// The run's device: `--device` when given, else CPU if `no_cuda`, else CUDA when available.
pub fn resolve_device(arg: Option<&str>, no_cuda: bool) -> Result<tch::Device> {
    match arg {
        Some(s) => parse_device(s),
        None if no_cuda => Ok(tch::Device::Cpu),
        None => Ok(tch::Device::cuda_if_available()),
    }
}

/// Errors when a CUDA device was asked for but is not there; on CUDA, turns off cuDNN attention.
pub fn check_device(device: tch::Device) -> Result<()> {
    let tch::Device::Cuda(index) = device else {
        return Ok(());
    };
    if !tch::Cuda::is_available() {
        bail!("device cuda:{index}: CUDA is not available (no GPU, or libtorch without CUDA); use --device cpu");
    }
    let count = tch::Cuda::device_count();
    if i64::try_from(index).unwrap_or(i64::MAX) >= count {
        bail!("device cuda:{index}: only {count} CUDA device(s) found");
    }
    // cuDNN's attention builds a plan per input shape, and batches padded to their longest row
    // have a new shape almost every step; SDPA's memory-efficient kernel has no such cost.
    crate::device::shim::set_sdp_cudnn(false)
}
