// The few libtorch calls that tch 0.24 has no binding for (see src/device/shim.rs, which is the only
// caller). Every function catches C++ exceptions and returns 0 on success or -1 with the message
// kept for kft_last_error(), so a libtorch error becomes a Rust error instead of an abort.
//
// Tensors cross the boundary as tch's handles, which are `at::Tensor*`.
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/_amp_foreach_non_finite_check_and_unscale_ops.h>
#include <ATen/ops/_fused_adamw_ops.h>
#include <c10/core/CachingDeviceAllocator.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

namespace {

thread_local std::string last_error;

template <typename F>
int guarded(F &&f) {
  try {
    f();
    return 0;
  } catch (const std::exception &e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown C++ exception";
  }
  return -1;
}

std::optional<at::Tensor> optional_tensor(const at::Tensor *t) {
  return t == nullptr ? std::nullopt : std::optional<at::Tensor>(*t);
}

at::DeviceType device_type(int cuda) { return cuda ? at::kCUDA : at::kCPU; }

}  // namespace

extern "C" {

// The message of the last failed call on this thread.
const char *kft_last_error() { return last_error.c_str(); }

// torch.optim.AdamW(fused=True)'s kernel on one parameter buffer: `_fused_adamw_` with one tensor
// per list. `step` is the float step count, already incremented by the caller (as torch does).
// `grad_scale` divides the gradients first; a non-zero `found_inf` skips the update. Both may be null.
int kft_fused_adamw(at::Tensor *param, at::Tensor *grad, at::Tensor *exp_avg, at::Tensor *exp_avg_sq,
                    at::Tensor *step, double lr, double beta1, double beta2, double weight_decay, double eps,
                    at::Tensor *grad_scale, at::Tensor *found_inf) {
  return guarded([&] {
    at::_ops::_fused_adamw_::call({*param}, {*grad}, {*exp_avg}, {*exp_avg_sq}, {}, {*step}, lr, beta1, beta2,
                                  weight_decay, eps, /*amsgrad=*/false, /*maximize=*/false,
                                  optional_tensor(grad_scale), optional_tensor(found_inf));
  });
}

// torch.amp.GradScaler.unscale_'s kernel: multiplies `grad` by `inv_scale` and sets `found_inf` to
// 1 when it holds an infinity or NaN.
int kft_amp_unscale(at::Tensor *grad, at::Tensor *found_inf, at::Tensor *inv_scale) {
  return guarded([&] { at::_ops::_amp_foreach_non_finite_check_and_unscale_::call({*grad}, *found_inf, *inv_scale); });
}

// Enters an autocast region on CPU (cuda = 0) or CUDA (cuda = 1) with the given ScalarType,
// returning the previous state for kft_autocast_exit (tch's autocast is CUDA-only and fp16-only).
int kft_autocast_enter(int cuda, int8_t dtype, int *prev_enabled, int8_t *prev_dtype) {
  return guarded([&] {
    auto type = device_type(cuda);
    *prev_enabled = at::autocast::is_autocast_enabled(type);
    *prev_dtype = static_cast<int8_t>(at::autocast::get_autocast_dtype(type));
    at::autocast::set_autocast_dtype(type, static_cast<at::ScalarType>(dtype));
    at::autocast::set_autocast_enabled(type, true);
    at::autocast::increment_nesting();
  });
}

// Leaves the region kft_autocast_enter opened, restoring the previous state; the cast cache is
// cleared when the outermost region closes (as torch.autocast.__exit__ does).
int kft_autocast_exit(int cuda, int prev_enabled, int8_t prev_dtype) {
  return guarded([&] {
    auto type = device_type(cuda);
    if (at::autocast::decrement_nesting() == 0) {
      at::autocast::clear_cache();
    }
    at::autocast::set_autocast_enabled(type, prev_enabled != 0);
    at::autocast::set_autocast_dtype(type, static_cast<at::ScalarType>(prev_dtype));
  });
}

// Whether autocast is on for CPU (cuda = 0) or CUDA (cuda = 1), and its dtype.
int kft_autocast_state(int cuda, int *enabled, int8_t *dtype) {
  return guarded([&] {
    auto type = device_type(cuda);
    *enabled = at::autocast::is_autocast_enabled(type);
    *dtype = static_cast<int8_t>(at::autocast::get_autocast_dtype(type));
  });
}

// TF32 for float32 matmuls and convolutions (torch.backends.cuda.matmul.allow_tf32,
// torch.backends.cudnn.allow_tf32, torch.set_float32_matmul_precision("high"/"highest")).
int kft_set_tf32(int enabled) {
  return guarded([&] {
    auto &ctx = at::globalContext();
    ctx.setAllowTF32CuBLAS(enabled != 0);
    ctx.setAllowTF32CuDNN(enabled != 0);
    ctx.setFloat32MatmulPrecision(enabled ? "high" : "highest");
  });
}

// Whether TF32 matmuls are on (for tests and the start-up log).
int kft_tf32_enabled(int *enabled) {
  return guarded([&] { *enabled = at::globalContext().allowTF32CuBLAS(); });
}

// torch.use_deterministic_algorithms(enabled, warn_only=False).
int kft_set_deterministic(int enabled) {
  return guarded([&] { at::globalContext().setDeterministicAlgorithms(enabled != 0, false); });
}

// torch.backends.cuda.enable_cudnn_sdp(enabled). cuDNN's attention builds an execution plan per
// input shape: with batches padded to their longest row every new length costs a plan build
// (hundreds of milliseconds), which made bf16/fp16 training 2-4x slower than fp32 on an H200.
int kft_set_sdp_cudnn(int enabled) {
  return guarded([&] { at::globalContext().setSDPUseCuDNN(enabled != 0); });
}

// `src.pin_memory()` as a new tensor in *out (tch's binding passes a device, which libtorch 2.11
// deprecates with a warning on every call).
int kft_pin_memory(const at::Tensor *src, at::Tensor **out) {
  return guarded([&] { *out = new at::Tensor(src->pin_memory()); });
}

// torch.cuda.max_memory_allocated(device), in bytes.
int kft_cuda_peak_allocated(int8_t device, int64_t *bytes) {
  return guarded([&] {
    auto stats = c10::getDeviceAllocator(at::kCUDA)->getDeviceStats(device);
    *bytes = stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
  });
}

// torch.cuda.empty_cache(): returns the caching allocator's free blocks to the driver.
int kft_cuda_empty_cache() {
  return guarded([&] { c10::getDeviceAllocator(at::kCUDA)->emptyCache(); });
}

}  // extern "C"
