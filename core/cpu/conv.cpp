// 2-D convolution on the CPU: im2col + GEMM (OpenBLAS or Eigen, through cpu::gemm).
//
// For one sample n and group g, with Cg = C/groups input and Og = O/groups output
// channels and CK = Cg·KH·KW, the column matrix cols[CK, OH·OW] holds in row
// (c·KH + i)·KW + j the input pixel each output position sees through tap (c, i, j)
// (zero in the padding). Then, with W_g the group's weights as a [Og, CK] matrix:
//   forward        y_g  = W_g · cols (+ bias)
//   input grad     dcols = W_gᵀ · gy_g, scattered back by col2im (adding overlaps)
//   weight grad    dW_g += gy_g · colsᵀ
// Output rows are processed in tiles so that one tile's columns stay in L2; the
// column buffers are per-thread and reused across calls. A 1×1, stride-1, unpadded
// convolution needs no im2col: cols is the input itself. 3×3 stride-1 convolutions with
// enough channels take the Winograd F(4×4, 3×3) path instead (core/cpu/winograd.h),
// a quarter of the multiply-adds; this file runs its blocks on the threads.
#include <algorithm>
#include <omp.h>
#include <vector>

#include "core/cnn_kernels.h"
#include "core/cpu/cpu_backend.h"
#include "core/cpu/loops.h"
#include "core/cpu/winograd.h"

namespace tg::cpu {
namespace {

// Budget for one tile's column matrix: a quarter of a core's 1 MiB L2.
constexpr int64_t kTileBytes = 256 * 1024;

// A per-thread buffer that grows to the largest size asked for and is then reused
// (OpenMP worker threads live across parallel regions). `slot` tells apart the two
// buffers the backward pass needs at once.
template <class T>
T* thread_buffer(int slot, int64_t n) {
  thread_local std::vector<T> bufs[2];
  std::vector<T>& b = bufs[slot];
  if ((int64_t)b.size() < n) b.resize(n);
  return b.data();
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct Plan {
  int64_t Cg, Og, CK, OHW, rows, tiles;
  bool direct;  // 1×1, stride 1, no padding: cols is the input
};

Plan make_plan(const ConvGeometry& g, size_t elem) {
  Plan p;
  p.Cg = g.C / g.groups;
  p.Og = g.O / g.groups;
  p.CK = p.Cg * g.KH * g.KW;
  p.OHW = g.OH * g.OW;
  p.direct = g.KH == 1 && g.KW == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
  const int64_t cols = std::max<int64_t>(1, kTileBytes / (int64_t)(elem * p.CK));
  p.rows = p.direct ? g.OH : std::clamp<int64_t>(cols / g.OW, 1, g.OH);
  p.tiles = ceil_div(g.OH, p.rows);
  return p;
}

// im2col (Scatter = false: cols = gather of x) and col2im (Scatter = true: x += scatter
// of cols) over output rows [oh0, oh1) of one (sample, group); x points at the group's
// first input channel, cols is [CK, (oh1 − oh0)·OW].
template <bool Scatter, class T>
void im2col(T* x, T* cols, const ConvGeometry& g, int64_t Cg, int64_t oh0, int64_t oh1) {
  const int64_t cnt = (oh1 - oh0) * g.OW;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t i = 0; i < g.KH; ++i)
      for (int64_t j = 0; j < g.KW; ++j) {
        T* col = cols + ((c * g.KH + i) * g.KW + j) * cnt;
        // Output column ow reads input column ow·sw + off, inside [0, W) for ow in [lo, hi).
        const int64_t off = j * g.dw - g.pw;
        const int64_t lo = std::min(g.OW, off >= 0 ? 0 : ceil_div(-off, g.sw));
        const int64_t hi = std::clamp<int64_t>(g.W - off > 0 ? ceil_div(g.W - off, g.sw) : 0, lo, g.OW);
        for (int64_t oh = oh0; oh < oh1; ++oh, col += g.OW) {
          const int64_t ih = oh * g.sh - g.ph + i * g.dh;
          if (ih < 0 || ih >= g.H) {
            if (!Scatter) std::fill(col, col + g.OW, T(0));
            continue;
          }
          T* src = x + (c * g.H + ih) * g.W;
          if (Scatter) {
            for (int64_t ow = lo; ow < hi; ++ow) src[ow * g.sw + off] += col[ow];
          } else {
            std::fill(col, col + lo, T(0));
            if (g.sw == 1) {
              std::copy(src + lo + off, src + hi + off, col + lo);
            } else {
              for (int64_t ow = lo; ow < hi; ++ow) col[ow] = src[ow * g.sw + off];
            }
            std::fill(col + hi, col + g.OW, T(0));
          }
        }
      }
}

// Runs body(item, thread) for item in [0, n): across OpenMP threads when there are at
// least as many items as threads, else serially so that GEMM can use the threads.
template <class F>
int parallel_items(int64_t n, F body) {
  const int nt = omp_get_max_threads();
  if (n >= nt && nt > 1 && !omp_in_parallel()) {
    // Static: each thread gets the same items on every call, so the per-thread partial
    // weight gradients (and thus training) are bit-reproducible at a given thread count.
    parallel_for(n, true, [&](int64_t k) { body(k, omp_get_thread_num()); });
    return nt;
  }
  const TeamDenormalScope denormals;  // the GEMM's threads
  for (int64_t k = 0; k < n; ++k) body(k, 0);
  return 1;
}

template <class T>
void forward_winograd(const T* x, const T* w, const T* b, T* y, const ConvGeometry& g) {
  const WinogradPlan p = winograd_plan(g, sizeof(T));
  std::vector<T> U(kWinoPos * g.O * g.C);
  winograd_weights(w, U.data(), g.O, g.C);
  parallel_items(g.N * p.blocks, [&](int64_t k, int) {
    const int64_t n = k / p.blocks;
    T* V = thread_buffer<T>(0, winograd_buffer(p, g.C));
    T* M = thread_buffer<T>(1, winograd_buffer(p, g.O));
    winograd_forward_block(x + n * g.C * g.H * g.W, U.data(), b, y + n * g.O * g.OH * g.OW, g, p, k % p.blocks, V, M);
  });
}

// gw = Σ over images of the Winograd weight gradient (per-thread partial sums in the
// transformed domain, transformed back once); gx per image.
template <class T>
void backward_winograd(const T* gy, const T* x, const T* w, T* gx, T* gw, const ConvGeometry& g) {
  const WinogradPlan p = winograd_plan(g, sizeof(T));
  const int64_t un = kWinoPos * g.O * g.C;
  std::vector<T> U(un);
  winograd_weights(w, U.data(), g.O, g.C);
  std::vector<T> dU_part(gw ? omp_get_max_threads() * un : 0, T(0));
  const int used = parallel_items(g.N, [&](int64_t n, int tid) {
    T* V = thread_buffer<T>(0, winograd_buffer(p, std::max(g.C, g.O)));
    T* Yb = thread_buffer<T>(1, winograd_buffer(p, g.O));
    winograd_backward_image(gy + n * g.O * g.OH * g.OW, x + n * g.C * g.H * g.W, U.data(),
                            gx ? gx + n * g.C * g.H * g.W : nullptr, gw ? dU_part.data() + tid * un : nullptr, g,
                            p, V, Yb);
  });
  if (!gw) return;
  for (int t = 1; t < used; ++t)
    for (int64_t e = 0; e < un; ++e) dU_part[e] += dU_part[t * un + e];
  winograd_weight_grad(dU_part.data(), gw, g.O, g.C);
}

template <class T>
void forward_typed(const Tensor& xt, const Tensor& wt, const Tensor& bt, const Tensor& yt, const ConvGeometry& g) {
  const Plan p = make_plan(g, sizeof(T));
  T* x = xt.data<T>();
  const T* w = wt.data<T>();
  const T* b = bt.defined() ? bt.data<T>() : nullptr;
  T* y = yt.data<T>();
  if (winograd_applies(g)) return forward_winograd(x, w, b, y, g);
  parallel_items(g.N * g.groups * p.tiles, [&](int64_t k, int) {
    const int64_t t = k % p.tiles, grp = (k / p.tiles) % g.groups, n = k / (p.tiles * g.groups);
    const int64_t oh0 = t * p.rows, oh1 = std::min(g.OH, oh0 + p.rows), cnt = (oh1 - oh0) * g.OW;
    T* xg = x + (n * g.C + grp * p.Cg) * g.H * g.W;
    T* yg = y + (n * g.O + grp * p.Og) * p.OHW + oh0 * g.OW;
    const T* cols = xg + oh0 * g.OW;
    int64_t ld = p.OHW;
    if (!p.direct) {
      T* buf = thread_buffer<T>(0, p.CK * cnt);
      im2col<false>(xg, buf, g, p.Cg, oh0, oh1);
      cols = buf;
      ld = cnt;
    }
    gemm<T>(false, false, p.Og, cnt, p.CK, T(1), w + grp * p.Og * p.CK, p.CK, cols, ld, T(0), yg, p.OHW);
    if (b)
      for (int64_t o = 0; o < p.Og; ++o) {
        const T bo = b[grp * p.Og + o];
        T* row = yg + o * p.OHW;
        for (int64_t q = 0; q < cnt; ++q) row[q] += bo;
      }
  });
}

// gb[o] = Σ_{n, pixels} gy[n, o], accumulated in double, one channel per thread.
template <class T>
void bias_grad(const T* gy, T* gb, const ConvGeometry& g) {
  const int64_t OHW = g.OH * g.OW;
  parallel_for(g.O, g.O >= 2 && g.N * g.O * OHW >= kParallelGrain && !omp_in_parallel(), [&](int64_t o) {
    double s = 0;
    for (int64_t n = 0; n < g.N; ++n) {
      const T* row = gy + (n * g.O + o) * OHW;
      s += sum_double(OHW, [&](int64_t q) { return row[q]; });
    }
    gb[o] = (T)s;
  });
}

template <class T>
void backward_typed(const Tensor& gyt, const Tensor& xt, const Tensor& wt, const Tensor& gxt, const Tensor& gwt,
                    const Tensor& gbt, const ConvGeometry& g) {
  const Plan p = make_plan(g, sizeof(T));
  T* gy = gyt.data<T>();
  T* x = xt.data<T>();
  const T* w = wt.data<T>();
  T* gx = gxt.defined() ? gxt.data<T>() : nullptr;
  if (gbt.defined()) bias_grad(gy, gbt.data<T>(), g);
  if (!gxt.defined() && !gwt.defined()) return;
  if (winograd_applies(g)) return backward_winograd(gy, x, w, gx, gwt.defined() ? gwt.data<T>() : nullptr, g);
  const int64_t wnum = wt.numel();
  const int nt = omp_get_max_threads();
  // Per-thread partial weight gradients, summed at the end.
  std::vector<T> gw_part(gwt.defined() ? nt * wnum : 0, T(0));
  const int used = parallel_items(g.N * g.groups, [&](int64_t k, int tid) {
    const int64_t grp = k % g.groups, n = k / g.groups;
    T* xg = x + (n * g.C + grp * p.Cg) * g.H * g.W;
    T* gxg = gx ? gx + (n * g.C + grp * p.Cg) * g.H * g.W : nullptr;
    const T* wg = w + grp * p.Og * p.CK;
    T* gyg = gy + (n * g.O + grp * p.Og) * p.OHW;
    if (gxg && !p.direct) std::fill(gxg, gxg + p.Cg * g.H * g.W, T(0));
    for (int64_t t = 0; t < p.tiles; ++t) {
      const int64_t oh0 = t * p.rows, oh1 = std::min(g.OH, oh0 + p.rows), cnt = (oh1 - oh0) * g.OW;
      T* gy_tile = gyg + oh0 * g.OW;
      if (!gw_part.empty()) {
        const T* cols = xg + oh0 * g.OW;
        int64_t ld = p.OHW;
        if (!p.direct) {
          T* buf = thread_buffer<T>(0, p.CK * cnt);
          im2col<false>(xg, buf, g, p.Cg, oh0, oh1);
          cols = buf;
          ld = cnt;
        }
        gemm<T>(false, true, p.Og, p.CK, cnt, T(1), gy_tile, p.OHW, cols, ld, T(1),
                gw_part.data() + tid * wnum + grp * p.Og * p.CK, p.CK);
      }
      if (gxg && p.direct) {
        gemm<T>(true, false, p.CK, cnt, p.Og, T(1), wg, p.CK, gy_tile, p.OHW, T(0), gxg + oh0 * g.OW, p.OHW);
      } else if (gxg) {
        T* dcols = thread_buffer<T>(1, p.CK * cnt);
        gemm<T>(true, false, p.CK, cnt, p.Og, T(1), wg, p.CK, gy_tile, p.OHW, T(0), dcols, cnt);
        im2col<true>(gxg, dcols, g, p.Cg, oh0, oh1);
      }
    }
  });
  if (gwt.defined()) {
    T* gw = gwt.data<T>();
    for (int64_t e = 0; e < wnum; ++e) {
      T s = 0;
      for (int t = 0; t < used; ++t) s += gw_part[t * wnum + e];
      gw[e] = s;
    }
  }
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const ConvGeometry& g) {
  dispatch_float(x.dtype(), "conv2d", [&](auto zero) { forward_typed<decltype(zero)>(x, w, bias, y, g); });
}

void conv2d_backward(const Tensor& gy, const Tensor& x, const Tensor& w, const Tensor& gx, const Tensor& gw,
                     const Tensor& gb, const ConvGeometry& g) {
  dispatch_float(x.dtype(), "conv2d_backward",
                 [&](auto zero) { backward_typed<decltype(zero)>(gy, x, w, gx, gw, gb, g); });
}

TG_REGISTER_KERNEL(conv2d_forward_stub, DeviceType::CPU, conv2d_forward);
TG_REGISTER_KERNEL(conv2d_backward_stub, DeviceType::CPU, conv2d_backward);

}  // namespace tg::cpu
