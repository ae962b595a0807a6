#include "activations/basic.h"

#include <cmath>

#include "core/cpu/loops.h"

namespace tg {

using Grads = std::vector<Tensor>;
using Needs = std::vector<bool>;

// Applies f elementwise to a CPU float tensor into a new tensor.
template <class F>
static Tensor map(const Tensor& x, const char* op, F f) {
  TG_CHECK(x.device().is_cpu(), op, "device {} is not supported yet", x.device().str());
  Tensor out = empty_like(x);
  cpu::dispatch_float(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    cpu::map1<T, T>(out, x, [&](T v) { return (T)f(v); });
  });
  return out;
}

template <class F>
static Tensor map2(const Tensor& a, const Tensor& b, const char* op, F f) {
  Tensor out = empty_like(a);
  cpu::dispatch_float(a.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    cpu::map2<T, T, T>(out, a, b, [&](T u, T v) { return (T)f(u, v); });
  });
  return out;
}

// y = max(x, 0); dy/dx = [y > 0], computed from the output alone.
Variable relu(const Variable& x) {
  Tensor y = map(x.data(), "relu", [](auto v) { return v > 0 ? v : decltype(v)(0); });
  return record("relu", y, {x}, [y](const Tensor& g, const Needs&) {
    return Grads{map2(g, y, "relu_backward", [](auto gv, auto yv) { return yv > 0 ? gv : decltype(gv)(0); })};
  });
}

// y = tanh x; dy/dx = 1 − y².
Variable tanh(const Variable& x) {
  Tensor y = map(x.data(), "tanh", [](auto v) { return std::tanh(v); });
  return record("tanh", y, {x}, [y](const Tensor& g, const Needs&) {
    return Grads{map2(g, y, "tanh_backward", [](auto gv, auto yv) { return gv * (1 - yv * yv); })};
  });
}

// y = 1/(1 + e^−x); dy/dx = y(1 − y).
Variable sigmoid(const Variable& x) {
  Tensor y = map(x.data(), "sigmoid", [](auto v) { return 1 / (1 + std::exp(-v)); });
  return record("sigmoid", y, {x}, [y](const Tensor& g, const Needs&) {
    return Grads{map2(g, y, "sigmoid_backward", [](auto gv, auto yv) { return gv * yv * (1 - yv); })};
  });
}

// y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2)); dy/dx = Φ(x) + x·φ(x), φ the normal density.
Variable gelu(const Variable& x) {
  Tensor t = x.data();
  Tensor y = map(t, "gelu", [](auto v) { return v * 0.5 * (1 + std::erf(v * M_SQRT1_2)); });
  return record("gelu", y, {x}, [t](const Tensor& g, const Needs&) {
    return Grads{map2(g, t, "gelu_backward", [](auto gv, auto v) {
      const double cdf = 0.5 * (1 + std::erf(v * M_SQRT1_2));
      const double pdf = std::exp(-0.5 * v * v) * 0.3989422804014327;
      return gv * (cdf + v * pdf);
    })};
  });
}

}  // namespace tg
