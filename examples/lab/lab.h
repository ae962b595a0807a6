#pragma once
// The activation lab's experiments, one function per subcommand of `lab` (main.cpp).
// Each writes what it measures as CSV into `out` (and the Perlin one its PNG images
// into `figures`); scripts/lab runs them all, then scripts/plot-lab.py draws the
// figures and scripts/plot-lab-tables.py writes the tables of docs/activations.md.
#include <cstdint>
#include <string>

namespace tg::lab {

// GELU as the mean of a Bernoulli gate: gelu_mc.csv.
struct GeluOptions {
  std::string out;
  int64_t samples = 20000;  // draws per grid point
  uint64_t seed = 0;
};
void run_gelu(const GeluOptions& o);

// Folds on Perlin-noise islands: perlin.csv and perlin_<activation>.png.
struct PerlinOptions {
  std::string out, figures;
  int steps = 1500, points = 1024, grid = 128, tile = 48, seeds = 3;
  double lr = 1e-2;
  uint64_t map_seed = 7;
};
void run_perlin(const PerlinOptions& o);

// Self-normalization through depth: depth.csv.
struct DepthOptions {
  std::string out;
  int layers = 64;
  int64_t width = 256, batch = 1024;
  uint64_t seed = 0;
};
void run_depth(const DepthOptions& o);

// The criteria of every activation measured on grids: criteria.csv, curves.csv,
// vecgelu_scale.csv.
struct CriteriaOptions {
  std::string out;
  double step = 1e-3;        // grid spacing on [−8, 8]
  int64_t samples = 160000;  // N(0, 3²) draws for the quantization error
  uint64_t seed = 0;
};
void run_criteria(const CriteriaOptions& o);

}  // namespace tg::lab
