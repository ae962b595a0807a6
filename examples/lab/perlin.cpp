// Folds on Perlin-noise islands. A 2→8→8→8→1 network (sigmoid output, binary
// cross-entropy on logits) learns which points of [−1, 1]² are island, once per
// activation and seed. For each activation one PNG shows, in tiles over the plane:
//   row 1: the ground truth, the predicted probability, the misclassified points;
//   rows 2–4: every hidden unit's output, layer by layer (red > 0, blue < 0, white 0,
//             each tile scaled by its own largest |value|).
// The first layer shows the activation applied to a tilted plane; deeper layers show
// folds of folds. perlin.csv gets each net's accuracy on a grid, its accuracy with the
// hidden activations quantized to int8 and int4 (one scale per tensor, quantize.h),
// and its dead units (hidden units constant over every grid point).
// stb_image_write is C written for C; its `= {0}` initializers trip -Wextra in C++.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <fmt/core.h>
#include <fmt/os.h>

#include "activations/registry.h"
#include "core/random.h"
#include "examples/lab/lab.h"
#include "examples/lab/perlin.h"
#include "examples/lab/quantize.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "optim/adam.h"

namespace tg::lab {

namespace {

constexpr int64_t kWidth = 8, kHidden = 3;
const std::vector<std::string> kActivations = {"prelu", "silu", "gelu", "hardswish", "hardgelu",
                                               "relu",  "elu",  "selu", "vecgelu"};

// A vector activation over the 8 units as 2 vectors of 4: [N, 8] → [N, 2, 4], the
// activation on the last dim, and back.
class GroupsOf4 : public Module {
 public:
  explicit GroupsOf4(std::shared_ptr<Module> inner) : inner_(register_module("act", std::move(inner))) {}
  Variable forward(const Variable& x) override {
    return view((*inner_)(view(x, {x.size(0), kWidth / 4, 4})), {x.size(0), kWidth});
  }
  std::string name() const override { return "GroupsOf4"; }

 private:
  std::shared_ptr<Module> inner_;
};

struct Net {
  std::vector<Linear> linear;
  std::vector<Shared<Module>> act;

  explicit Net(const std::string& activation) {
    linear.emplace_back(2, kWidth);
    for (int64_t l = 0; l < kHidden; ++l) {
      auto a = make_activation(activation, false, kWidth);
      act.push_back(activation_info(activation).vector ? Shared<Module>(GroupsOf4(a)) : Shared<Module>(a));
      linear.emplace_back(kWidth, l + 1 < kHidden ? kWidth : 1);
    }
  }
  std::vector<Variable> parameters() const {
    std::vector<Variable> ps;
    for (const auto& l : linear)
      for (const Variable& p : l.parameters()) ps.push_back(p);
    for (const auto& a : act)
      for (const Variable& p : a->parameters()) ps.push_back(p);
    return ps;
  }
  // Logits; `hidden` (when given) receives each hidden layer's output, after
  // quantization to `bits` when bits > 0.
  Variable forward(const Variable& x, int bits = 0, std::vector<Tensor>* hidden = nullptr) {
    Variable h = x;
    for (int64_t l = 0; l < kHidden; ++l) {
      h = (*act[l])(linear[l](h));
      if (bits > 0) {
        const std::vector<double> q = quantize_dequantize(h.data().to_vector<double>(), bits);
        h = from_vector(q, h.shape()).to(kFloat32);
      }
      if (hidden) hidden->push_back(h.data());
    }
    return linear[kHidden](h);
  }
  void train(bool on) {
    for (const auto& a : act) a->train(on);
  }
};

// Centres of a side×side grid over [−1, 1]², row-major from the top (y = +1) row.
Tensor plane_grid(int side) {
  std::vector<float> xy;
  for (int i = 0; i < side; ++i)
    for (int j = 0; j < side; ++j) {
      xy.push_back(static_cast<float>(-1 + (2 * j + 1.0) / side));
      xy.push_back(static_cast<float>(1 - (2 * i + 1.0) / side));
    }
  return from_vector(xy, {static_cast<int64_t>(side) * side, 2});
}

std::vector<float> island_labels(const IslandMap& map, const Tensor& xy) {
  const std::vector<float> p = xy.to_vector<float>();
  std::vector<float> labels(p.size() / 2);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = map.island(p[2 * i], p[2 * i + 1]) ? 1.0f : 0.0f;
  return labels;
}

double accuracy(const Tensor& logits, const std::vector<float>& labels) {
  const std::vector<float> z = logits.to_vector<float>();
  int64_t right = 0;
  for (size_t i = 0; i < z.size(); ++i) right += (z[i] > 0) == (labels[i] > 0.5f);
  return static_cast<double>(right) / static_cast<double>(z.size());
}

// Tiles of `tile`×`tile` pixels, 8 per row, 2-pixel white gaps.
class TileImage {
 public:
  TileImage(int tile, int rows) : tile_(tile), w_(8 * (tile + 2)), h_(rows * (tile + 2)), rgb_(w_ * h_ * 3, 255) {}
  template <class ColorFn>
  void put(int row, int col, ColorFn color) {
    for (int i = 0; i < tile_; ++i)
      for (int j = 0; j < tile_; ++j) {
        const auto [r, g, b] = color(i * tile_ + j);
        uint8_t* px = &rgb_[((row * (tile_ + 2) + 1 + i) * w_ + col * (tile_ + 2) + 1 + j) * 3];
        px[0] = r, px[1] = g, px[2] = b;
      }
  }
  void write(const std::string& path) const {
    if (!stbi_write_png(path.c_str(), w_, h_, 3, rgb_.data(), w_ * 3))
      throw Error(fmt::format("lab perlin: cannot write {}", path));
  }

 private:
  int tile_, w_, h_;
  std::vector<uint8_t> rgb_;
};

using RGB = std::tuple<uint8_t, uint8_t, uint8_t>;

// Red for v > 0, blue for v < 0, white at 0; v in [−1, 1].
RGB diverging(double v) {
  const auto c = static_cast<uint8_t>(255 * (1 - std::min(std::abs(v), 1.0)));
  return v >= 0 ? RGB{255, c, c} : RGB{c, c, 255};
}

// Sea (blue) to island (sand) by p in [0, 1].
RGB sea_to_island(double p) {
  auto mix = [p](double a, double b) { return static_cast<uint8_t>(a + p * (b - a)); };
  return {mix(40, 235), mix(90, 200), mix(180, 130)};
}

void write_fold_image(Net& net, const IslandMap& map, int tile, const std::string& path) {
  const Tensor xy = plane_grid(tile);
  const std::vector<float> truth = island_labels(map, xy);
  std::vector<Tensor> hidden;
  std::vector<float> logits;
  {
    NoGrad ng;
    logits = net.forward(xy, 0, &hidden).data().to_vector<float>();
  }
  TileImage img(tile, 1 + kHidden);
  img.put(0, 0, [&](int k) { return sea_to_island(truth[k]); });
  img.put(0, 1, [&](int k) { return sea_to_island(1 / (1 + std::exp(-logits[k]))); });
  img.put(0, 2, [&](int k) { return (logits[k] > 0) == (truth[k] > 0.5f) ? RGB{255, 255, 255} : RGB{0, 0, 0}; });
  for (int64_t l = 0; l < kHidden; ++l) {
    const Tensor h = hidden[l].contiguous();
    const std::vector<float> v = h.to_vector<float>();
    for (int64_t u = 0; u < kWidth; ++u) {
      float peak = 0;
      for (size_t k = u; k < v.size(); k += kWidth) peak = std::max(peak, std::abs(v[k]));
      img.put(static_cast<int>(l + 1), static_cast<int>(u),
              [&](int k) { return diverging(peak > 0 ? v[k * kWidth + u] / peak : 0.0); });
    }
  }
  img.write(path);
}

}  // namespace

void run_perlin(const PerlinOptions& o) {
  const IslandMap map(o.map_seed);
  Generator data_gen(o.map_seed);
  const Tensor train_xy = uniform({o.points, 2}, -1, 1, kFloat32, &data_gen);
  const Variable train_y(from_vector(island_labels(map, train_xy), {o.points, 1}));
  const Tensor grid_xy = plane_grid(o.grid);
  const std::vector<float> grid_labels = island_labels(map, grid_xy);
  double land = 0;
  for (float l : grid_labels) land += l;
  fmt::print("perlin: island covers {:.1f}% of the plane; {} steps, {} points, {} seeds\n",
             100 * land / grid_labels.size(), o.steps, o.points, o.seeds);

  auto csv = fmt::output_file(o.out + "/perlin.csv");
  csv.print("activation,seed,loss,accuracy,accuracy_int8,accuracy_int4,dead_units,hidden_units\n");
  for (const std::string& name : kActivations) {
    for (int seed = 0; seed < o.seeds; ++seed) {
      manual_seed(1000 + static_cast<uint64_t>(seed));
      Net net(name);
      Adam opt(net.parameters(), {.lr = o.lr});
      double loss = 0;
      for (int step = 0; step < o.steps; ++step) {
        opt.zero_grad();
        Variable l = binary_cross_entropy_with_logits(net.forward(train_xy), train_y);
        l.backward();
        opt.step();
        loss = l.item();
      }
      net.train(false);
      NoGrad ng;
      std::vector<Tensor> hidden;
      const double acc = accuracy(net.forward(grid_xy, 0, &hidden).data(), grid_labels);
      const double acc8 = accuracy(net.forward(grid_xy, 8).data(), grid_labels);
      const double acc4 = accuracy(net.forward(grid_xy, 4).data(), grid_labels);
      int dead = 0;
      for (const Tensor& h : hidden) {
        const Tensor hc = h.contiguous();
        dead += static_cast<int>(ops::sum(ops::eq(ops::max(hc, 0), ops::min(hc, 0))).item());
      }
      csv.print("{},{},{},{},{},{},{},{}\n", name, seed, loss, acc, acc8, acc4, dead, kHidden * kWidth);
      fmt::print("perlin: {:<10} seed {}: loss {:.4f}, accuracy {:.2f}% (int8 {:.2f}%, int4 {:.2f}%), {} dead units\n",
                 name, seed, loss, 100 * acc, 100 * acc8, 100 * acc4, dead);
      if (seed == 0) write_fold_image(net, map, o.tile, o.figures + "/perlin_" + name + ".png");
    }
  }
}

}  // namespace tg::lab
