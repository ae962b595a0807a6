// VecGELU on a CUDA device against the memory-bandwidth ceiling: forward and backward of
// blocks(4) (the default grouping) on one N×C×H×W float32 tensor (default
// 32×64×224×224) beside a device-to-device copy of the same tensor. Each is timed with
// CUDA events on the backend's stream, after warm-up, as the median of --reps samples,
// each the mean of 5 back-to-back runs.
// Bytes moved (n elements of 4 bytes, each read or written once):
//   copy 2·4n (in, out);  forward 2·4n (x in, y out);  backward 3·4n (x, g in; dx out).
// The backward is the op's node alone (no gradient accumulation into a leaf), as in
// bench_activations. Target: forward+backward bandwidth ≥ 70% of the copy's (the
// "summary: " line, which scripts/gpu-check puts in its table).
// Built with the CUDA backend only; without a CUDA device it prints one line saying so
// and exits 0.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <fmt/core.h>
#include <functional>
#include <vector>

#include "activations/vec_gelu.h"
#include "core/cuda_api.h"
#include "core/cuda_kernel.h"
#include "core/random.h"

using namespace tg;

// Median milliseconds per run of f on the device's stream, after two warm-up runs: `reps`
// samples, each the mean of kBatch back-to-back runs between two events. (One run per
// sample would also count the host's time to reach the first launch, during which the
// GPU idles after the start event: tens of microseconds of autograd and launch work
// beside kernels of a few hundred. Back to back, later runs' host work overlaps the
// GPU's.)
constexpr int kBatch = 5;
double median_ms(cudaStream_t stream, int reps, const std::function<void()>& f) {
  cudaEvent_t start, stop;
  TG_CUDA_CHECK(cudaEventCreate(&start), "bench");
  TG_CUDA_CHECK(cudaEventCreate(&stop), "bench");
  f();
  f();
  cuda_synchronize();
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    TG_CUDA_CHECK(cudaEventRecord(start, stream), "bench");
    for (int b = 0; b < kBatch; ++b) f();
    TG_CUDA_CHECK(cudaEventRecord(stop, stream), "bench");
    TG_CUDA_CHECK(cudaEventSynchronize(stop), "bench");
    float t = 0;
    TG_CUDA_CHECK(cudaEventElapsedTime(&t, start, stop), "bench");
    ms.push_back(t / kBatch);
  }
  cuda_synchronize();
  TG_CUDA_CHECK(cudaEventDestroy(start), "bench");
  TG_CUDA_CHECK(cudaEventDestroy(stop), "bench");
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

int main(int argc, char** argv) {
  CLI::App app{"VecGELU blocks(4) forward+backward on a CUDA device, against a device-to-device copy"};
  std::string device = "cuda";
  int reps = 20;
  std::vector<int64_t> shape{32, 64, 224, 224};
  app.add_option("--device", device, "device to measure (cuda only)")
      ->check(CLI::IsMember({"cuda"}))
      ->capture_default_str();
  app.add_option("--reps", reps, "timed repetitions (the median is reported)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--shape", shape, "N C H W")->expected(4)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (cuda_device_count() == 0) {
    fmt::print("bench_cuda_vec_gelu: no CUDA device (none found); nothing to measure\n");
    return 0;
  }
  Generator gen(1);
  const Tensor x = randn(shape, kFloat32, Device::cuda(), &gen), g = randn(shape, kFloat32, Device::cuda(), &gen);
  const Tensor copy_out = empty_like(x);
  const double n = (double)x.numel(), gb = 1e-9 * 4 * n;
  Variable xv(x, true);
  const std::vector<bool> needs{true};
  const cudaStream_t stream = cuda::stream_of(x, "bench_cuda_vec_gelu");

  const double t_copy = median_ms(stream, reps, [&] { copy_out.copy_(x); });
  const double t_fwd = median_ms(stream, reps, [&] { vec_gelu(xv); });
  const Variable y = vec_gelu(xv);
  const double t_bwd = median_ms(stream, reps, [&] { y.grad_fn()->backward(g, needs); });

  // GB/s from GB moved and milliseconds.
  auto rate = [](double gbytes, double ms) { return gbytes / (ms * 1e-3); };
  const double bw_copy = rate(2 * gb, t_copy), bw_vec = rate(5 * gb, t_fwd + t_bwd);
  fmt::print("float32 {}, {} elements, median of {} (CUDA events)\n", shape_str(shape), x.numel(), reps);
  fmt::print("{:<28} {:>9} {:>10} {:>9}\n", "", "ms", "GB moved", "GB/s");
  fmt::print("{:<28} {:>9.3f} {:>10.3f} {:>9.0f}\n", "device-to-device copy", t_copy, 2 * gb, bw_copy);
  fmt::print("{:<28} {:>9.3f} {:>10.3f} {:>9.0f}\n", "vec_gelu blocks(4) forward", t_fwd, 2 * gb, rate(2 * gb, t_fwd));
  fmt::print("{:<28} {:>9.3f} {:>10.3f} {:>9.0f}\n", "vec_gelu blocks(4) backward", t_bwd, 3 * gb, rate(3 * gb, t_bwd));
  fmt::print("{:<28} {:>9.3f} {:>10.3f} {:>9.0f}\n", "vec_gelu forward+backward", t_fwd + t_bwd, 5 * gb, bw_vec);
  const double ratio = bw_vec / bw_copy;
  fmt::print("summary: vec_gelu blocks(4) fwd+bwd {:.0f} GB/s = {:.1f}% of copy's {:.0f} GB/s (target >= 70%: {})\n",
             bw_vec, 100 * ratio, bw_copy, ratio >= 0.7 ? "met" : "NOT met");
  return 0;
}
