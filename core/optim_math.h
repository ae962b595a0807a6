#pragma once
// The per-element rules of the fused optimizer updates (core/optim_kernels.h states
// them), written once for the CPU loop and the CUDA kernel: both read the stored
// values, compute in double and round once per value written back, so a CUDA step
// matches the CPU step to the last bit but for the compilers' FMA contraction.
// Plain C++ outside nvcc: no fmt, no Tensor.
#include <cmath>

#include "core/hd.h"

namespace tg {

struct SgdStep {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, first_step;
};

// bias_correction1/2 = 1 − β1ᵗ and 1 − β2ᵗ, computed once per step on the host.
struct AdamStep {
  double lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2;
  bool decoupled;
};

// buf is read and written only with momentum (without it, it may alias g).
template <class T>
TG_HD inline void sgd_element(const SgdStep& s, T& p, T g, T& buf) {
  double d = (double)g + s.weight_decay * (double)p;
  if (s.momentum != 0) {
    const double b = s.first_step ? d : s.momentum * (double)buf + (1 - s.dampening) * d;
    buf = (T)b;
    d = s.nesterov ? d + s.momentum * b : b;
  }
  p = (T)((double)p - s.lr * d);
}

template <class T>
TG_HD inline void adam_element(const AdamStep& s, T& p, T g, T& m, T& v) {
  double pi = p, gi = g;
  if (s.decoupled) {
    pi *= 1 - s.lr * s.weight_decay;
  } else {
    gi += s.weight_decay * pi;
  }
  const double mi = s.beta1 * (double)m + (1 - s.beta1) * gi;
  const double vi = s.beta2 * (double)v + (1 - s.beta2) * gi * gi;
  m = (T)mi;
  v = (T)vi;
  p = (T)(pi - s.lr * (mi / s.bias_correction1) / (::sqrt(vi / s.bias_correction2) + s.eps));
}

}  // namespace tg
