#pragma once
// Fused CPU kernels shared by the vector activations (included by their .cpp files),
// and their input check. activations/cuda/vector.cu holds the CUDA kernels.
//
// A vector activation is y = s(r, d)·v per vector v (r = ‖v‖). Its Jacobian is
// ∂y_i/∂v_j = s·δ_ij + s′(r)·v_i·v_j/r (since ∂r/∂v_j = v_j/r), so with upstream g
//   ∂L/∂v = s·g + (s′(r)/r)·(v·g)·v,
// and for a gate parameter θ: ∂L/∂θ = Σ_vectors (v·g)·∂s/∂θ.
// The kernels take the vectors in batches of up to kBatch of one dimension d, each
// thread its own range: (1) the batch's norms (and v·g), accumulated in double four
// lanes at a time; (2) the gate for the whole batch in one call, so that a packet gate
// evaluates four vectors per register (chi_gate_batch.h); (3) the batch's outputs,
// written while its inputs are still in cache, with streaming stores when the output is
// large (cpu::kStreamBytes, as vmap1/vmap2). Nothing the size of the input is allocated
// besides the result. VecGELU on maps of whole 4×4 blocks takes blocks4_forward/backward
// instead: one pass over groups of 16 vectors, their sums, gates and outputs from
// registers and L1 (the same values as the batches give, tested).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "activations/grouping.h"
#include "core/kernel.h"

namespace tg::act {

// Splits the vectors into one contiguous range per thread: body(v0, v1), each thread
// under a DenormalScope (core/parallel.h).
template <class Body>
void for_each_vector_range(const VectorPlan& plan, Body&& body) {
  const int64_t count = plan.count();
  if (count == 0) return;
  if (plan.numel() < cpu::kParallelGrain || omp_get_max_threads() == 1 || omp_in_parallel()) {
    const DenormalScope denormals;
    body(0, count);
    return;
  }
#pragma omp parallel
  {
    const DenormalScope denormals;
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num(), chunk = (count + nt - 1) / nt;
    const int64_t v0 = std::min(count, t * chunk), v1 = std::min(count, v0 + chunk);
    if (v0 < v1) body(v0, v1);
  }
}

// Calls f(offset, e) for the e-th element of patch p. 4×4 blocks (the VecGELU default)
// get fixed trip counts, so the compiler unrolls and vectorizes them.
template <class F>
inline void for_each_element(const VectorPatch& p, F&& f) {
  if (p.rows == 4 && p.cols == 4) {
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 4; ++j) f(p.base + i * p.row_stride + j, i * 4 + j);
    return;
  }
  int64_t e = 0;
  for (int64_t i = 0; i < p.rows; ++i)
    for (int64_t j = 0; j < p.cols; ++j, ++e) f(p.base + i * p.row_stride + j, e);
}

// A batch: n consecutive vectors v, …, v + n − 1 of one shape (rows × width, dimension
// d), lying in up to kBatchStrips strips (grouping.h; the blocks of several block rows,
// say), whose counts add up to n. n ≤ kBatch for channels, whose rows are far apart
// (long runs along each row keep the hardware prefetchers streaming), else n ≤
// batch_most(d), about kBatchElements elements, which keeps a batch's inputs in the L1
// cache until its outputs are written. A strip of several rows and several columns per
// vector (blocks) is summed column by column first, in scratch of kBatchColumns doubles,
// so it holds at most kBatchColumns columns.
inline constexpr int64_t kBatch = 256, kBatchStrips = 64, kBatchColumns = 256, kBatchElements = 1024;
inline int64_t batch_most(int64_t d) {  // whole groups of 16 for the packet gates where it can
  const int64_t m = std::clamp<int64_t>(kBatchElements / d, 1, kBatchStrips);
  return m >= 16 ? m / 16 * 16 : m;
}
struct VectorBatch {
  int64_t v, n, d, strips;
  VectorStrip strip[kBatchStrips];
};

// Calls body(batch) for every batch of the plan, batches of one thread's range in order.
template <class Body>
void for_each_vector_batch(const VectorPlan& plan, Body&& body) {
  for_each_vector_range(plan, [&](int64_t v0, int64_t v1) {
    VectorBatch b;
    b.n = b.strips = 0;
    StripCursor cur(plan, v0);
    int64_t rows = -1, width = -1, strip_most = 0, most = 0;  // the limits for strips of rows × width
    for (int64_t v = v0; v < v1;) {
      VectorStrip s = cur.strip();
      if (s.rows != rows || s.width != width) {  // divisions only when the shape changes
        rows = s.rows;
        width = s.width;
        strip_most = rows > 1 && width > 1 ? std::max<int64_t>(1, kBatchColumns / width) : v1;
        most = width == 1 ? kBatch : batch_most(rows * width);
      }
      s.count = std::min({s.count, v1 - v, strip_most});
      // A new batch for another shape, or for a strip that fits a batch whole but not the
      // rest of this one (a strip split between batches would leave cache lines half
      // written by one batch's streaming stores and finished by the next's).
      if (b.n > 0 && (s.rows != b.strip[0].rows || s.width != b.strip[0].width ||
                      (b.n + s.count > most && s.count <= most))) {
        body(std::as_const(b));
        b.n = b.strips = 0;
      }
      if (b.n == 0) {
        b.v = v;
        b.d = s.rows * s.width;
      }
      s.count = std::min(s.count, most - b.n);
      b.strip[b.strips++] = s;
      b.n += s.count;
      v += s.count;
      cur.advance(s.count);
      if (b.n == most || b.strips == kBatchStrips) {
        body(std::as_const(b));
        b.n = b.strips = 0;
      }
    }
    if (b.n > 0) body(std::as_const(b));
    _mm_sfence();  // streamed outputs (combine_run) are visible before the threads join
  });
}

// Calls f(p, elements) for each run of contiguous memory the vectors of a batch occupy in
// an array laid out like the input: a strip row by row, or all of it where its rows
// follow each other.
template <class T, class F>
void for_each_batch_run(const VectorBatch& bt, T* a, F&& f) {
  for (int64_t k = 0; k < bt.strips; ++k) {
    const VectorStrip& s = bt.strip[k];
    const int64_t row = s.count * s.width;
    if (s.row_stride == row || s.rows == 1) {
      f(a + s.base, (s.rows - 1) * s.row_stride + row);
    } else {
      for (int64_t r = 0; r < s.rows; ++r) f(a + s.base + r * s.row_stride, row);
    }
  }
}

// Asks for the cache lines a batch will write, for writing (PREFETCHW), so that their
// loads from memory overlap the batch's sums and gate instead of stalling its stores
// (outputs written with plain stores; streamed ones are not read at all).
template <class T>
void prefetch_for_write(const VectorBatch& bt, T* out) {
  for_each_batch_run(bt, out, [](T* p, int64_t n) {
    const char* c = reinterpret_cast<const char*>(p);
    for (int64_t k = 0; k < n * (int64_t)sizeof(T); k += 64) _mm_prefetch(c + k, _MM_HINT_ET0);
  });
}

// out_k = s_k·a_k, or with z: fma(c_k, z_k, s_k·a_k), for k < n, in packets (a ragged
// tail padded in a register), so every element takes the same arithmetic; the factors
// per element (kSpread) or one pair for the whole run (s[0], c[0]). With `stream` the
// packets whose output is 32-byte aligned are written with non-temporal stores, the
// unaligned head and the tail plainly: the same values either way. The fence is
// for_each_vector_batch's, once per thread: a batch writes many short runs whose cache
// lines straddle runs (rows of 4×4 blocks), and a fence after each (as cpu::packet_run
// has) would push those lines out half written.
template <class T, bool kSpread, bool kZ>
inline void combine_run(T* __restrict out, const T* __restrict a, const T* __restrict z, const T* __restrict s,
                        const T* __restrict c, int64_t n, bool stream) {
  using V = cpu::Vec<T>;
  constexpr int L = V::kLanes;
  const auto ld = [](const T* p, int k) { return V::load(reinterpret_cast<const char*>(p), sizeof(T), k); };
  const V s0(s[0]), c0(kZ ? c[0] : T(0));
  const auto f = [&](int64_t i, int k) {
    const V y = (kSpread ? ld(s + i, k) : s0) * ld(a + i, k);
    if constexpr (kZ) {
      return fma_(kSpread ? ld(c + i, k) : c0, ld(z + i, k), y);
    } else {
      return y;
    }
  };
  char* o = reinterpret_cast<char*>(out);
  constexpr int64_t sz = sizeof(T);
  int64_t i = 0;
  if (stream) {
    i = std::min<int64_t>(n, (int64_t)((32 - reinterpret_cast<uintptr_t>(out) % 32) % 32) / sz);
    if (i > 0) f(0, (int)i).store(o, sz, (int)i);
    for (; i + L <= n; i += L) f(i, L).stream(o + i * sz);
  }
  for (; i + L <= n; i += L) f(i, L).store(o + i * sz, sz, L);
  if (i < n) f(i, (int)(n - i)).store(o + i * sz, sz, (int)(n - i));
}

// Whether a kernel writing n elements of T streams its output (cpu::kStreamBytes, as
// vmap1/vmap2 and the benches' memory floors decide).
template <class T>
bool streams(int64_t n) {
  return n * (int64_t)sizeof(T) >= cpu::kStreamBytes;
}

// Four elements from p as doubles; the sum of a packet's lanes.
inline __m256d load4d(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
inline __m256d load4d(const double* p) { return _mm256_loadu_pd(p); }
inline double lane_sum(__m256d a) {
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

// The lane sums of four packets, as one packet.
inline __m256d lane_sums(const __m256d p[4]) {
  const __m256d h01 = _mm256_hadd_pd(p[0], p[1]), h23 = _mm256_hadd_pd(p[2], p[3]);  // [0 1 0 1], [2 3 2 3]
  return _mm256_add_pd(_mm256_permute2f128_pd(h01, h23, 0x20), _mm256_permute2f128_pd(h01, h23, 0x31));
}

// Σ a_e² and, when b is non-null, Σ a_e·b_e over a rows×width patch, in double.
template <class T>
void patch_sums(const T* a, const T* b, int64_t rows, int64_t width, int64_t row_stride, double& aa, double& ab) {
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, d0 = s0, d1 = s0;
  double st = 0, dt = 0;  // the rows' ragged tails
  for (int64_t r = 0; r < rows; ++r) {
    const T* ar = a + r * row_stride;
    const T* br = b ? b + r * row_stride : nullptr;
    int64_t j = 0;
    for (; j + 8 <= width; j += 8) {
      const __m256d x0 = load4d(ar + j), x1 = load4d(ar + j + 4);
      s0 = _mm256_fmadd_pd(x0, x0, s0);
      s1 = _mm256_fmadd_pd(x1, x1, s1);
      if (br) {
        d0 = _mm256_fmadd_pd(x0, load4d(br + j), d0);
        d1 = _mm256_fmadd_pd(x1, load4d(br + j + 4), d1);
      }
    }
    if (j + 4 <= width) {
      const __m256d x0 = load4d(ar + j);
      s0 = _mm256_fmadd_pd(x0, x0, s0);
      if (br) d0 = _mm256_fmadd_pd(x0, load4d(br + j), d0);
      j += 4;
    }
    for (; j < width; ++j) {
      st += (double)ar[j] * ar[j];
      if (br) dt += (double)ar[j] * br[j];
    }
  }
  aa = lane_sum(_mm256_add_pd(s0, s1)) + st;
  if (b) ab = lane_sum(_mm256_add_pd(d0, d1)) + dt;
}

// Per vector i of a strip, in double: aa[i] = Σ a_e², and when b is non-null
// ab[i] = Σ a_e·b_e.
template <class T>
void strip_sums(const VectorStrip& s, const T* a, const T* b, double* aa, double* ab) {
  const int64_t cols = s.count * s.width;
  if (s.rows == 1 || (s.width > 1 && cols > kBatchColumns)) {  // last_dim, or one large block
    for (int64_t i = 0; i < s.count; ++i) {
      const int64_t o = s.base + i * s.width;
      patch_sums(a + o, b ? b + o : nullptr, s.rows, s.width, s.row_stride, aa[i], ab ? ab[i] : aa[i]);
    }
    return;
  }
  // Column sums along the rows (unit stride); channels (width 1) need no more.
  double ca[kBatchColumns], cb[kBatchColumns];
  double* sa = s.width == 1 ? aa : ca;
  double* sb = s.width == 1 ? ab : cb;
  // Four rows at a time, four columns' sums held in a register meanwhile (the scratch
  // loaded and stored once per four rows, not per row); each column adds its products
  // row by row in order with fused multiply-adds, in the packets and the tail alike.
  for (int64_t c = 0; c < cols; ++c) sa[c] = 0;
  if (b)
    for (int64_t c = 0; c < cols; ++c) sb[c] = 0;
  for (int64_t r0 = 0; r0 < s.rows; r0 += 4) {
    const int64_t nr = std::min<int64_t>(4, s.rows - r0);
    const T* ar = a + s.base + r0 * s.row_stride;
    const T* br = b ? b + s.base + r0 * s.row_stride : nullptr;
    int64_t c = 0;
    for (; c + 4 <= cols; c += 4) {
      __m256d t = _mm256_loadu_pd(sa + c), u = b ? _mm256_loadu_pd(sb + c) : _mm256_setzero_pd();
      for (int64_t k = 0; k < nr; ++k) {
        const __m256d x = load4d(ar + k * s.row_stride + c);
        t = _mm256_fmadd_pd(x, x, t);
        if (b) u = _mm256_fmadd_pd(x, load4d(br + k * s.row_stride + c), u);
      }
      _mm256_storeu_pd(sa + c, t);
      if (b) _mm256_storeu_pd(sb + c, u);
    }
    for (; c < cols; ++c)
      for (int64_t k = 0; k < nr; ++k) {
        const double x = ar[k * s.row_stride + c];
        sa[c] = std::fma(x, x, sa[c]);
        if (b) sb[c] = std::fma(x, (double)br[k * s.row_stride + c], sb[c]);
      }
  }
  if (s.width == 1) return;
  for (int64_t i = 0; i < s.count; ++i) {
    double t = 0, u = 0;
    for (int64_t c = 0; c < s.width; ++c) t += sa[i * s.width + c];
    aa[i] = t;
    if (b) {
      for (int64_t c = 0; c < s.width; ++c) u += sb[i * s.width + c];
      ab[i] = u;
    }
  }
}

// ‖v‖² (and v·b when b is non-null) of four 4-wide blocks of `rows` rows, w elements
// apart, whose first elements are at[0, 4), in double: each row's lanes with fused
// multiply-adds down the rows, then the lanes added pairwise (lane_sums).
template <class T>
inline void block4_packet_sums(const T* a, const T* b, const int64_t* at, int64_t rows, int64_t w, __m256d& aa,
                               __m256d& ab) {
  __m256d sq[4], dt[4];
  for (int k = 0; k < 4; ++k) sq[k] = dt[k] = _mm256_setzero_pd();
  for (int64_t r = 0; r < rows; ++r)
    for (int k = 0; k < 4; ++k) {
      const __m256d x = load4d(a + at[k] + r * w);
      sq[k] = _mm256_fmadd_pd(x, x, sq[k]);
      if (b) dt[k] = _mm256_fmadd_pd(x, load4d(b + at[k] + r * w), dt[k]);
    }
  aa = lane_sums(sq);
  ab = b ? lane_sums(dt) : _mm256_setzero_pd();
}

// blocks(4): each vector one packet per row, the lanes of four vectors (of any of the
// batch's strips) summed at once, a ragged last packet padded with copies: every 4-wide
// block's sums in one order (rows, then lane pairs), as the one-pass kernel's.
template <class T>
void blocks4_sums(const VectorBatch& bt, const T* a, const T* b, double* aa, double* ab) {
  int64_t at[kBatchStrips];  // n ≤ kBatchStrips for blocks
  for (int64_t k = 0, i = 0; k < bt.strips; ++k)
    for (int64_t j = 0; j < bt.strip[k].count; ++j) at[i++] = bt.strip[k].base + 4 * j;
  const int64_t rows = bt.strip[0].rows, stride = bt.strip[0].row_stride;
  int64_t i = 0;
  for (; i + 4 <= bt.n; i += 4) {
    __m256d sq, dt;
    block4_packet_sums(a, b, at + i, rows, stride, sq, dt);
    _mm256_storeu_pd(aa + i, sq);
    if (b) _mm256_storeu_pd(ab + i, dt);
  }
  if (i < bt.n) {  // the last one to three: a packet padded with copies, so each vector is summed as in a full one
    const int k = (int)(bt.n - i);
    const int64_t rest[4] = {at[i], at[std::min<int64_t>(i + 1, bt.n - 1)], at[std::min<int64_t>(i + 2, bt.n - 1)], at[i]};
    __m256d sq, dt;
    block4_packet_sums(a, b, rest, rows, stride, sq, dt);
    cpu::Vec<double>(sq).store(reinterpret_cast<char*>(aa + i), sizeof(double), k);
    if (b) cpu::Vec<double>(dt).store(reinterpret_cast<char*>(ab + i), sizeof(double), k);
  }
}

// The same for the vectors of a batch.
template <class T>
void batch_sums(const VectorBatch& bt, const T* a, const T* b, double* aa, double* ab) {
  if (bt.strip[0].width == 4 && bt.strip[0].rows > 1) {
    blocks4_sums(bt, a, b, aa, ab);
    return;
  }
  for (int64_t k = 0, i = 0; k < bt.strips; i += bt.strip[k++].count)
    strip_sums(bt.strip[k], a, b, aa + i, ab ? ab + i : nullptr);
}

// out[i·w + j] = in[i] for i < n, j < w.
template <class T>
void spread(T* out, const T* in, int64_t n, int64_t w) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < w; ++j) out[i * w + j] = in[i];
}

// The factors of vectors i, i + 1 (float: a packet, each repeated four times) or of
// vector i (double: broadcast), for 4-wide blocks.
template <class T>
cpu::Vec<T> block4_factors(const T* f) {
  if constexpr (std::is_same_v<T, float>) {
    const __m128 pair = _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(f)));
    return cpu::Vec<T>(_mm256_permutevar8x32_ps(_mm256_castps128_ps256(pair), _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1)));
  } else {
    return cpu::Vec<T>(f[0]);
  }
}

// The outputs of m 4-wide blocks whose first elements are at[0, m), `rows` rows w
// elements apart: out = row(o, f, h, ld) for the elements o of each row of block k, f and
// h its factors (f[k], h[k]) as a packet, ld(p) the load of a packet of inputs at p.
// float blocks side by side go two per packet (block4_factors), a block alone in half a
// packet (Vec::half, stored plainly); with kStream (the rows 32 bytes apart in
// multiples) a packet at a 32-byte aligned address is streamed. The one-pass kernels'
// groups and the batches' strips (blocks4_combine) both write through it.
template <class T, bool kStream, class Rows, class Row>
inline void block4_group_write(T* out, const int64_t* at, int64_t m, Rows rows, int64_t w, const T* f, const T* h,
                               Row&& row) {
  using V = cpu::Vec<T>;
  constexpr int L = V::kLanes;
  const auto full = [](const T* p) { return V::load(reinterpret_cast<const char*>(p), sizeof(T), L); };
  const auto half = [](const T* p) { return V(V::half(reinterpret_cast<const char*>(p))); };
  for (int64_t k = 0; k < m;) {
    const bool pair = L == 8 && k + 1 < m && at[k + 1] == at[k] + 4;
    if (L == 4 || pair) {
      const V fv = block4_factors(f + k), hv = block4_factors(h + k);
      const bool stream = kStream && reinterpret_cast<uintptr_t>(out + at[k]) % 32 == 0;
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t o = at[k] + r * w;
        const V y = row(o, fv, hv, full);
        if (stream) {
          y.stream(reinterpret_cast<char*>(out + o));
        } else {
          y.store(reinterpret_cast<char*>(out + o), sizeof(T), L);
        }
      }
      k += L / 4;
    } else {
      const V fv(f[k]), hv(h[k]);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t o = at[k] + r * w;
        row(o, fv, hv, half).store_half(reinterpret_cast<char*>(out + o));
      }
      k += 1;
    }
  }
}

// strip_combine for a strip of 4-wide blocks: a packet's factors (block4_factors) made
// once and kept in registers down the block's rows, instead of spread into scratch and
// loaded again for every row (in-cache forward 5%, backward 6% faster, one thread). Each
// packet is the same fma(c, z, s·a) as combine_run's: the same values streamed or not.
template <class T, bool kZ>
void blocks4_combine(const VectorStrip& st, T* out, const T* a, const T* s, const T* z, const T* c, bool stream) {
  using V = cpu::Vec<T>;
  int64_t at[kBatchColumns / 4];  // (a strip of 4-wide blocks holds at most kBatchColumns columns)
  for (int64_t i = 0; i < st.count; ++i) at[i] = st.base + 4 * i;
  const auto row = [a, z](int64_t o, V f, V h, auto ld) {
    const V y = f * ld(a + o);
    if constexpr (kZ) {
      return fma_(h, ld(z + o), y);
    } else {
      return y;
    }
  };
  const auto write = [&](auto rows) {
    if (stream && st.row_stride * sizeof(T) % 32 == 0) {
      block4_group_write<T, true>(out, at, st.count, rows, st.row_stride, s, c, row);
    } else {
      block4_group_write<T, false>(out, at, st.count, rows, st.row_stride, s, c, row);
    }
  };
  if (st.rows == 4) {
    write(std::integral_constant<int64_t, 4>());
  } else {
    write(st.rows);
  }
}

// Asks for the n elements at a (and at z with kZ) into the L2 cache (prefetches past the
// end of the data are harmless: they never fault).
template <class T, bool kZ>
inline void prefetch_row(const T* a, const T* z, int64_t n) {
  const char* pa = reinterpret_cast<const char*>(a);
  const char* pz = reinterpret_cast<const char*>(z);
  for (int64_t k = 0; k < n * (int64_t)sizeof(T); k += 64) {
    _mm_prefetch(pa + k, _MM_HINT_T1);
    if (kZ) _mm_prefetch(pz + k, _MM_HINT_T1);
  }
}

// Per vector i of a strip: out_e = s[i]·a_e, or with z: out_e = s[i]·a_e + c[i]·z_e
// (fma(c, z, s·a)), in packets along the strip's rows (combine_run).
template <class T, bool kZ>
void strip_combine(const VectorStrip& st, T* out, const T* a, const T* s, const T* z, const T* c, bool stream) {
  const int64_t cols = st.count * st.width;
  if (cols > kBatchColumns) {  // long vectors: vector by vector, row by row
    for (int64_t i = 0; i < st.count; ++i)
      for (int64_t r = 0; r < st.rows; ++r) {
        const int64_t o = st.base + i * st.width + r * st.row_stride;
        combine_run<T, false, kZ>(out + o, a + o, z + o, s + i, c + i, st.width, stream);
      }
    return;
  }
  // The strip row by row, each column's factors spread from its vector's.
  T sc[kBatchColumns], cc[kBatchColumns];
  const T* scol = s;
  const T* ccol = c;
  if (st.width > 1) {
    spread(sc, s, st.count, st.width);
    if (kZ) spread(cc, c, st.count, st.width);
    scol = sc;
    ccol = cc;
  }
  // Channels: each row's continuation (the same channels at the next positions, the next
  // batch's inputs) asked for while the row is written, so that the next batch's sums
  // find it in the L2 cache (a batch's 64 or so rows are more streams than the hardware
  // prefetchers keep ahead of; forward about 0.37 -> 0.33 ns/element at 2 threads, the
  // library swapped under one bench binary in alternating runs; the backward unchanged).
  const bool ahead = st.width == 1;
  for (int64_t r = 0; r < st.rows; ++r) {
    const int64_t o = st.base + r * st.row_stride;
    if (ahead) prefetch_row<T, kZ>(a + o + cols, z + o + cols, cols);
    combine_run<T, true, kZ>(out + o, a + o, z + o, scol, ccol, cols, stream);
  }
}

// The same for the vectors of a batch.
template <class T>
void batch_combine(const VectorBatch& bt, bool stream, T* out, const T* a, const T* s, const T* z = nullptr,
                   const T* c = nullptr) {
  const bool blocks4 = bt.strip[0].width == 4 && bt.strip[0].rows > 1;  // (a batch's strips share a shape)
  for (int64_t k = 0, i = 0; k < bt.strips; i += bt.strip[k++].count) {
    if (z) {  // (without z, combine_run reads no z or c: a and s stand in for them)
      if (blocks4) {
        blocks4_combine<T, true>(bt.strip[k], out, a, s + i, z, c + i, stream);
      } else {
        strip_combine<T, true>(bt.strip[k], out, a, s + i, z, c + i, stream);
      }
    } else if (blocks4) {
      blocks4_combine<T, false>(bt.strip[k], out, a, s + i, a, s + i, stream);
    } else {
      strip_combine<T, false>(bt.strip[k], out, a, s + i, a, s + i, stream);
    }
  }
}

// Lanes [0, k) of a double packet rounded to T, stored at p.
template <class T>
void store_as(T* p, cpu::Vec<double> v, int k) {
  if constexpr (std::is_same_v<T, float>) {
    const __m128 f = _mm256_cvtpd_ps(v.v);
    if (k == 4) {
      _mm_storeu_ps(p, f);
    } else {
      alignas(16) float t[4];
      _mm_store_ps(t, f);
      for (int j = 0; j < k; ++j) p[j] = t[j];
    }
  } else {
    v.store(reinterpret_cast<char*>(p), sizeof(double), k);
  }
}

// What a gate gives the backward for the vectors of a batch: s, s′(r)/r, and ∂s/∂θ
// (0 without a parameter).
struct GateBatch {
  double s[kBatch], coef[kBatch], dparam[kBatch];
};
// The same for one vector (the scalar gates of vector_backward).
struct GateGrad {
  double s, coef, dparam;
};

// y_v = s_v·x_v with scale(v, n, d, r2, s) filling s[i] for vectors v + i, i < n, of
// dimension d from their r2[i] = ‖x_{v+i}‖².
template <class T, class ScaleBatch>
void vector_forward_batched(const VectorPlan& plan, const T* x, T* y, ScaleBatch&& scale) {
  const bool stream = streams<T>(plan.numel());
  for_each_vector_batch(plan, [&](const VectorBatch& b) {
    double r2[kBatch], s[kBatch];
    if (!stream) prefetch_for_write(b, y);
    batch_sums<T>(b, x, nullptr, r2, nullptr);
    scale(b.v, b.n, b.d, (const double*)r2, (double*)s);
    T st[kBatch];
    for (int64_t i = 0; i < b.n; ++i) st[i] = (T)s[i];
    batch_combine<T>(b, stream, y, x, st);
  });
}

// The same with a gate per vector: scale(v, r², d) returns s.
template <class T, class Scale>
void vector_forward(const VectorPlan& plan, const T* x, T* y, Scale&& scale) {
  vector_forward_batched(plan, x, y, [&](int64_t v, int64_t n, int64_t d, const double* r2, double* s) {
    for (int64_t i = 0; i < n; ++i) s[i] = scale(v + i, r2[i], d);
  });
}

// dx_v = s·g_v + (s′/r)(x_v·g_v)·x_v with gate(v, n, d, r2, q) filling q.s, q.coef, q.dparam
// for the vectors v + i, i < n, of a batch; returns Σ_v (x_v·g_v)·∂s/∂θ, and when
// per_vector is non-null also stores each vector's term (x_v·g_v)·∂s/∂θ there
// (per-group parameters and external gates sum them themselves).
// A zero vector (r = 0) or a vanishing s′/r contributes no second term: (v·g)·v is
// O(r²) while every gate's s′/r is O(1/r) at worst, so the term's limit at r = 0 is 0,
// and skipping it avoids 0·∞ at r = 0 or r = ∞. The Jacobian at v = 0 is s(0)·I.
template <class T, class GateB>
double vector_backward_batched(const VectorPlan& plan, const T* x, const T* g, T* dx, GateB&& gate,
                               double* per_vector = nullptr) {
  // Per-thread partial sums of ∂L/∂θ, added in thread order: reproducible at any
  // thread count (an atomic add would depend on which thread finishes first).
  std::vector<double> parts(omp_get_max_threads(), 0.0);
  const bool stream = streams<T>(plan.numel());
  for_each_vector_batch(plan, [&](const VectorBatch& b) {
    double r2[kBatch], dot[kBatch], local = 0;
    GateBatch q;
    if (!stream) prefetch_for_write(b, dx);
    batch_sums<T>(b, x, g, r2, dot);
    gate(b.v, b.n, b.d, (const double*)r2, q);
    T s[kBatch], ct[kBatch];
    using D = cpu::Vec<double>;
    for (int64_t i = 0; i < b.n; i += 4) {  // four vectors at a time
      const int k = (int)std::min<int64_t>(4, b.n - i);
      const auto ld = [&](const double* p) { return D::load(reinterpret_cast<const char*>(p + i), sizeof(double), k); };
      const D c = ld(q.coef), zero(0.0);
      store_as(s + i, ld(q.s), k);
      store_as(ct + i, where_((ld(r2) == zero) || (c == zero), zero, c * ld(dot)), k);
    }
    // A gate without a parameter leaves ∂s/∂θ all zero: one vectorized test instead of a
    // loop over the vectors (no chain of adds of zeros either way).
    int param = 0;
    for (int64_t i = 0; i < b.n; ++i) param |= q.dparam[i] != 0;
    if (param != 0) {
      for (int64_t i = 0; i < b.n; ++i) {
        const double term = q.dparam[i] != 0 ? dot[i] * q.dparam[i] : 0.0;
        if (term != 0) local += term;
        if (per_vector) per_vector[b.v + i] = term;
      }
    } else if (per_vector) {
      std::fill_n(per_vector + b.v, b.n, 0.0);
    }
    batch_combine<T>(b, stream, dx, g, s, x, ct);
    parts[omp_get_thread_num()] += local;
  });
  double dparam = 0;
  for (double v : parts) dparam += v;
  return dparam;
}

// The same with a gate per vector: gate(v, r², d) returns a GateGrad.
template <class T, class Gate>
double vector_backward(const VectorPlan& plan, const T* x, const T* g, T* dx, Gate&& gate,
                       double* per_vector = nullptr) {
  return vector_backward_batched(
      plan, x, g, dx,
      [&](int64_t v, int64_t n, int64_t d, const double* r2, GateBatch& q) {
        for (int64_t i = 0; i < n; ++i) {
          const GateGrad gi = gate(v + i, r2[i], d);
          q.s[i] = gi.s;
          q.coef[i] = gi.coef;
          q.dparam[i] = gi.dparam;
        }
      },
      per_vector);
}

// blocks(4) where every vector is a full 4×4 block (VectorPlan::full_blocks(4)), in one
// pass over groups of kGroup4 vectors: body(at, m, w) for m ≤ kGroup4 consecutive
// vectors whose first elements are at[0, m) (at[m, kGroup4) repeat at[0]: a ragged last
// group computes copies and stores only its own), rows w elements apart. A group takes
// its vectors from one strip or several.
inline constexpr int kGroup4 = 16;
template <class Body>
void for_each_block4_group(const VectorPlan& plan, Body&& body) {
  for_each_vector_range(plan, [&](int64_t v0, int64_t v1) {
    StripCursor cur(plan, v0);
    int64_t at[kGroup4];
    int m = 0;
    const int64_t w = cur.strip().row_stride;
    for (int64_t v = v0; v < v1;) {
      const int64_t base = cur.strip().base, n = std::min(cur.strip().count, v1 - v);  // (locals: at's stores may alias the strip)
      for (int64_t i = 0; i < n; ++i) {
        at[m++] = base + 4 * i;
        if (m == kGroup4) {
          body((const int64_t*)at, kGroup4, w);
          m = 0;
        }
      }
      v += n;
      cur.advance(n);
    }
    if (m > 0) {
      for (int j = m; j < kGroup4; ++j) at[j] = at[0];
      body((const int64_t*)at, m, w);
    }
    _mm_sfence();  // the streamed outputs are visible before the threads join
  });
}

// Whether the blocks4 kernels stream their output: large, and the rows of a block 32
// bytes apart in multiples (then a float pair or double vector at a 32-byte aligned
// first element streams all its rows).
template <class T>
bool blocks4_streams(const VectorPlan& plan) {
  return streams<T>(plan.numel()) && plan.strip(0).row_stride * sizeof(T) % 32 == 0;
}

// vector_forward_batched for full 4×4 blocks with a packet gate: gate(r2, s) fills the
// s of a group's kGroup4 vectors from their r2, kGroup4 / 4 double packets of four
// vectors each. A group's sums, then its gates stepped side by side (one packet at a
// time left the core waiting on each packet's chain of dependent multiply-adds: the
// gates took 1.9× as long), then its outputs, all from registers and the L1 cache.
template <class T, class Gate>
void blocks4_forward(const VectorPlan& plan, const T* x, T* y, Gate&& gate) {
  using V = cpu::Vec<T>;
  using D = cpu::Vec<double>;
  constexpr int P = kGroup4 / 4;
  // The pointers as the body's own values: a store may alias anything, so a captured
  // reference would be loaded again after every store.
  const auto run = [&](auto stream) {
    for_each_block4_group(plan, [x, y, &gate](const int64_t* at, int m, int64_t w) {
      D r2[P], sv[P];
      for (int p = 0; p < P; ++p) {
        __m256d unused;
        block4_packet_sums<T>(x, nullptr, at + 4 * p, 4, w, r2[p].v, unused);
      }
      gate((const D*)r2, sv);
      T s[kGroup4];
      for (int p = 0; p < P; ++p) store_as(s + 4 * p, sv[p], 4);
      block4_group_write<T, decltype(stream)::value>(y, at, m, std::integral_constant<int64_t, 4>(), w, s, s,
                                                     [x](int64_t o, V f, V, auto ld) { return f * ld(x + o); });
    });
  };
  if (blocks4_streams<T>(plan)) {
    run(std::true_type());
  } else {
    run(std::false_type());
  }
}

// vector_backward_batched for full 4×4 blocks with a packet gate and no parameter:
// gate(r2, s, coef) fills a group's s and s′/r (packets as blocks4_forward's).
template <class T, class Gate>
void blocks4_backward(const VectorPlan& plan, const T* x, const T* g, T* dx, Gate&& gate) {
  using V = cpu::Vec<T>;
  using D = cpu::Vec<double>;
  constexpr int P = kGroup4 / 4;
  const auto run = [&](auto stream) {  // (the pointers by value, as blocks4_forward's)
    for_each_block4_group(plan, [x, g, dx, &gate](const int64_t* at, int m, int64_t w) {
      D r2[P], dot[P], sv[P], coef[P];
      for (int p = 0; p < P; ++p) block4_packet_sums<T>(x, g, at + 4 * p, 4, w, r2[p].v, dot[p].v);
      gate((const D*)r2, sv, coef);
      T s[kGroup4], c[kGroup4];
      for (int p = 0; p < P; ++p) {
        const D zero(0.0);
        store_as(s + 4 * p, sv[p], 4);  // and c as vector_backward_batched's:
        store_as(c + 4 * p, where_((r2[p] == zero) || (coef[p] == zero), zero, coef[p] * dot[p]), 4);
      }
      block4_group_write<T, decltype(stream)::value>(
          dx, at, m, std::integral_constant<int64_t, 4>(), w, s, c, [x, g](int64_t o, V f, V h, auto ld) { return fma_(h, ld(x + o), f * ld(g + o)); });
    });
  };
  if (blocks4_streams<T>(plan)) {
    run(std::true_type());
  } else {
    run(std::false_type());
  }
}

// out_v = scale[v]·in_v (one saved scale per vector).
template <class T>
void vector_scale(const VectorPlan& plan, const T* in, const T* scale, T* out) {
  const bool stream = streams<T>(plan.numel());
  for_each_vector_batch(plan, [&](const VectorBatch& b) { batch_combine<T>(b, stream, out, in, scale + b.v); });
}

// out[v] = Σ a_e·b_e over the elements of vector v, accumulated in double (b = a gives
// ‖v‖²).
template <class T>
void vector_dots(const VectorPlan& plan, const T* a, const T* b, double* out) {
  for_each_vector_batch(plan, [&](const VectorBatch& bt) {
    if (a == b) {
      batch_sums<T>(bt, a, nullptr, out + bt.v, nullptr);
    } else {
      double aa[kBatch];
      batch_sums<T>(bt, a, b, aa, out + bt.v);
    }
  });
}

}  // namespace tg::act
