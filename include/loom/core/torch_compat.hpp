// The one place where Loom's code depends on the LibTorch version
// (docs/ARCHITECTURE.md, invariant 8). Loom builds against Debian's LibTorch 1.13 (CPU,
// CI) and against LibTorch 2.x (CUDA); everything that differs between them
// is wrapped here, so the rest of the code has no TORCH_VERSION_* test.
//
// What differs:
// - attention: 2.0 added the public at::scaled_dot_product_attention (fused
//   kernels, flash attention on CUDA); 1.13 has only a private variant, so
//   Loom computes attention explicitly there.
// - the gradient accumulator of a leaf tensor: a std::shared_ptr<Node> up to
//   2.11, a c10::intrusive_ptr<Node> in later versions.
// - the key an optimizer files a parameter's state under: its TensorImpl's
//   address as text ("0x55d0...") in 1.13, the pointer itself in 2.x (whose
//   optimizer.pt then names it in decimal).
// - autocast: 2.4 replaced the per-device functions (set_cpu_enabled,
//   set_autocast_gpu_dtype, ...) by ones that take a device type, and
//   deprecated the old ones (an error under -Werror).
#pragma once

#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>
#include <torch/version.h>

// Undefined at the end of this file: a version test belongs in this file.
#define LOOM_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||       \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace loom::torch_compat {

// Causal scaled dot-product attention of q, k, v [B, H, T, D] (any strides
// with a unit last stride), dropout_p applied to the attention weights.
// LibTorch 2.x runs its fused kernel; on 1.13 `explicit_attention()`, which
// must compute the same thing, is called instead.
template <class ExplicitAttention>
at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            double dropout_p, ExplicitAttention&& explicit_attention) {
#if LOOM_TORCH_AT_LEAST(2, 0)
  (void)explicit_attention;
  return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, dropout_p,
                                          /*is_causal=*/true);
#else
  (void)q, (void)k, (void)v, (void)dropout_p;
  return explicit_attention();
#endif
}

// The owning pointer to a leaf tensor's gradient accumulator node, whichever
// smart pointer this LibTorch returns; holding it keeps the node (and the
// hooks added to it) alive.
using GradAccumulator = decltype(torch::autograd::impl::grad_accumulator(
    std::declval<const torch::autograd::Variable&>()));

// The type of the keys of torch::optim::Optimizer::state().
using OptimizerStateKey =
    std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state().begin()->first)>;

namespace detail {
template <class Key>
Key optimizer_state_key(c10::TensorImpl* parameter) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;  // as 1.13's c10::guts::to_string writes it
    text << static_cast<const void*>(parameter);
    return text.str();
  } else {
    return parameter;
  }
}
}  // namespace detail

// Where optimizer.state() keeps `parameter`'s state.
inline OptimizerStateKey optimizer_state_key(const at::Tensor& parameter) {
  return detail::optimizer_state_key<OptimizerStateKey>(parameter.unsafeGetTensorImpl());
}

// Whether autocast is on for tensors of `device` (kCPU or kCUDA).
inline bool autocast_enabled(c10::DeviceType device) {
#if LOOM_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::is_enabled()
                                         : at::autocast::is_cpu_enabled();
#endif
}

inline void set_autocast_enabled(c10::DeviceType device, bool enabled) {
#if LOOM_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(device, enabled);
#else
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

// The reduced precision autocast runs eligible ops in on `device`.
inline at::ScalarType autocast_dtype(c10::DeviceType device) {
#if LOOM_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype()
                                         : at::autocast::get_autocast_cpu_dtype();
#endif
}

// On 1.13, CPU autocast accepts only kBFloat16 (anything else throws).
inline void set_autocast_dtype(c10::DeviceType device, at::ScalarType dtype) {
#if LOOM_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

// Autocast to `dtype` for tensors of `device` while the guard lives, as
// Python's `torch.autocast(device, dtype)` block does: the previous state
// comes back on destruction, and the outermost guard drops the cache of
// weights cast to `dtype` (they would go stale after an optimizer step).
class AutocastGuard {
 public:
  AutocastGuard(c10::DeviceType device, at::ScalarType dtype)
      : device_(device),
        previous_enabled_(autocast_enabled(device)),
        previous_dtype_(autocast_dtype(device)) {
    set_autocast_dtype(device, dtype);
    set_autocast_enabled(device, true);
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set_autocast_enabled(device_, previous_enabled_);
    set_autocast_dtype(device_, previous_dtype_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  c10::DeviceType device_;
  bool previous_enabled_;
  at::ScalarType previous_dtype_;
};

}  // namespace loom::torch_compat

#undef LOOM_TORCH_AT_LEAST
