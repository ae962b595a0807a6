// The activation lab's building blocks (examples/lab/): the seeded Perlin noise behind
// the island map, the per-tensor quantization error, and the self-normalization claim
// of SELU against ReLU's decay through 64 LeCun-initialized layers.
#include <doctest/doctest.h>

#include <cmath>

#include "examples/lab/depth.h"
#include "examples/lab/perlin.h"
#include "examples/lab/quantize.h"

using namespace tg;
using namespace tg::ops;

TEST_CASE("lab: Perlin noise is determined by its seed, 0 on the lattice and within ±√2/2") {
  const lab::Perlin2D a(42), b(42), c(43);
  int differ = 0;
  double peak = 0;
  for (int i = 0; i < 300; ++i)
    for (int j = 0; j < 300; ++j) {
      const double x = -7.3 + 0.049 * i, y = -5.1 + 0.047 * j;
      const double v = a(x, y);
      CHECK(v == b(x, y));
      differ += v != c(x, y);
      peak = std::max(peak, std::abs(v));
      REQUIRE(std::abs(v) <= std::sqrt(0.5) + 1e-12);
    }
  CHECK(differ > 80000);  // another seed gives another map
  CHECK(peak > 0.5);      // and the values use most of the range
  for (int i = -3; i <= 3; ++i)
    for (int j = -3; j <= 3; ++j) CHECK(a(i, j) == 0.0);
  const lab::IslandMap map(7);
  int land = 0, border_land = 0;
  for (int i = 0; i < 100; ++i)
    for (int j = 0; j < 100; ++j) {
      const double x = -1 + (2 * i + 1) / 100.0, y = -1 + (2 * j + 1) / 100.0;
      land += map.island(x, y);
      if (i == 0 || j == 0 || i == 99 || j == 99) border_land += map.island(x, y);
    }
  CHECK(land > 2000);
  CHECK(land < 8000);
  CHECK(border_land * 10000 < land * 396);  // the radial falloff: less land on the edge than overall
}

TEST_CASE("lab: quantization error of a known set against the hand-computed value") {
  // y = {0, 0.2, 0.6, 1} on 2 bits: 4 levels 0, 1/3, 2/3, 1. 0.2 → 1/3 (error 2/15),
  // 0.6 → 2/3 (error 1/15): ‖ŷ − y‖² = 5/225 = 1/45, ‖y‖² = 1.4, ratio √(1/63).
  const std::vector<double> y{0, 0.2, 0.6, 1};
  const std::vector<double> q = lab::quantize_dequantize(y, 2);
  CHECK(q[0] == 0);
  CHECK(q[1] == doctest::Approx(1.0 / 3).epsilon(1e-15));
  CHECK(q[2] == doctest::Approx(2.0 / 3).epsilon(1e-15));
  CHECK(q[3] == 1);
  CHECK(lab::quantization_relative_error(y, 2) == doctest::Approx(std::sqrt(1.0 / 63)).epsilon(1e-14));
  // 8 bits on a ramp that lies on the levels is exact; a constant tensor is kept as is.
  std::vector<double> ramp;
  for (int i = 0; i < 256; ++i) ramp.push_back(-1 + 3.0 * i / 255);
  CHECK(lab::quantization_relative_error(ramp, 8) < 1e-15);
  CHECK(lab::quantize_dequantize({2.5, 2.5}, 4) == std::vector<double>{2.5, 2.5});
}

TEST_CASE("lab: SELU keeps mean 0 and variance 1 through 64 LeCun layers while ReLU loses half its variance per layer") {
  const lab::DepthStats selu = lab::depth_statistics("selu", 64, 256, 512, 0);
  REQUIRE(selu.var.size() == 64);
  for (size_t l = 0; l < 64; ++l) {
    CAPTURE(l);
    CHECK(selu.var[l] >= 0.8);
    CHECK(selu.var[l] <= 1.25);
    CHECK(std::abs(selu.mean[l]) <= 0.1);
  }
  const lab::DepthStats relu = lab::depth_statistics("relu", 64, 256, 512, 0);
  // E[relu(z)²] = E[z²]/2 and Var(relu z) = E[z²]·(1/2 − 1/2π): both halve per layer.
  const double per_layer = std::pow(relu.var[63] / relu.var[0], 1.0 / 63);
  CHECK(per_layer > 0.45);
  CHECK(per_layer < 0.55);
  CHECK(relu.var[63] < 1e-15);
  CHECK(relu.var[0] == doctest::Approx(0.5 - 0.5 / M_PI).epsilon(0.1));
}
