// Winograd F(4×4, 3×3): the transforms and the per-block GEMMs (see winograd.h).
#include "core/cpu/winograd.h"

#include <algorithm>
#include <immintrin.h>
#include <type_traits>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/simd.h"

namespace tg::cpu {
namespace {

// The 1-D transforms of F(4, 3) (Lavin & Gray's matrices for the points 0, ±1, ±2, ∞),
// written out so that no multiply by 0 or 1 is left; P is a scalar or a packet.
// Bᵀ d: data (6) → Winograd domain (6).
template <class P>
inline void bt(const P* d, P* r) {
  r[0] = P(4) * d[0] - P(5) * d[2] + d[4];
  r[1] = d[3] + d[4] - P(4) * (d[1] + d[2]);
  r[2] = d[4] - d[3] + P(4) * (d[1] - d[2]);
  r[3] = d[4] - d[2] + P(2) * (d[3] - d[1]);
  r[4] = d[4] - d[2] - P(2) * (d[3] - d[1]);
  r[5] = P(4) * d[1] - P(5) * d[3] + d[5];
}
// B z, the adjoint of bt: Winograd domain (6) → data (6).
template <class P>
inline void b(const P* z, P* r) {
  r[0] = P(4) * z[0];
  r[1] = P(4) * (z[2] - z[1]) + P(2) * (z[4] - z[3]) + P(4) * z[5];
  r[2] = -P(5) * z[0] - P(4) * (z[1] + z[2]) - z[3] - z[4];
  r[3] = z[1] - z[2] + P(2) * (z[3] - z[4]) - P(5) * z[5];
  r[4] = z[0] + z[1] + z[2] + z[3] + z[4];
  r[5] = z[5];
}
// Aᵀ m: Winograd domain (6) → output (4).
template <class P>
inline void at(const P* m, P* r) {
  const P s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
  r[0] = m[0] + s12 + s34;
  r[1] = d12 + P(2) * d34;
  r[2] = s12 + P(4) * s34;
  r[3] = d12 + P(8) * d34 + m[5];
}
// A q, the adjoint of at: output gradient (4) → Winograd domain (6).
template <class P>
inline void a(const P* q, P* r) {
  const P s02 = q[0] + q[2], s13 = q[1] + q[3], f02 = q[0] + P(4) * q[2], f13 = P(2) * q[1] + P(8) * q[3];
  r[0] = q[0];
  r[1] = s02 + s13;
  r[2] = s02 - s13;
  r[3] = f02 + f13;
  r[4] = f02 - f13;
  r[5] = q[3];
}
// G g: kernel (3) → Winograd domain (6).
template <class P>
inline void gk(const P* g, P* r) {
  r[0] = g[0] / P(4);
  r[1] = -(g[0] + g[1] + g[2]) / P(6);
  r[2] = -(g[0] - g[1] + g[2]) / P(6);
  r[3] = g[0] / P(24) + g[1] / P(12) + g[2] / P(6);
  r[4] = g[0] / P(24) - g[1] / P(12) + g[2] / P(6);
  r[5] = g[2];
}
// Gᵀ s, the adjoint of gk: Winograd domain (6) → kernel (3).
template <class P>
inline void gkt(const P* s, P* r) {
  r[0] = s[0] / P(4) - (s[1] + s[2]) / P(6) + (s[3] + s[4]) / P(24);
  r[1] = (s[2] - s[1]) / P(6) + (s[3] - s[4]) / P(12);
  r[2] = (s[3] + s[4] - s[1] - s[2]) / P(6) + s[5];
}

// The 2-D transform X · in · Yᵀ of an R×C array by the 1-D transforms f (rows of length
// R → RO) and h (C → CO): f down each column, then h along each row.
template <int R, int C, int RO, int CO, class P, class F, class H>
inline void transform2d(const P (&in)[R][C], P (&out)[RO][CO], F f, H h) {
  P mid[RO][C];
  for (int j = 0; j < C; ++j) {
    P col[R], res[RO];
    for (int i = 0; i < R; ++i) col[i] = in[i][j];
    f(col, res);
    for (int i = 0; i < RO; ++i) mid[i][j] = res[i];
  }
  for (int i = 0; i < RO; ++i) h(mid[i], out[i]);
}

// Where tile t's window starts: its output tile's origin minus (dh, dw); the input
// patch's with the padding, (ph, pw), the output tile's with (0, 0).
struct TileOrigin {
  int64_t h, w;
};
inline TileOrigin tile_origin(const WinogradPlan& p, int64_t t, int64_t dh, int64_t dw) {
  return {(t / p.TW) * kWinoTile - dh, (t % p.TW) * kWinoTile - dw};
}

constexpr auto kBt = [](const auto* d, auto* r) { bt(d, r); };
constexpr auto kB = [](const auto* d, auto* r) { b(d, r); };
constexpr auto kAt = [](const auto* d, auto* r) { at(d, r); };
constexpr auto kA = [](const auto* d, auto* r) { a(d, r); };

// tile_origin for the eight tiles t0, …, t0 + 7, one per lane.
struct LaneOrigins {
  __m256i h, w;
};
inline LaneOrigins lane_origins(const WinogradPlan& p, int64_t t0, int64_t dh, int64_t dw) {
  const __m256i t = _mm256_add_epi32(_mm256_set1_epi32((int)t0), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  // t / TW by float division: exact below 2^22 tiles (winograd_applies asks no more).
  const __m256i th = _mm256_cvttps_epi32(_mm256_div_ps(_mm256_add_ps(_mm256_cvtepi32_ps(t), _mm256_set1_ps(0.5f)),
                                                       _mm256_set1_ps((float)p.TW)));
  const __m256i tw = _mm256_sub_epi32(t, _mm256_mullo_epi32(th, _mm256_set1_epi32((int)p.TW)));
  return {_mm256_sub_epi32(_mm256_slli_epi32(th, 2), _mm256_set1_epi32((int)dh)),
          _mm256_sub_epi32(_mm256_slli_epi32(tw, 2), _mm256_set1_epi32((int)dw))};
}
// Lanes whose v lies in [0, n).
inline __m256i in_range(__m256i v, int64_t n) {
  return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), v),
                             _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), v));
}

// The R×R window of an H×W plane at each lane's tile_origin(p, t0 + l, dh, dw), zero
// outside the plane and for lanes of tiles past the last: float32 packets by masked AVX2
// gathers, float64 lane by lane.
template <int R, class T>
void gather_windows(const T* plane, int64_t H, int64_t W, const WinogradPlan& p, int64_t t0, int64_t dh, int64_t dw,
                    Vec<T> (&d)[R][R]) {
  using P = Vec<T>;
  constexpr int L = P::kLanes;
  if constexpr (std::is_same_v<T, float>) {
    const LaneOrigins o = lane_origins(p, t0, dh, dw);
    const __m256i live = P::first_lanes((int)std::min<int64_t>(L, p.tiles - t0));
    __m256i cols[R];
    for (int j = 0; j < R; ++j) cols[j] = in_range(_mm256_add_epi32(o.w, _mm256_set1_epi32(j)), W);
    for (int i = 0; i < R; ++i) {
      const __m256i ih = _mm256_add_epi32(o.h, _mm256_set1_epi32(i));
      const __m256i rows = _mm256_and_si256(live, in_range(ih, H));
      const __m256i base = _mm256_add_epi32(_mm256_mullo_epi32(ih, _mm256_set1_epi32((int)W)), o.w);
      for (int j = 0; j < R; ++j) {
        const __m256 mask = _mm256_castsi256_ps(_mm256_and_si256(rows, cols[j]));
        d[i][j] = P(_mm256_mask_i32gather_ps(_mm256_setzero_ps(), plane, _mm256_add_epi32(base, _mm256_set1_epi32(j)),
                                             mask, 4));
      }
    }
  } else {
    alignas(32) T win[R][R][L];
    for (int l = 0; l < L; ++l) {
      const int64_t t = t0 + l;
      const TileOrigin o = tile_origin(p, t, dh, dw);
      for (int i = 0; i < R; ++i)
        for (int j = 0; j < R; ++j) {
          const int64_t ih = o.h + i, iw = o.w + j;
          win[i][j][l] = t < p.tiles && ih >= 0 && ih < H && iw >= 0 && iw < W ? plane[ih * W + iw] : T(0);
        }
    }
    for (int i = 0; i < R; ++i)
      for (int j = 0; j < R; ++j) d[i][j] = P::load(reinterpret_cast<const char*>(win[i][j]), sizeof(T), L);
  }
}

// The 36 packets of one channel's tiles [k, k + L) in a transformed buffer laid out
// [position][channel][tile], positions ld elements apart (src/dst at position 0).
template <class T>
void load_positions(const T* src, int64_t ld, Vec<T> (&m)[kWinoPatch][kWinoPatch]) {
  for (int i = 0; i < kWinoPatch; ++i)
    for (int j = 0; j < kWinoPatch; ++j)
      m[i][j] = Vec<T>::load(reinterpret_cast<const char*>(src + (i * kWinoPatch + j) * ld), sizeof(T), Vec<T>::kLanes);
}
template <class T>
void store_positions(const Vec<T> (&m)[kWinoPatch][kWinoPatch], T* dst, int64_t ld) {
  for (int i = 0; i < kWinoPatch; ++i)
    for (int j = 0; j < kWinoPatch; ++j)
      m[i][j].store(reinterpret_cast<char*>(dst + (i * kWinoPatch + j) * ld), sizeof(T), Vec<T>::kLanes);
}

// The inverse of a packet's transform: the 36 packets of one channel's tiles
// [t, t + L) (src, positions ld apart, as load_positions) taken by the 2-D transform f
// to R×R windows, plus bias, then each live tile's window put into the H×W plane at
// tile_origin(p, t + l, dh, dw), clipped to the plane: written, or added (Add: the
// overlapping input-gradient patches).
template <int R, bool Add, class T, class F>
void untransform_packet(const T* src, int64_t ld, F f, T bias, T* plane, int64_t H, int64_t W, const WinogradPlan& p,
                        int64_t t, int64_t dh, int64_t dw) {
  using P = Vec<T>;
  constexpr int L = P::kLanes;
  P m[kWinoPatch][kWinoPatch], y[R][R];
  load_positions(src, ld, m);
  transform2d(m, y, f, f);
  alignas(32) T win[R][R][L];
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < R; ++j) (y[i][j] + P(bias)).store(reinterpret_cast<char*>(win[i][j]), sizeof(T), L);
  for (int l = 0; l < L && t + l < p.tiles; ++l) {
    const TileOrigin o = tile_origin(p, t + l, dh, dw);
    for (int i = 0; i < R; ++i) {
      const int64_t r = o.h + i;
      if (r < 0 || r >= H) continue;
      T* row = plane + r * W;
      for (int j = 0; j < R; ++j) {
        const int64_t c = o.w + j;
        if (c < 0 || c >= W) continue;
        if constexpr (Add) {
          row[c] += win[i][j][l];
        } else {
          row[c] = win[i][j][l];
        }
      }
    }
  }
}

// The input patches of tiles [t0, t0 + L) of one channel plane (H×W), transformed:
// V[p·ld + l] for the 36 positions p.
template <class T>
void input_packet(const T* plane, const ConvGeometry& g, const WinogradPlan& p, int64_t t0, T* V, int64_t ld) {
  using P = Vec<T>;
  P d[kWinoPatch][kWinoPatch], v[kWinoPatch][kWinoPatch];
  gather_windows(plane, g.H, g.W, p, t0, g.ph, g.pw, d);
  transform2d(d, v, kBt, kBt);
  store_positions(v, V, ld);
}

// Transforms every channel plane of image x_n for tiles [t0, t0 + block) into
// V[p][c][block] (tiles past the image's last are zero).
template <class T>
void input_block(const T* x_n, const ConvGeometry& g, const WinogradPlan& p, int64_t t0, T* V) {
  constexpr int L = Vec<T>::kLanes;
  const int64_t ld = g.C * p.block;
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t k = 0; k < p.block; k += L) input_packet(x_n + c * g.H * g.W, g, p, t0 + k, V + c * p.block + k, ld);
}

}  // namespace

bool winograd_applies(const ConvGeometry& g) {
  // Below 16 channels on either side the transforms outweigh the saved multiply-adds.
  return g.KH == 3 && g.KW == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.groups == 1 &&
         g.C >= 16 && g.O >= 16 && g.N > 0 && g.OH > 0 && g.OW > 0 &&
         // lane_origins divides tile numbers in float32, exact below 2^22 tiles per image;
         // the gathers index a plane with 32-bit offsets.
         (g.OH / kWinoTile + 1) * (g.OW / kWinoTile + 1) < (int64_t(1) << 22) &&
         (g.H + 2 * g.ph + 8) * (g.W + 2 * g.pw + 8) < (int64_t(1) << 31);
}

WinogradPlan winograd_plan(const ConvGeometry& g, size_t elem) {
  WinogradPlan p;
  p.TH = (g.OH + kWinoTile - 1) / kWinoTile;
  p.TW = (g.OW + kWinoTile - 1) / kWinoTile;
  p.tiles = p.TH * p.TW;
  const int64_t lanes = 32 / (int64_t)elem;
  // The transformed input and output of a block together in about 4 MiB, at least one
  // packet of tiles and at most the image. Measured on a Zen 3 (512 KiB L2, 32 MiB L3),
  // 64 channels at 56×56: 1 MiB blocks (56 tiles) took 1.2× as long as 4 MiB ones
  // (the whole 196-tile image): wider GEMMs gain more than an L2-sized block saves.
  const int64_t per_tile = kWinoPos * (g.C + g.O) * (int64_t)elem;
  const int64_t budget = int64_t(4) << 20;
  const int64_t want = std::max<int64_t>(lanes, budget / per_tile / lanes * lanes);
  // As many blocks as that takes, of equal size (whole packets).
  p.blocks = (p.tiles + want - 1) / want;
  p.block = ((p.tiles + p.blocks - 1) / p.blocks + lanes - 1) / lanes * lanes;
  return p;
}

int64_t winograd_buffer(const WinogradPlan& p, int64_t channels) { return kWinoPos * channels * p.block; }

template <class T>
void winograd_weights(const T* w, T* U, int64_t O, int64_t C) {
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c) {
      const T* k = w + (o * C + c) * 9;
      T in[3][3], u[kWinoPatch][kWinoPatch];
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) in[i][j] = k[i * 3 + j];
      transform2d(in, u, [](const T* x, T* r) { gk(x, r); }, [](const T* x, T* r) { gk(x, r); });
      for (int q = 0; q < kWinoPos; ++q) U[(q * O + o) * C + c] = u[q / kWinoPatch][q % kWinoPatch];
    }
}

template <class T>
void winograd_weight_grad(const T* dU, T* gw, int64_t O, int64_t C) {
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c) {
      T s[kWinoPatch][kWinoPatch], k[3][3];
      for (int q = 0; q < kWinoPos; ++q) s[q / kWinoPatch][q % kWinoPatch] = dU[(q * O + o) * C + c];
      transform2d(s, k, [](const T* x, T* r) { gkt(x, r); }, [](const T* x, T* r) { gkt(x, r); });
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) gw[(o * C + c) * 9 + i * 3 + j] = k[i][j];
    }
}

template <class T>
void winograd_forward_block(const T* x_n, const T* U, const T* bias, T* y_n, const ConvGeometry& g,
                            const WinogradPlan& p, int64_t block, T* V, T* M) {
  using P = Vec<T>;
  constexpr int L = P::kLanes;
  const int64_t t0 = block * p.block, OHW = g.OH * g.OW;
  input_block(x_n, g, p, t0, V);
  for (int q = 0; q < kWinoPos; ++q)
    gemm<T>(false, false, g.O, p.block, g.C, T(1), U + q * g.O * g.C, g.C, V + q * g.C * p.block, p.block, T(0),
            M + q * g.O * p.block, p.block);
  const int64_t ld = g.O * p.block;
  for (int64_t o = 0; o < g.O; ++o) {
    const T bo = bias ? bias[o] : T(0);
    T* plane = y_n + o * OHW;
    for (int64_t k = 0; k < p.block && t0 + k < p.tiles; k += L)
      untransform_packet<kWinoTile, false>(M + o * p.block + k, ld, kAt, bo, plane, g.OH, g.OW, p, t0 + k, 0, 0);
  }
}

template <class T>
void winograd_backward_image(const T* gy_n, const T* x_n, const T* U, T* gx_n, T* dU, const ConvGeometry& g,
                             const WinogradPlan& p, T* V, T* Yb) {
  using P = Vec<T>;
  constexpr int L = P::kLanes;
  const int64_t OHW = g.OH * g.OW;
  if (gx_n) std::fill(gx_n, gx_n + g.C * g.H * g.W, T(0));
  for (int64_t blk = 0; blk < p.blocks; ++blk) {
    const int64_t t0 = blk * p.block;
    // Ȳ[p][o][tile] = (A ȳ_o Aᵀ)[p] for the output-gradient tile (zero past the output).
    const int64_t ldy = g.O * p.block;
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t k = 0; k < p.block; k += L) {
        P q[kWinoTile][kWinoTile], z[kWinoPatch][kWinoPatch];
        gather_windows(gy_n + o * OHW, g.OH, g.OW, p, t0 + k, 0, 0, q);
        transform2d(q, z, kA, kA);
        store_positions(z, Yb + o * p.block + k, ldy);
      }
    if (dU) {
      input_block(x_n, g, p, t0, V);
      for (int q = 0; q < kWinoPos; ++q)
        gemm<T>(false, true, g.O, g.C, p.block, T(1), Yb + q * ldy, p.block, V + q * g.C * p.block, p.block, T(1),
                dU + q * g.O * g.C, g.C);
    }
    if (!gx_n) continue;
    // D[p][c][tile] = Σ_o U[p][o][c] Ȳ[p][o][tile], then d̄ = B D Bᵀ added into gx.
    const int64_t ldd = g.C * p.block;
    for (int q = 0; q < kWinoPos; ++q)
      gemm<T>(true, false, g.C, p.block, g.O, T(1), U + q * g.O * g.C, g.C, Yb + q * ldy, p.block, T(0),
              V + q * ldd, p.block);
    for (int64_t c = 0; c < g.C; ++c) {
      T* plane = gx_n + c * g.H * g.W;
      for (int64_t k = 0; k < p.block && t0 + k < p.tiles; k += L)
        untransform_packet<kWinoPatch, true>(V + c * p.block + k, ldd, kB, T(0), plane, g.H, g.W, p, t0 + k, g.ph,
                                             g.pw);
    }
  }
}

#define TG_WINOGRAD_INSTANTIATE(T)                                                                              \
  template void winograd_weights<T>(const T*, T*, int64_t, int64_t);                                           \
  template void winograd_weight_grad<T>(const T*, T*, int64_t, int64_t);                                       \
  template void winograd_forward_block<T>(const T*, const T*, const T*, T*, const ConvGeometry&,               \
                                          const WinogradPlan&, int64_t, T*, T*);                               \
  template void winograd_backward_image<T>(const T*, const T*, const T*, T*, T*, const ConvGeometry&,          \
                                           const WinogradPlan&, T*, T*);
TG_WINOGRAD_INSTANTIATE(float)
TG_WINOGRAD_INSTANTIATE(double)
#undef TG_WINOGRAD_INSTANTIATE

}  // namespace tg::cpu
