// The activation lab: the small experiments behind docs/activations.md, one
// subcommand each (see lab.h). scripts/lab runs them all and draws the figures.
#include <CLI/CLI.hpp>
#include <filesystem>

#include "core/parallel.h"
#include "examples/lab/lab.h"

using namespace tg::lab;

int main(int argc, char** argv) {
  CLI::App app{"tapegrad activation lab: GELU's formation, Perlin folds, self-normalization, criteria"};
  app.require_subcommand(1);
  int threads = tg::get_num_threads();
  app.add_option("--threads", threads, "CPU threads")->capture_default_str();

  GeluOptions g;
  auto* gelu = app.add_subcommand("gelu", "Monte-Carlo E[x·m], m ~ Bernoulli(Φ(x)), against x·Φ(x)");
  gelu->add_option("--out", g.out, "folder for gelu_mc.csv")->required();
  gelu->add_option("--samples", g.samples, "draws per grid point")->capture_default_str();
  gelu->add_option("--seed", g.seed, "random seed")->capture_default_str();

  PerlinOptions p;
  auto* perlin = app.add_subcommand("perlin", "2→8→8→8→1 nets on a Perlin-noise island map, one per activation");
  perlin->add_option("--out", p.out, "folder for perlin.csv")->required();
  perlin->add_option("--figures", p.figures, "folder for the perlin_<activation>.png images")->required();
  perlin->add_option("--steps", p.steps, "full-batch Adam steps")->capture_default_str();
  perlin->add_option("--points", p.points, "training points drawn uniformly from [−1, 1]²")->capture_default_str();
  perlin->add_option("--grid", p.grid, "evaluation grid side (accuracy, dead units)")->capture_default_str();
  perlin->add_option("--tile", p.tile, "pixels per side of each image tile")->capture_default_str();
  perlin->add_option("--seeds", p.seeds, "initialization seeds per activation")->capture_default_str();
  perlin->add_option("--lr", p.lr, "Adam learning rate")->capture_default_str();
  perlin->add_option("--map-seed", p.map_seed, "seed of the noise map")->capture_default_str();

  DepthOptions d;
  auto* depth = app.add_subcommand("depth", "per-layer mean, variance and gradient norm of a deep LeCun-init MLP");
  depth->add_option("--out", d.out, "folder for depth.csv")->required();
  depth->add_option("--layers", d.layers, "layers")->capture_default_str();
  depth->add_option("--width", d.width, "units per layer")->capture_default_str();
  depth->add_option("--batch", d.batch, "Gaussian input rows")->capture_default_str();
  depth->add_option("--seed", d.seed, "random seed")->capture_default_str();

  CriteriaOptions c;
  auto* criteria = app.add_subcommand("criteria", "gating, smoothness, monotonicity, range, quantization error, curves");
  criteria->add_option("--out", c.out, "folder for criteria.csv, curves.csv, vecgelu_scale.csv")->required();
  criteria->add_option("--step", c.step, "grid spacing on [−8, 8]")->capture_default_str();
  criteria->add_option("--samples", c.samples, "N(0, 3²) inputs for the quantization error")->capture_default_str();
  criteria->add_option("--seed", c.seed, "random seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  tg::set_num_threads(threads);
  for (const std::string& dir : {g.out, p.out, p.figures, d.out, c.out})
    if (!dir.empty()) std::filesystem::create_directories(dir);
  if (*gelu) run_gelu(g);
  if (*perlin) run_perlin(p);
  if (*depth) run_depth(d);
  if (*criteria) run_criteria(c);
  return 0;
}
