#pragma once
// The public kernel-authoring header for code above core/ that writes CPU kernels
// (activations/): the dispatch tables (core/dispatch.h), the strided parallel loops
// (cpu::dispatch_float, cpu::map1/map2, cpu::parallel_for, cpu::kParallelGrain) and
// the SIMD packets (cpu::Vec, cpu::vmap1/vmap2). Kernels above core include this
// header, never a file under core/cpu/. CUDA kernels use core/cuda_kernel.h (host
// side) and core/cuda/device.cuh (device side, nvcc).
#include "core/cpu/loops.h"
#include "core/cpu/simd.h"
#include "core/dispatch.h"
