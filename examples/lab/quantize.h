#pragma once
// Uniform (affine) quantization with one scale per tensor, as int8/int4 inference
// stores activations: the range [lo, hi] seen is cut into 2^bits − 1 equal steps,
//   q = round((y − lo)/Δ),  ŷ = lo + q·Δ,  Δ = (hi − lo)/(2^bits − 1),
// round() rounding halves away from zero. Bounded activations keep their whole output
// range in few buckets; unbounded ones spend the buckets on rare large outputs.
#include <algorithm>
#include <cmath>
#include <vector>

namespace tg::lab {

// ŷ for every y, over the tensor's own [min, max].
inline std::vector<double> quantize_dequantize(const std::vector<double>& y, int bits) {
  if (y.empty()) return {};
  const auto [lo_it, hi_it] = std::minmax_element(y.begin(), y.end());
  const double lo = *lo_it, hi = *hi_it;
  const double step = (hi - lo) / (std::ldexp(1.0, bits) - 1);
  std::vector<double> out(y.size());
  for (size_t i = 0; i < y.size(); ++i) out[i] = step > 0 ? lo + std::round((y[i] - lo) / step) * step : y[i];
  return out;
}

// ‖ŷ − y‖ / ‖y‖ (0 for an all-zero y).
inline double quantization_relative_error(const std::vector<double>& y, int bits) {
  const std::vector<double> q = quantize_dequantize(y, bits);
  double num = 0, den = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    num += (q[i] - y[i]) * (q[i] - y[i]);
    den += y[i] * y[i];
  }
  return den > 0 ? std::sqrt(num / den) : 0.0;
}

}  // namespace tg::lab
