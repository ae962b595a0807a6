#pragma once
// Seeded 2-D Perlin noise and the island map of the activation lab.
//
// Perlin's improved noise (2002) in two dimensions: the plane is cut into unit cells;
// each lattice corner gets one of 8 unit gradient vectors (angles k·π/4) from a
// permutation of 0..255 shuffled by the seed; a point's value blends the four corners'
// dot products g·(p − corner) with the quintic fade 6t⁵ − 15t⁴ + 10t³. The value is 0
// at every lattice point and, with unit gradients, |n| ≤ √(2/4) = √2/2 everywhere
// (the bound √(n/4) for n dimensions), which the tests check.
#include <array>
#include <cmath>
#include <cstdint>

namespace tg::lab {

class Perlin2D {
 public:
  explicit Perlin2D(uint64_t seed) {
    std::array<uint8_t, 256> p;
    for (int i = 0; i < 256; ++i) p[i] = static_cast<uint8_t>(i);
    // Fisher–Yates driven by splitmix64: the same map from a seed on every platform
    // (std::shuffle's algorithm is implementation-defined).
    uint64_t state = seed;
    for (int i = 255; i > 0; --i) {
      const uint64_t j = splitmix64(state) % static_cast<uint64_t>(i + 1);
      std::swap(p[i], p[j]);
    }
    for (int i = 0; i < 512; ++i) perm_[i] = p[i & 255];
  }

  double operator()(double x, double y) const {
    const double fx = std::floor(x), fy = std::floor(y);
    const int xi = static_cast<int>(static_cast<int64_t>(fx) & 255);
    const int yi = static_cast<int>(static_cast<int64_t>(fy) & 255);
    const double tx = x - fx, ty = y - fy;
    const double n00 = corner(xi, yi, tx, ty), n10 = corner(xi + 1, yi, tx - 1, ty);
    const double n01 = corner(xi, yi + 1, tx, ty - 1), n11 = corner(xi + 1, yi + 1, tx - 1, ty - 1);
    const double u = fade(tx), v = fade(ty);
    return lerp(v, lerp(u, n00, n10), lerp(u, n01, n11));
  }

 private:
  static uint64_t splitmix64(uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  static double fade(double t) { return t * t * t * (t * (t * 6 - 15) + 10); }
  static double lerp(double t, double a, double b) { return a + t * (b - a); }
  // g·(dx, dy) for the corner's gradient, one of 8 unit vectors k·π/4.
  double corner(int xi, int yi, double dx, double dy) const {
    static constexpr double r = 0.70710678118654752440;
    static constexpr double gx[8] = {1, r, 0, -r, -1, -r, 0, r};
    static constexpr double gy[8] = {0, r, 1, r, 0, -r, -1, -r};
    const int h = perm_[perm_[xi & 255] + (yi & 255)] & 7;
    return gx[h] * dx + gy[h] * dy;
  }
  std::array<uint8_t, 512> perm_;
};

// The island map over [−1, 1]²: two octaves of noise (cells of width 1/2 and 1/4 in
// the square's units) minus a radial falloff, so land gathers near the centre and the
// edge is mostly sea. True = island.
class IslandMap {
 public:
  explicit IslandMap(uint64_t seed) : noise_(seed) {}
  double height(double x, double y) const {
    const double n = noise_(2 * x + 10.5, 2 * y + 10.5) + 0.5 * noise_(4 * x + 20.5, 4 * y + 20.5);
    return n + 0.2 - 0.45 * (x * x + y * y);
  }
  bool island(double x, double y) const { return height(x, y) > 0; }

 private:
  Perlin2D noise_;
};

}  // namespace tg::lab
