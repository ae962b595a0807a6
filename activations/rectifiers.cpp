#include "activations/rectifiers.h"

#include <omp.h>

#include "activations/unary.h"

namespace tg {

using act::From;
using act::Grads;
using act::Needs;

// y = x (x > 0), s·x (x ≤ 0) = max(x, 0) + s·min(x, 0); dy/dx = 1 or s. For s ≥ 0,
// y > 0 ⇔ x > 0, so dy/dx can be read off the output.
Variable leaky_relu(const Variable& x, double s) {
  return act::unary_activation(
      "leaky_relu", x, s >= 0 ? From::Output : From::Input, [s](auto v) { return std::max(v, decltype(v)(0)) + decltype(v)(s) * std::min(v, decltype(v)(0)); },
      [s](auto g, auto v) {
        using T = decltype(g);
        return g * (T(s) + T(1 - s) * T(v > 0));  // 1 or s, branch-free so the loop vectorizes
      });
}

// y = x (x > 0), a_c·x (x ≤ 0) with c the channel of the element;
// ∂y/∂x = 1 or a_c; ∂L/∂a_c = Σ_{elements of channel c, x ≤ 0} g·x.
// One pass over contiguous x and g writes dx and accumulates per-thread channel sums.
Variable prelu(const Variable& x, const Variable& weight) {
  act::check_cpu_float(x.data(), "prelu");
  const int64_t nw = weight.numel();
  TG_CHECK(weight.dtype() == x.dtype(), "prelu", "weight dtype {} does not match input dtype {}",
           dtype_name(weight.dtype()), dtype_name(x.dtype()));
  TG_CHECK(nw == 1 || (x.dim() >= 2 && x.size(1) == nw), "prelu",
           "weight of shape {} needs 1 element or one per channel (dim 1) of the input of shape {}",
           shape_str(weight.shape()), shape_str(x.shape()));
  const Tensor xc = x.data().contiguous(), w = weight.data().contiguous();
  const int64_t inner = nw == 1 ? 1 : shape_numel(Shape(x.shape().begin() + 2, x.shape().end()));
  Tensor y = empty_like(xc);
  cpu::dispatch_float(xc.dtype(), "prelu", [&](auto zero) {
    using T = decltype(zero);
    const T *px = xc.data<T>(), *pw = w.data<T>();
    T* py = y.data<T>();
    const int64_t n = xc.numel();
    const int64_t rows = n / inner;
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const T a = pw[r % nw];
      for (int64_t i = r * inner; i < (r + 1) * inner; ++i) py[i] = px[i] > 0 ? px[i] : a * px[i];
    }
  });
  return record_activation("prelu", y, {x, weight}, {xc, w}, [inner, nw](const Tensor& g, const Needs& needs,
                                                                         const Grads& saved) {
    const Tensor gc = g.contiguous(), &xs = saved[0], &ws = saved[1];
    Tensor dx = needs[0] ? empty_like(xs) : Tensor(), dw = needs[1] ? zeros_like(ws) : Tensor();
    cpu::dispatch_float(xs.dtype(), "prelu_backward", [&](auto zero) {
      using T = decltype(zero);
      const T *px = xs.data<T>(), *pg = gc.data<T>(), *pw = ws.data<T>();
      T* pdx = needs[0] ? dx.data<T>() : nullptr;
      T* pdw = needs[1] ? dw.data<T>() : nullptr;
      const int64_t n = xs.numel(), rows = n / inner;
#pragma omp parallel if (n > cpu::kParallelGrain)
      {
        std::vector<double> acc(nw, 0.0);
#pragma omp for
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t c = r % nw;
          const T a = pw[c];
          double sum = 0;
          for (int64_t i = r * inner; i < (r + 1) * inner; ++i) {
            if (pdx) pdx[i] = px[i] > 0 ? pg[i] : a * pg[i];
            sum += px[i] > 0 ? 0.0 : (double)pg[i] * px[i];
          }
          acc[c] += sum;
        }
        if (pdw) {
#pragma omp critical
          for (int64_t c = 0; c < nw; ++c) pdw[c] += (T)acc[c];
        }
      }
    });
    return Grads{dx, dw};
  });
}

// y = x (x > 0), α(eˣ − 1) (x ≤ 0); dy/dx = 1 or α·eˣ = y + α. For α > 0 the sign of y
// is the sign of x, so the output is enough.
Variable elu(const Variable& x, double alpha) {
  if (alpha > 0)
    return act::unary_activation(
        "elu", x, From::Output, [alpha](auto v) { return v > 0 ? v : alpha * std::expm1(v); },
        [alpha](auto g, auto y) { return y > 0 ? g : g * (y + decltype(y)(alpha)); });
  return act::unary_activation(
      "elu", x, From::Input, [alpha](auto v) { return v > 0 ? v : alpha * std::expm1(v); },
      [alpha](auto g, auto v) { return v > 0 ? g : g * alpha * std::exp(v); });
}

// y = λx (x > 0), λα(eˣ − 1) (x ≤ 0); dy/dx = λ or λα·eˣ = y + λα (from the output).
static constexpr double la = kSeluScale * kSeluAlpha;
Variable selu(const Variable& x) {
  return act::unary_activation(
      "selu", x, From::Output, [](auto v) { return v > 0 ? kSeluScale * v : la * std::expm1(v); },
      [](auto g, auto y) { return y > 0 ? g * decltype(g)(kSeluScale) : g * (y + decltype(y)(la)); });
}

// y = x (x > 0), α(e^(x/α) − 1) (x ≤ 0); dy/dx = 1 or e^(x/α) = y/α + 1. For α > 0 the
// sign of y is the sign of x, so the output is enough.
Variable celu(const Variable& x, double alpha) {
  TG_CHECK(alpha != 0, "celu", "alpha must not be 0");
  if (alpha > 0)
    return act::unary_activation(
        "celu", x, From::Output, [alpha](auto v) { return v > 0 ? v : alpha * std::expm1(v / alpha); },
        [alpha](auto g, auto y) { return y > 0 ? g : g * (y / alpha + 1); });
  return act::unary_activation(
      "celu", x, From::Input, [alpha](auto v) { return v > 0 ? v : alpha * std::expm1(v / alpha); },
      [alpha](auto g, auto v) { return v > 0 ? g : g * std::exp(v / alpha); });
}

PReLU::PReLU(int64_t num_parameters, double init, DType dtype)
    : weight(register_parameter("weight", full({num_parameters}, init, dtype))) {
  TG_CHECK(num_parameters >= 1, "PReLU", "num_parameters must be at least 1, got {}", num_parameters);
}

CELU::CELU(double a) : alpha(a) { TG_CHECK(alpha != 0, "CELU", "alpha must not be 0"); }

}  // namespace tg
