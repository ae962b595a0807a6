#pragma once
// Winograd F(4×4, 3×3) convolution on the CPU (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016): 3×3 kernels, stride 1, no dilation, one group,
// any padding. The output is cut into 4×4 tiles; tile (th, tw) reads the 6×6 input patch
// at (4·th − ph, 4·tw − pw) (zeros outside the input). With the fixed matrices Bᵀ (6×6),
// G (6×3) and Aᵀ (4×6) of the interpolation points 0, ±1, ±2, ∞:
//   forward       y_tile  = Aᵀ [ Σ_c (G w[o,c] Gᵀ) ⊙ (Bᵀ d_c Bᵀᵀ) ] A
// and, as that map is linear in d and in w, its adjoints give the gradients:
//   input grad    d̄_c    = B [ Σ_o (G w[o,c] Gᵀ) ⊙ (A ȳ_o Aᵀ) ] Bᵀ     (added over overlapping patches)
//   weight grad   w̄[o,c] = Gᵀ [ Σ_tiles (A ȳ_o Aᵀ) ⊙ (Bᵀ d_c B) ] G
// Each sum over channels (or tiles) is, for each of the 36 positions p of the 6×6
// transform, one GEMM: 36 GEMMs of a quarter of the multiply-adds of im2col + GEMM.
// Transformed tiles are laid out [p][channel][tile] with tiles contiguous, so the
// transforms run on packets of Vec<T>::kLanes tiles and the GEMMs read plain rows.
//
// The driver (core/cpu/conv.cpp) owns the threads and buffers: it transforms the weights
// once per call, then hands each thread blocks of tiles (forward) or whole images
// (backward: the input-gradient patches of neighbouring tiles overlap).
//
// Accuracy: the transforms multiply rounding errors by up to ~10² (the points ±2 make
// Aᵀ's entries reach 8); float32 results stay within ~1e-5 of the float64 direct sum,
// relative to Σ|w||x| (tests/test_conv.cpp checks that bound).
#include <cstddef>
#include <cstdint>

#include "core/conv.h"

namespace tg::cpu {

constexpr int kWinoTile = 4;     // output tile side m
constexpr int kWinoPatch = 6;    // input patch side m + r − 1
constexpr int kWinoPos = 36;     // positions of the 6×6 transform

// Whether the F(4×4, 3×3) path computes this convolution, and is worth it: enough
// channels on both sides that the transforms cost less than the multiply-adds they save.
bool winograd_applies(const ConvGeometry& g);

struct WinogradPlan {
  int64_t TH, TW, tiles;  // tile grid of one image
  int64_t block;          // tiles per block, a multiple of the packet width
  int64_t blocks;         // blocks per image
};
WinogradPlan winograd_plan(const ConvGeometry& g, size_t elem);

// Elements of one block's transformed buffer holding `channels` rows: 36·channels·block.
int64_t winograd_buffer(const WinogradPlan& p, int64_t channels);

// U[p][o][c] = (G w[o,c] Gᵀ)[p] for w [O, C, 3, 3].
template <class T>
void winograd_weights(const T* w, T* U, int64_t O, int64_t C);

// gw[o,c] = Gᵀ dU[·][o][c] G, the inverse of winograd_weights' adjoint.
template <class T>
void winograd_weight_grad(const T* dU, T* gw, int64_t O, int64_t C);

// Writes the block's output tiles into y_n (image n's [O, OH, OW]) from image n's input
// x_n [C, H, W], adding bias (may be null). V and M hold
// winograd_buffer(p, C) and winograd_buffer(p, O) elements.
template <class T>
void winograd_forward_block(const T* x_n, const T* U, const T* bias, T* y_n, const ConvGeometry& g,
                            const WinogradPlan& p, int64_t block, T* V, T* M);

// One image's gradients: gx_n [C, H, W] (overwritten; null if not wanted) and
// dU [36][O][C] (accumulated; null if not wanted) from gy_n [O, OH, OW] and x_n.
// V and Yb hold winograd_buffer(p, max(C, O)) elements each.
template <class T>
void winograd_backward_image(const T* gy_n, const T* x_n, const T* U, T* gx_n, T* dU, const ConvGeometry& g,
                             const WinogradPlan& p, T* V, T* Yb);

}  // namespace tg::cpu
