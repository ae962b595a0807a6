// Pooling on the CPU: every (n, c) plane is independent, so the loops run in parallel
// over planes and the backward passes scatter within their own plane (no races).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cnn_kernels.h"
#include "core/cpu/loops.h"

namespace tg::cpu {
namespace {

// Window of output (oh, ow) clipped to the input: rows [h0, h1), columns [w0, w1).
struct Window {
  int64_t h0, h1, w0, w1;
};

Window window(const PoolGeometry& g, int64_t oh, int64_t ow) {
  const int64_t hs = oh * g.sh - g.ph, ws = ow * g.sw - g.pw;
  return {std::max<int64_t>(hs, 0), std::min(hs + g.KH, g.H), std::max<int64_t>(ws, 0), std::min(ws + g.KW, g.W)};
}

// Divisor of a window: the whole kernel when padding counts (windows never pass the
// padded border without ceil_mode), else the positions inside the input.
int64_t divisor(const PoolGeometry& g, const Window& w, bool count_include_pad) {
  return count_include_pad ? g.KH * g.KW : (w.h1 - w.h0) * (w.w1 - w.w0);
}

template <class F>
void for_planes(int64_t planes, int64_t work_per_plane, F f) {
  parallel_for(planes, planes > 1 && planes * work_per_plane >= kParallelGrain, [&](int64_t p) { f(p); });
}

// Max pooling's scan rule: v replaces the best so far when larger, or when it is the
// window's first NaN (NaN propagates, as torch; ties keep the first position).
template <class T>
inline bool replaces_max(T v, T best) {
  return v > best || (v != v && best == best);
}

}  // namespace

// y = max over the window, NaN propagating as torch; index = first position of the maximum.
void max_pool2d_forward(const Tensor& xt, const Tensor& yt, const Tensor& it, const PoolGeometry& g) {
  dispatch_float(xt.dtype(), "max_pool2d", [&](auto zero) {
    using T = decltype(zero);
    const T* x = xt.data<T>();
    T* y = yt.data<T>();
    int64_t* idx = it.data<int64_t>();
    const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
    const bool pairs = g.KH == 2 && g.KW == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0;
    for_planes(g.N * g.C, OHW * g.KH * g.KW, [&](int64_t p) {
      const T* xp = x + p * HW;
      if (pairs) {
        // 2×2 windows, stride 2, unpadded (the common case), without branches: the
        // general loop's scan order and rule.
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const T* r0 = xp + 2 * oh * g.W;
          const T* r1 = r0 + g.W;
          T* yo = y + p * OHW + oh * g.OW;
          int64_t* io = idx + p * OHW + oh * g.OW;
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            const T v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
            const int64_t at[4] = {0, 1, g.W, g.W + 1};
            T best = v[0];
            int64_t arg = 0;
            for (int k = 1; k < 4; ++k) {
              const bool take = replaces_max(v[k], best);
              best = take ? v[k] : best;
              arg = take ? at[k] : arg;
            }
            yo[ow] = best;
            io[ow] = 2 * oh * g.W + 2 * ow + arg;
          }
        }
        return;
      }
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const Window w = window(g, oh, ow);
          T best = -std::numeric_limits<T>::infinity();
          int64_t arg = w.h0 * g.W + w.w0;
          for (int64_t ih = w.h0; ih < w.h1; ++ih)
            for (int64_t iw = w.w0; iw < w.w1; ++iw) {
              const T v = xp[ih * g.W + iw];
              if (replaces_max(v, best)) {
                best = v;
                arg = ih * g.W + iw;
              }
            }
          y[p * OHW + oh * g.OW + ow] = best;
          idx[p * OHW + oh * g.OW + ow] = arg;
        }
    });
  });
}

// gx[index] += gy, plane by plane (gx arrives zeroed).
void max_pool2d_backward(const Tensor& gyt, const Tensor& it, const Tensor& gxt) {
  dispatch_float(gyt.dtype(), "max_pool2d_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* gy = gyt.data<T>();
    const int64_t* idx = it.data<int64_t>();
    T* gx = gxt.data<T>();
    const int64_t HW = gxt.size(2) * gxt.size(3), OHW = gyt.size(2) * gyt.size(3);
    // Checked before the parallel loop: an exception must not leave an OpenMP region.
    const auto bad = std::find_if(idx, idx + it.numel(), [HW](int64_t i) { return i < 0 || i >= HW; });
    TG_CHECK(bad == idx + it.numel(), "max_pool2d_backward", "index {} out of range for a plane of {} elements",
             bad == idx + it.numel() ? 0 : *bad, HW);
    for_planes(gyt.size(0) * gyt.size(1), OHW, [&](int64_t p) {
      for (int64_t q = 0; q < OHW; ++q) gx[p * HW + idx[p * OHW + q]] += gy[p * OHW + q];
    });
  });
}

// y = Σ window / divisor.
void avg_pool2d_forward(const Tensor& xt, const Tensor& yt, const PoolGeometry& g, bool count_include_pad) {
  dispatch_float(xt.dtype(), "avg_pool2d", [&](auto zero) {
    using T = decltype(zero);
    const T* x = xt.data<T>();
    T* y = yt.data<T>();
    const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
    for_planes(g.N * g.C, OHW * g.KH * g.KW, [&](int64_t p) {
      const T* xp = x + p * HW;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const Window w = window(g, oh, ow);
          T s = 0;
          for (int64_t ih = w.h0; ih < w.h1; ++ih)
            for (int64_t iw = w.w0; iw < w.w1; ++iw) s += xp[ih * g.W + iw];
          y[p * OHW + oh * g.OW + ow] = s / (T)divisor(g, w, count_include_pad);
        }
    });
  });
}

// gx[window] += gy / divisor.
void avg_pool2d_backward(const Tensor& gyt, const Tensor& gxt, const PoolGeometry& g, bool count_include_pad) {
  dispatch_float(gyt.dtype(), "avg_pool2d_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* gy = gyt.data<T>();
    T* gx = gxt.data<T>();
    const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
    for_planes(g.N * g.C, OHW * g.KH * g.KW, [&](int64_t p) {
      T* gp = gx + p * HW;
      std::fill(gp, gp + HW, T(0));
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const Window w = window(g, oh, ow);
          const T v = gy[p * OHW + oh * g.OW + ow] / (T)divisor(g, w, count_include_pad);
          for (int64_t ih = w.h0; ih < w.h1; ++ih)
            for (int64_t iw = w.w0; iw < w.w1; ++iw) gp[ih * g.W + iw] += v;
        }
    });
  });
}

namespace {
// Adaptive bin i of n over an input of size len: [⌊i·len/n⌋, ⌈(i+1)·len/n⌉).
int64_t bin_start(int64_t i, int64_t len, int64_t n) { return i * len / n; }
int64_t bin_end(int64_t i, int64_t len, int64_t n) { return ((i + 1) * len + n - 1) / n; }
}  // namespace

// y[i, j] = mean of x over bin i × bin j.
void adaptive_avg_pool2d_forward(const Tensor& xt, const Tensor& yt) {
  dispatch_float(xt.dtype(), "adaptive_avg_pool2d", [&](auto zero) {
    using T = decltype(zero);
    const T* x = xt.data<T>();
    T* y = yt.data<T>();
    const int64_t H = xt.size(2), W = xt.size(3), OH = yt.size(2), OW = yt.size(3);
    for_planes(xt.size(0) * xt.size(1), H * W, [&](int64_t p) {
      const T* xp = x + p * H * W;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t h0 = bin_start(oh, H, OH), h1 = bin_end(oh, H, OH);
          const int64_t w0 = bin_start(ow, W, OW), w1 = bin_end(ow, W, OW);
          T s = 0;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) s += xp[ih * W + iw];
          y[p * OH * OW + oh * OW + ow] = s / (T)((h1 - h0) * (w1 - w0));
        }
    });
  });
}

// gx[bin] += gy[i, j] / |bin|.
void adaptive_avg_pool2d_backward(const Tensor& gyt, const Tensor& gxt) {
  dispatch_float(gyt.dtype(), "adaptive_avg_pool2d_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* gy = gyt.data<T>();
    T* gx = gxt.data<T>();
    const int64_t H = gxt.size(2), W = gxt.size(3), OH = gyt.size(2), OW = gyt.size(3);
    for_planes(gxt.size(0) * gxt.size(1), H * W, [&](int64_t p) {
      T* gp = gx + p * H * W;
      std::fill(gp, gp + H * W, T(0));
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t h0 = bin_start(oh, H, OH), h1 = bin_end(oh, H, OH);
          const int64_t w0 = bin_start(ow, W, OW), w1 = bin_end(ow, W, OW);
          const T v = gy[p * OH * OW + oh * OW + ow] / (T)((h1 - h0) * (w1 - w0));
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) gp[ih * W + iw] += v;
        }
    });
  });
}

TG_REGISTER_KERNEL(max_pool2d_forward_stub, DeviceType::CPU, max_pool2d_forward);
TG_REGISTER_KERNEL(max_pool2d_backward_stub, DeviceType::CPU, max_pool2d_backward);
TG_REGISTER_KERNEL(avg_pool2d_forward_stub, DeviceType::CPU, avg_pool2d_forward);
TG_REGISTER_KERNEL(avg_pool2d_backward_stub, DeviceType::CPU, avg_pool2d_backward);
TG_REGISTER_KERNEL(adaptive_avg_pool2d_forward_stub, DeviceType::CPU, adaptive_avg_pool2d_forward);
TG_REGISTER_KERNEL(adaptive_avg_pool2d_backward_stub, DeviceType::CPU, adaptive_avg_pool2d_backward);

}  // namespace tg::cpu
