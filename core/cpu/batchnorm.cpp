// Batch normalization on the CPU. x is viewed as [N, C, L] (L = ∏ trailing dims);
// statistics are per channel, accumulated in double, and the loops run in parallel
// over channels (statistics, backward) or over (n, c) planes (apply).
#include "core/cnn_kernels.h"
#include "core/cpu/loops.h"

namespace tg::cpu {
namespace {

struct Dims {
  int64_t N, C, L;
};

Dims dims_of(const Tensor& x) { return {x.size(0), x.size(1), x.numel() / (x.size(0) * x.size(1))}; }

}  // namespace

// mean = Σx/M, var = Σ(x − mean)²/M (two passes, so large means do not cancel).
void batch_norm_stats(const Tensor& xt, const Tensor& mt, const Tensor& vt) {
  dispatch_float(xt.dtype(), "batch_norm", [&](auto zero) {
    using T = decltype(zero);
    const T* x = xt.data<T>();
    T* mean = mt.data<T>();
    T* var = vt.data<T>();
    const Dims d = dims_of(xt);
    const double M = (double)(d.N * d.L);
    parallel_for(d.C, d.C > 1 && xt.numel() >= kParallelGrain, [&](int64_t c) {
      double s = 0;
      for (int64_t n = 0; n < d.N; ++n) {
        const T* p = x + (n * d.C + c) * d.L;
        s += sum_double(d.L, [&](int64_t l) { return p[l]; });
      }
      const double m = s / M;
      double q = 0;
      for (int64_t n = 0; n < d.N; ++n) {
        const T* p = x + (n * d.C + c) * d.L;
        q += sum_double(d.L, [&](int64_t l) { return ((double)p[l] - m) * ((double)p[l] - m); });
      }
      mean[c] = (T)m;
      var[c] = (T)(q / M);
    });
  });
}

// y = x·a + b' with a = invstd·weight and b' = bias − mean·a.
void batch_norm_apply(const Tensor& xt, const Tensor& mt, const Tensor& st, const Tensor& wt, const Tensor& bt,
                      const Tensor& yt) {
  dispatch_float(xt.dtype(), "batch_norm", [&](auto zero) {
    using T = decltype(zero);
    const T* x = xt.data<T>();
    const T* mean = mt.data<T>();
    const T* invstd = st.data<T>();
    const T* w = wt.defined() ? wt.data<T>() : nullptr;
    const T* b = bt.defined() ? bt.data<T>() : nullptr;
    T* y = yt.data<T>();
    const Dims d = dims_of(xt);
    parallel_for(d.N * d.C, d.N * d.C > 1 && xt.numel() >= kParallelGrain, [&](int64_t p) {
      const int64_t c = p % d.C;
      const T a = invstd[c] * (w ? w[c] : T(1));
      const T shift = (b ? b[c] : T(0)) - mean[c] * a;
      const T* xp = x + p * d.L;
      T* yp = y + p * d.L;
      for (int64_t l = 0; l < d.L; ++l) yp[l] = xp[l] * a + shift;
    });
  });
}

// Per channel, with sg = Σ gy and sgx = Σ gy·(x − mean) over N and L:
//   gw = sgx·invstd, gb = sg,
//   gx = weight·invstd·(gy − sg/M − (x − mean)·invstd²·sgx/M) with batch statistics,
//   gx = weight·invstd·gy with running statistics.
void batch_norm_backward(const Tensor& gyt, const Tensor& xt, const Tensor& mt, const Tensor& st, const Tensor& wt,
                         bool batch_stats, const Tensor& gxt, const Tensor& gwt, const Tensor& gbt) {
  dispatch_float(xt.dtype(), "batch_norm_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* gy = gyt.data<T>();
    const T* x = xt.data<T>();
    const T* mean = mt.data<T>();
    const T* invstd = st.data<T>();
    const T* w = wt.defined() ? wt.data<T>() : nullptr;
    T* gx = gxt.defined() ? gxt.data<T>() : nullptr;
    T* gw = gwt.defined() ? gwt.data<T>() : nullptr;
    T* gb = gbt.defined() ? gbt.data<T>() : nullptr;
    const Dims d = dims_of(xt);
    const double M = (double)(d.N * d.L);
    parallel_for(d.C, d.C > 1 && xt.numel() >= kParallelGrain, [&](int64_t c) {
      const double m = mean[c], is = invstd[c];
      double sg = 0, sgx = 0;
      for (int64_t n = 0; n < d.N; ++n) {
        const T* xp = x + (n * d.C + c) * d.L;
        const T* gp = gy + (n * d.C + c) * d.L;
        sg += sum_double(d.L, [&](int64_t l) { return gp[l]; });
        sgx += sum_double(d.L, [&](int64_t l) { return (double)gp[l] * ((double)xp[l] - m); });
      }
      if (gw) gw[c] = (T)(sgx * is);
      if (gb) gb[c] = (T)sg;
      if (!gx) return;
      const double scale = (w ? (double)w[c] : 1.0) * is;
      const T k0 = (T)scale;
      const T k1 = batch_stats ? (T)(scale * sg / M) : T(0);
      const T k2 = batch_stats ? (T)(scale * is * is * sgx / M) : T(0);
      const T mc = (T)m;
      for (int64_t n = 0; n < d.N; ++n) {
        const T* xp = x + (n * d.C + c) * d.L;
        const T* gp = gy + (n * d.C + c) * d.L;
        T* op = gx + (n * d.C + c) * d.L;
        for (int64_t l = 0; l < d.L; ++l) op[l] = k0 * gp[l] - k1 - (xp[l] - mc) * k2;
      }
    });
  });
}

TG_REGISTER_KERNEL(batch_norm_stats_stub, DeviceType::CPU, batch_norm_stats);
TG_REGISTER_KERNEL(batch_norm_apply_stub, DeviceType::CPU, batch_norm_apply);
TG_REGISTER_KERNEL(batch_norm_backward_stub, DeviceType::CPU, batch_norm_backward);

}  // namespace tg::cpu
