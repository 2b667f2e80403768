// The few libtorch calls that tch 0.24 has no binding for (see src/device/shim.rs, which is the only
// caller). Every function catches C++ exceptions and returns 0 on success or -1 with the message
// kept for kft_last_error(), so a libtorch error becomes a Rust error instead of an abort.
//
// Tensors cross the boundary as tch's handles, which are `at::Tensor*`.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/Tensor.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/ops/_amp_foreach_non_finite_check_and_unscale_ops.h>
#include <ATen/ops/_fused_adamw_ops.h>
#include <ATen/ops/_foreach_copy.h>
#include <ATen/ops/empty.h>
#include <ATen/record_function.h>
#include <c10/core/CachingDeviceAllocator.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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

// splitmix64's output function: a well-mixed 64-bit value for each counter value.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// What kft_op_count reads: every operator libtorch dispatches (nested ones included), on any thread.
std::atomic<int64_t> dispatched_ops{0};

std::unique_ptr<at::ObserverContext> count_op(const at::RecordFunction &) {
  dispatched_ops.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

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

// Starts counting the operators libtorch dispatches (forward, backward and optimizer, nested ones
// included, as torch.profiler's events are): the host's share of a step, which on a GPU bounds
// small batches. A RecordFunction callback, so only runs that ask pay for it.
int kft_op_count_start() {
  return guarded([&] {
    static std::once_flag once;
    std::call_once(once, [] {
      at::addGlobalCallback(at::RecordFunctionCallback(count_op)
                                .needsInputs(false)
                                .scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION}));
    });
  });
}

// The operators dispatched since kft_op_count_start (0 before).
int kft_op_count(int64_t *count) {
  return guarded([&] { *count = dispatched_ops.load(std::memory_order_relaxed); });
}

// optimizer.zero_grad(set_to_none=True) for `n` variables: their gradients are dropped, so the next
// backward hands each variable its freshly computed gradient instead of adding into a zeroed one
// (one kernel launch saved per variable).
int kft_clear_grads(const at::Tensor *const *vars, int64_t n) {
  return guarded([&] {
    for (int64_t i = 0; i < n; ++i) {
      vars[i]->mutable_grad().reset();
    }
  });
}

// Copies the gradients of `n` variables into `views` (the variables' places in the optimizer's flat
// gradient buffer) with one `_foreach_copy_` (a launch or two on CUDA instead of one per variable),
// then makes each view the variable's gradient, so later backwards add straight into the buffer. A
// variable without a gradient gets zeros.
int kft_take_grads(const at::Tensor *const *vars, const at::Tensor *const *views, int64_t n) {
  return guarded([&] {
    std::vector<at::Tensor> dst, src;
    dst.reserve(static_cast<size_t>(n));
    src.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const at::Tensor &grad = vars[i]->grad();
      if (!grad.defined()) {
        views[i]->zero_();
      } else if (!grad.is_same(*views[i])) {
        dst.push_back(*views[i]);
        src.push_back(grad);
      }
    }
    if (!dst.empty()) {
      at::_foreach_copy_(dst, src);
    }
    for (int64_t i = 0; i < n; ++i) {
      vars[i]->mutable_grad() = *views[i];
    }
  });
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

// torch.ops.mkldnn._is_mkldnn_bf16_supported() (fp16 = 0) or _is_mkldnn_fp16_supported() (fp16 = 1):
// whether oneDNN runs half-precision matmuls on this CPU (AVX-512 or newer). Without it CPU autocast
// falls back to ATen's generic kernels, many times slower than fp32.
int kft_cpu_half_matmul_supported(int fp16, int *supported) {
  return guarded([&] {
    const char *name = fp16 ? "mkldnn::_is_mkldnn_fp16_supported" : "mkldnn::_is_mkldnn_bf16_supported";
    auto op = c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<bool()>();
    *supported = op.call() ? 1 : 0;
  });
}

// One 64-bit number from the default CPU generator (libtorch's own CPU bernoulli kernel also takes
// its seed this way), so torch.manual_seed decides what is drawn from it.
int kft_cpu_generator_seed(uint64_t *seed) {
  return guarded([&] {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    *seed = at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
  });
}

// A CPU dropout mask shaped like `like` (same dtype, contiguous): each element is 0 with probability
// `p`, else 1/(1-p), so `x * mask` is dropout. libtorch's CPU dropout (bernoulli_ into an int
// buffer, a copy, a division, then the product) costs about 7 ns per element on 2 cores, a fifth of
// a small model's training step; this draws 32 random bits per element from a counter-based
// generator (splitmix64 of seed + index), so element i depends only on the seed and i, not on the
// thread count.
int kft_dropout_mask(const at::Tensor *like, double p, uint64_t seed, at::Tensor **out) {
  return guarded([&] {
    TORCH_CHECK(like->device().is_cpu(), "dropout mask: CPU tensors only");
    TORCH_CHECK(p >= 0.0 && p < 1.0, "dropout mask: p must be in [0, 1), got ", p);
    at::Tensor mask = at::empty(like->sizes(), like->options().memory_format(at::MemoryFormat::Contiguous));
    const int64_t n = mask.numel();
    // Dropped when the element's 32 random bits are below p * 2^32.
    const uint64_t threshold = static_cast<uint64_t>(std::llround(p * 4294967296.0));
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, mask.scalar_type(), "kft_dropout_mask", [&] {
      scalar_t *data = mask.data_ptr<scalar_t>();
      const scalar_t keep = static_cast<scalar_t>(1.0 / (1.0 - p));
      const scalar_t zero = static_cast<scalar_t>(0.0);
      // Each 64-bit draw serves two elements (its low and high halves).
      at::parallel_for(0, (n + 1) / 2, 4096, [&](int64_t begin, int64_t end) {
        for (int64_t j = begin; j < end; ++j) {
          const uint64_t r = mix64(seed + static_cast<uint64_t>(j) * 0x9E3779B97F4A7C15ULL);
          const int64_t i = 2 * j;
          data[i] = (r & 0xFFFFFFFFULL) < threshold ? zero : keep;
          if (i + 1 < n) {
            data[i + 1] = (r >> 32) < threshold ? zero : keep;
          }
        }
      });
    });
    *out = new at::Tensor(std::move(mask));
  });
}

}  // extern "C"
