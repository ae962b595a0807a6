#pragma once
// TG_HD marks a function that host code and CUDA device code both call (the math
// shared by the CPU and CUDA kernels); outside nvcc it expands to nothing.
#if defined(__CUDACC__)
#define TG_HD __host__ __device__
#else
#define TG_HD
#endif
