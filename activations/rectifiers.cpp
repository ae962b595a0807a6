#include "activations/rectifiers.h"

#include <omp.h>

#include "activations/kernels.h"
#include "activations/pointwise_rectifiers.h"
#include "activations/unary.h"

namespace tg {

using act::From;
using act::Grads;
using act::Needs;

Variable leaky_relu(const Variable& x, double s) {
  return act::unary_activation("leaky_relu", x, s >= 0 ? From::Output : From::Input, act::LeakyRelu{s});
}

// PReLU over contiguous x and slopes w: rows of `inner` elements share a slope (row r
// has channel r % nw), each row one packet loop. On the CPU the backward is one pass over
// x and g that writes dx and accumulates per-thread channel sums: packets of terms summed
// per block of kBlock elements, each block's lanes then added in double, in the same pass. One shared slope
// (nw = 1, inner = 1) runs in rows of kSharedRow elements.
static constexpr int64_t kSharedRow = 4096;
static Tensor prelu_forward(const Tensor& xc, const Tensor& w, int64_t inner) {
  Tensor y = empty_like(xc);
  cpu::dispatch_float(xc.dtype(), "prelu", [&](auto zero) {
    using T = decltype(zero);
    using V = cpu::Vec<T>;
    const T *px = xc.data<T>(), *pw = w.data<T>();
    T* py = y.data<T>();
    const int64_t n = xc.numel(), nw = w.numel(), row = nw == 1 ? kSharedRow : inner;
    const int64_t rows = row == 0 ? 0 : (n + row - 1) / row;  // row = 0: empty x
    const bool stream = (int64_t)y.nbytes() >= cpu::kStreamBytes;
    cpu::parallel_for(rows, n > cpu::kParallelGrain, [&](int64_t r) {
      const V a(pw[r % nw]);
      const T* x = px + r * row;
      cpu::packet_run<T>(std::min(row, n - r * row), reinterpret_cast<char*>(py + r * row), sizeof(T), stream, [&](int64_t i, int k) {
        return act::Prelu::f(V::load(reinterpret_cast<const char*>(x + i), sizeof(T), k), a);
      });
    });
  });
  return y;
}

static Grads prelu_backward(const Tensor& g, const Tensor& xs, const Tensor& ws, int64_t inner, const Needs& needs) {
  const Tensor gc = g.contiguous();
  Tensor dx = needs[0] ? empty_like(xs) : Tensor(), dw = needs[1] ? zeros_like(ws) : Tensor();
  cpu::dispatch_float(xs.dtype(), "prelu_backward", [&](auto zero) {
    using T = decltype(zero);
    using V = cpu::Vec<T>;
    constexpr int64_t kBlock = 16 * V::kLanes;
    const T *px = xs.data<T>(), *pg = gc.data<T>(), *pw = ws.data<T>();
    T* pdx = needs[0] ? dx.data<T>() : nullptr;
    T* pdw = needs[1] ? dw.data<T>() : nullptr;
    const int64_t n = xs.numel(), nw = ws.numel(), row = nw == 1 ? kSharedRow : inner;
    const int64_t rows = row == 0 ? 0 : (n + row - 1) / row;
    const bool stream = needs[0] && (int64_t)dx.nbytes() >= cpu::kStreamBytes;
    const auto at = [](const T* p, int64_t i, int k) { return V::load(reinterpret_cast<const char*>(p + i), sizeof(T), k); };
#pragma omp parallel if (n > cpu::kParallelGrain)
    {
      const DenormalScope denormals;
      std::vector<double> acc(nw, 0.0);
#pragma omp for
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t c = r % nw, base = r * row, len = std::min(row, n - base);
        const V a(pw[c]);
        // One pass over the row: each packet's dx is stored and its slope terms added to
        // `part`, which is emptied into the double sum every kBlock elements.
        double sum = 0;
        V part(T(0));
        int64_t in_part = 0;
        const auto terms = [&](V gv, V xv) {
          if (!pdw) return;
          part = part + act::Prelu::da(gv, xv);  // lanes past a ragged end are 0
          if ((in_part += V::kLanes) < kBlock) return;
          for (int j = 0; j < V::kLanes; ++j) sum += (double)part.v[j];
          part = V(T(0));
          in_part = 0;
        };
        if (pdx) {
          cpu::packet_run<T>(len, reinterpret_cast<char*>(pdx + base), sizeof(T), stream, [&](int64_t i, int k) {
            const V gv = at(pg, base + i, k), xv = at(px, base + i, k);
            terms(gv, xv);
            return act::Prelu::dx(gv, xv, a);
          });
        } else {
          for (int64_t i = 0; i < len; i += V::kLanes) {
            const int k = (int)std::min<int64_t>(V::kLanes, len - i);
            terms(at(pg, base + i, k), at(px, base + i, k));
          }
        }
        if (!pdw) continue;
        for (int j = 0; j < V::kLanes; ++j) sum += (double)part.v[j];
        acc[c] += sum;
      }
      if (pdw) {
#pragma omp critical
        for (int64_t c = 0; c < nw; ++c) pdw[c] += (T)acc[c];
      }
    }
  });
  return Grads{dx, dw};
}

constinit DispatchStub<Tensor (*)(const Tensor&, const Tensor&, int64_t)> act::prelu_forward_stub;
constinit DispatchStub<Grads (*)(const Tensor&, const Tensor&, const Tensor&, int64_t, const Needs&)>
    act::prelu_backward_stub;
TG_REGISTER_KERNEL(act::prelu_forward_stub, DeviceType::CPU, prelu_forward);
TG_REGISTER_KERNEL(act::prelu_backward_stub, DeviceType::CPU, prelu_backward);

Variable prelu(const Variable& x, const Variable& weight) {
  act::check_float(x.data(), "prelu");
  const int64_t nw = weight.numel();
  TG_CHECK(weight.dtype() == x.dtype(), "prelu", "weight dtype {} does not match input dtype {}",
           dtype_name(weight.dtype()), dtype_name(x.dtype()));
  TG_CHECK(weight.data().device() == x.data().device(), "prelu", "weight on {} but input on {}",
           weight.data().device().str(), x.data().device().str());
  TG_CHECK(nw == 1 || (x.dim() >= 2 && x.size(1) == nw), "prelu",
           "weight of shape {} needs 1 element or one per channel (dim 1) of the input of shape {}",
           shape_str(weight.shape()), shape_str(x.shape()));
  const Tensor xc = x.data().contiguous(), w = weight.data().contiguous();
  const int64_t inner = nw == 1 ? 1 : shape_numel(Shape(x.shape().begin() + 2, x.shape().end()));
  return record_activation("prelu", act::prelu_forward_stub(xc.device(), "prelu", xc, w, inner), {x, weight}, {xc, w},
                           [inner](const Tensor& g, const Needs& needs, const Grads& saved) {
                             return act::prelu_backward_stub(saved[0].device(), "prelu_backward", g, saved[0], saved[1], inner, needs);
                           });
}

Variable elu(const Variable& x, double alpha) {
  if (alpha > 0) return act::unary_activation("elu", x, From::Output, act::EluFromOutput{{alpha}});
  return act::unary_activation("elu", x, From::Input, act::Elu{alpha});
}

Variable selu(const Variable& x) { return act::unary_activation("selu", x, From::Output, act::Selu{}); }

Variable celu(const Variable& x, double alpha) {
  TG_CHECK(alpha != 0, "celu", "alpha must not be 0");
  if (alpha > 0) return act::unary_activation("celu", x, From::Output, act::CeluFromOutput{{alpha}});
  return act::unary_activation("celu", x, From::Input, act::Celu{alpha});
}

PReLU::PReLU(int64_t num_parameters, double init, DType dtype)
    : weight(register_parameter("weight", full({num_parameters}, init, dtype))) {
  TG_CHECK(num_parameters >= 1, "PReLU", "num_parameters must be at least 1, got {}", num_parameters);
}

CELU::CELU(double a) : alpha(a) { TG_CHECK(alpha != 0, "CELU", "alpha must not be 0"); }

}  // namespace tg
