// The VecGELU study's pieces: forward hooks, the ImageNet transforms, the training
// monitor (values computed by hand), checkpoints, and the trainer end to end on a tiny
// image folder written here.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "activations/activations.h"
#include "core/random.h"
#include "data/dataloader.h"
#include "data/image_folder.h"
#include "data/transforms.h"
#include "layers/linear.h"
#include "layers/monitor.h"
#include "optim/adam.h"
#include "optim/checkpoint.h"
#include "test_util.h"

using namespace tg;
using namespace tg::ops;
using namespace tg::testing;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Records its tag when its forward runs.
struct Tagged : Module {
  Tagged(std::vector<std::string>* log, std::string tag) : log(log), tag(std::move(tag)) {}
  Variable forward(const Variable& x) override { return x; }
  std::string name() const override { return "Tagged"; }
  std::vector<std::string>* log;
  std::string tag;
};

Tensor image_of(const std::vector<float>& v, int64_t C, int64_t H, int64_t W) {
  return from_vector(v, {C, H, W});
}

std::vector<json> read_jsonl(const fs::path& path) {
  std::ifstream in(path);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

}  // namespace

TEST_CASE("module: forward hooks fire in module order and stop after their handle is removed") {
  std::vector<std::string> fired;
  auto a = std::make_shared<Tagged>(nullptr, "a"), b = std::make_shared<Tagged>(nullptr, "b"),
       c = std::make_shared<Tagged>(nullptr, "c");
  Sequential model({a, b, std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{c})});
  auto record = [&](const std::string& tag) {
    return [&fired, tag](Module& m, const Variable& x, const Variable& y) {
      CHECK(m.name() == (tag == "model" ? "Sequential" : "Tagged"));
      CHECK(x.shape() == y.shape());
      fired.push_back(tag);
    };
  };
  HookHandle hm = model.register_forward_hook(record("model"));
  HookHandle ha = a->register_forward_hook(record("a"));
  HookHandle hc = c->register_forward_hook(record("c"));
  HookHandle hb = b->register_forward_hook(record("b"));
  HookHandle hb2 = b->register_forward_hook(record("b2"));
  model(Variable(zeros({2})));
  CHECK(fired == std::vector<std::string>{"a", "b", "b2", "c", "model"});
  fired.clear();
  ha.remove();
  hb.remove();
  hb.remove();  // a second remove does nothing
  model(Variable(zeros({2})));
  CHECK(fired == std::vector<std::string>{"b2", "c", "model"});
  fired.clear();
  model.forward(Variable(zeros({2})));  // forward() itself runs no hook of its own module
  CHECK(fired == std::vector<std::string>{"b2", "c"});
  CHECK(error_of([&] { a->register_forward_hook(nullptr); }) == "register_forward_hook: the hook of Tagged is empty");
}

TEST_CASE("transforms: resize_bilinear, exact pixels when enlarging and when shrinking (antialiased)") {
  // [0, 1] → 4 pixels: half-pixel centres at 0.25·(x + ½) − ½, clamped at the edges.
  CHECK(resize_bilinear(image_of({0, 1}, 1, 1, 2), 1, 4).to_vector<float>() ==
        std::vector<float>{0, 0.25f, 0.75f, 1});
  // [0, 1, 2, 3] → 2: triangle of half-width 2 at centres 1 and 3; weights (.75, .75, .25) and
  // (.25, .75, .75), normalized by 1.75: 5/7 and 16/7 (torch's antialiased bilinear agrees).
  const std::vector<float> shrunk = resize_bilinear(image_of({0, 1, 2, 3}, 1, 1, 4), 1, 2).to_vector<float>();
  CHECK(shrunk[0] == doctest::Approx(5.0 / 7).epsilon(1e-6));
  CHECK(shrunk[1] == doctest::Approx(16.0 / 7).epsilon(1e-6));
  // A plane 2y + x stays a plane of the clamped coordinates u = (0, ¼, ¾, 1), per channel.
  Tensor out = resize_bilinear(image_of({0, 1, 2, 3, 10, 11, 12, 13}, 2, 2, 2), 4, 4);
  REQUIRE(out.shape() == Shape{2, 4, 4});
  const std::vector<float> v = out.to_vector<float>();
  const float u[4] = {0, 0.25f, 0.75f, 1};
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) CHECK(v[c * 16 + i * 4 + j] == doctest::Approx(10 * c + 2 * u[i] + u[j]));
  // Shrinking 5×7 → 3×2 in both axes at once: torch.nn.functional.interpolate(antialias=True)'s values.
  std::vector<float> ramp(35);
  for (int i = 0; i < 35; ++i) ramp[i] = (float)i;
  const std::vector<float> torch_values = {4.5814f, 7.4186f, 15.5814f, 18.4186f, 26.5814f, 29.4186f};
  const std::vector<float> small = resize_bilinear(image_of(ramp, 1, 5, 7), 3, 2).to_vector<float>();
  for (size_t i = 0; i < 6; ++i) CHECK(small[i] == doctest::Approx(torch_values[i]).epsilon(2e-5));
  CHECK(error_of([] { resize_bilinear(zeros({1, 2, 2}), 0, 3); }) == "resize_bilinear: size must be positive, got 0x3");
}

TEST_CASE("transforms: Resize sets the shorter side, CenterCrop rounds its offset half to even") {
  SampleRng rng(0, 0);
  CHECK(Resize(3)(zeros({1, 4, 6}), rng).shape() == Shape{1, 3, 4});  // 3·6/4 = 4.5 → 4
  CHECK(Resize(2)(zeros({3, 7, 3}), rng).shape() == Shape{3, 4, 2});  // 2·7/3 → 4
  std::vector<float> px;
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 6; ++x) px.push_back((float)(10 * y + x));
  const Tensor img = image_of(px, 1, 5, 6);
  // (5 − 2)/2 = 1.5 → 2 and (6 − 3)/2 = 1.5 → 2
  CHECK(CenterCrop(2, 3)(img, rng).to_vector<float>() == std::vector<float>{22, 23, 24, 32, 33, 34});
  // (5 − 4)/2 = 0.5 → 0 and (6 − 5)/2 = 0.5 → 0
  CHECK(CenterCrop(4, 5)(img, rng).to_vector<float>()[0] == 0);
  CHECK(CenterCrop(3, 4)(img, rng).to_vector<float>()[0] == 11);
  CHECK(error_of([&] { CenterCrop(6, 2)(img, rng); }) == "CenterCrop: crop 6x2 is larger than the image [1, 5, 6]");
}

TEST_CASE("transforms: RandomResizedCrop boxes stay inside the image, follow scale and ratio, and repeat per sample") {
  const RandomResizedCrop rrc(8, 8);
  const EpochKeys keys = epoch_keys(5, 0);
  std::set<std::tuple<int64_t, int64_t, int64_t, int64_t>> boxes;
  for (int64_t i = 0; i < 500; ++i) {
    SampleRng rng(keys.sample, (uint64_t)i);
    const auto b = rrc.box(60, 80, rng);
    CAPTURE(i);
    REQUIRE(b.height > 0);
    REQUIRE(b.width > 0);
    CHECK(b.top >= 0);
    CHECK(b.left >= 0);
    CHECK(b.top + b.height <= 60);
    CHECK(b.left + b.width <= 80);
    // w·h ≈ a·H·W with a ∈ [0.08, 1] and w/h ∈ [3/4, 4/3], up to the rounding of w and h
    const double area = (double)(b.height * b.width) / (60.0 * 80.0), aspect = (double)b.width / (double)b.height;
    CHECK(area >= 0.06);
    CHECK(area <= 1.0);
    CHECK(aspect >= 0.75 * (1 - 1.0 / (double)b.height) - 1e-9);
    CHECK(aspect <= 4.0 / 3.0 * (1 + 1.0 / (double)b.height) + 1e-9);
    boxes.insert({b.top, b.left, b.height, b.width});
  }
  CHECK(boxes.size() > 400);  // the boxes vary from sample to sample
  const Tensor img = randn({3, 60, 80});
  SampleRng r1(keys.sample, 7), r2(keys.sample, 7), r3(keys.sample, 8);
  const Tensor a = rrc(img, r1), b = rrc(img, r2), c = rrc(img, r3);
  CHECK(a.shape() == Shape{3, 8, 8});
  CHECK(a.to_vector<float>() == b.to_vector<float>());
  CHECK(a.to_vector<float>() != c.to_vector<float>());
  // A 1×100 strip: no attempt fits (h ≥ 2), so the fallback takes the central 1×1 (ratio ≤ 4/3).
  SampleRng r4(keys.sample, 0);
  const auto f = RandomResizedCrop(4, 4, {0.9, 1.0}).box(1, 100, r4);
  CHECK(std::tuple{f.top, f.left, f.height, f.width} == std::tuple{0, 49, 1, 1});
  CHECK(error_of([] { RandomResizedCrop(4, 4, {0.5, 0.2}); }) ==
        "RandomResizedCrop: scale must satisfy 0 < min <= max <= 1, got (0.5, 0.2)");
}

TEST_CASE("ImageFolder: at native size, a corrupt image reaches the loader as an error naming the file") {
  TempDir dir("tg_study");
  fs::create_directories(dir.path / "cls");
  write_png(dir / "cls/a.png", full({3, 5, 7}, 0.5));
  write_png(dir / "cls/b.png", full({1, 5, 7}, 1.0));
  write_bytes(dir / "cls/c.png", {0x89, 'P', 'N', 'G', 1, 2, 3});
  ImageFolder ds(dir.path.string());
  CHECK(ds[0].data.shape() == Shape{3, 5, 7});
  CHECK(ds[0].data.to_vector<float>() == std::vector<float>(105, 128 / 255.f));  // round(127.5) = 128
  CHECK(ds[1].data.to_vector<float>() == std::vector<float>(105, 1.0f));
  auto tf = std::make_shared<CenterCrop>(4, 4);
  DataLoader loader(std::make_shared<TransformDataset>(std::make_shared<ImageFolder>(dir.path.string()), tf),
                    {.batch_size = 3, .num_workers = 2});
  CHECK(error_of([&] {
          for (const Batch& b : loader) CHECK(b.data.size(0) == 3);
        }).find("ImageFolder: cannot decode image '" + (dir / "cls/c.png") + "'") != std::string::npos);
  CHECK(error_of([&] { write_png(dir / "cls/d.png", zeros({2, 3, 3})); })
            .starts_with("write_png: " + (dir / "cls/d.png") + ": expected a float32 [1 or 3, H, W] image"));
}

TEST_CASE("monitor: per-layer values of a tiny network, computed by hand") {
  // x → Linear W1 → ReLU → VecGELU (d = 2) → Linear W2, loss = Σ out.
  auto l1 = std::make_shared<Linear>(2, 2, false), l2 = std::make_shared<Linear>(2, 1, false);
  l1->weight.data().copy_(tensor({1, 0, 0, -1}).view({2, 2}));
  l2->weight.data().copy_(tensor({2, 0}).view({1, 2}));
  Sequential model({l1, std::make_shared<ReLU>(), std::make_shared<VecGELU>(VectorGrouping::last_dim()), l2});
  std::ostringstream out;
  TrainingMonitor monitor(model, out, 2);
  CHECK(monitor.weight_layers() == 2);
  CHECK(monitor.activation_layers() == 2);
  const Variable x(tensor({1, 2, 3, 4}).to(kFloat32).view({2, 2}));
  for (int64_t step = 1; step <= 2; ++step) {
    monitor.begin_step(step);
    model.zero_grad();
    Variable loss = sum(model(x));
    loss.backward();
    monitor.end_step(step, 0.5 * (double)step);
  }
  model(x);  // hooks are gone after end_step: nothing more is recorded or written
  std::istringstream in(out.str());
  std::string text;
  std::getline(in, text);
  CHECK(in.peek() == EOF);  // step 1 is not logged
  const json line = json::parse(text);
  CHECK(line["step"] == 2);
  CHECK(line["train_loss"] == 1.0);
  // h = x·W1ᵀ = [[1, −2], [3, −4]]; ReLU → [[1, 0], [3, 0]]: mean 1, variance 6/4, half zeros,
  // feature 1 dead. VecGELU (d = 2): s(r) = P(1, r²/2) = 1 − e^(−r²/2) for r = 1 and 3.
  const double s1 = 1 - std::exp(-0.5), s3 = 1 - std::exp(-4.5), e = std::exp(-4.5);
  auto approx = [](const json& j) { return doctest::Approx(j.get<double>()).epsilon(1e-6); };
  CHECK(1.0 == approx(line["act_mean"][0]));
  CHECK(1.5 == approx(line["act_var"][0]));
  CHECK(1.0 == approx(line["act_abs_mean"][0]));
  CHECK(line["act_zero_frac"] == json::array({0.5, 0.5}));
  CHECK(line["act_dead_frac"] == json::array({0.5, 0.5}));
  CHECK((s1 + 3 * s3) / 4 == approx(line["act_mean"][1]));
  CHECK(line["vec_norm_mean"][0].is_null());  // ReLU is elementwise
  CHECK(2.0 == approx(line["vec_norm_mean"][1]));
  CHECK((s1 + s3) / 2 == approx(line["vec_scale_mean"][1]));
  // ∂L/∂W2 = Σₙ yₙ = [s1 + 3·s3, 0]. Through VecGELU, ∂L/∂v = s·g + s′(r)/r·(v·g)·v with
  // g = W2 and s′(r) = r·e^(−r²/2): [2, 0] and [2 + 16e^(−4.5), 0]; ReLU keeps column 0, so
  // ∂L/∂W1 = [[8 + 48e, 12 + 64e], [0, 0]] with e = e^(−4.5).
  CHECK(5 + 28 * e == approx(line["grad_abs_mean"][0]));
  CHECK((s1 + 3 * s3) / 2 == approx(line["grad_abs_mean"][1]));
  CHECK(std::sqrt(2.0) == approx(line["weight_norm"][0]));
  CHECK(2.0 == approx(line["weight_norm"][1]));
  CHECK(line["weight_zero_frac"] == json::array({0.5, 0.5}));

  std::ostringstream eval_out;
  TrainingMonitor(model, eval_out, 1).log_eval(7, 0.25, 0.5, 0.75);
  CHECK(json::parse(eval_out.str()) == json{{"step", 7}, {"val_loss", 0.25}, {"val_acc", 0.5}, {"val_acc5", 0.75}});
  CHECK(error_of([&] { TrainingMonitor(model, out, 0); }) == "TrainingMonitor: log_every must be at least 1, got 0");
}

TEST_CASE("monitor: every vector activation of the registry exposes its grouping, no elementwise one does") {
  for (const ActivationInfo& a : activation_registry()) {
    CAPTURE(a.name);
    auto m = a.make(true, 4);
    CHECK((dynamic_cast<const VectorActivation*>(m.get()) != nullptr) == a.vector);
  }
}

TEST_CASE("checkpoint: save_checkpoint and load_checkpoint restore model, optimizer and generator") {
  TempDir dir("tg_study");
  const std::string path = dir / "ck.safetensors";
  manual_seed(1);
  Sequential a({std::make_shared<Linear>(3, 2)});
  Adam opt_a(a.parameters(), {.lr = 0.1});
  sum(a(Variable(randn({4, 3})))).backward();
  opt_a.step();
  save_checkpoint(path, a, opt_a, {{"epoch", "3"}});
  const Generator saved = default_generator();

  manual_seed(2);
  Sequential b({std::make_shared<Linear>(3, 2)});
  Adam opt_b(b.parameters(), {.lr = 0.1});
  CHECK(error_of([&] { load_checkpoint(path, b, opt_b, {{"epoch", "4"}}); }) ==
        "load_checkpoint: " + path + ": checkpoint has epoch = 3, this run has 4");
  CHECK(b.state_dict()[0].second.to_vector<float>() != a.state_dict()[0].second.to_vector<float>());
  const Metadata meta = load_checkpoint(path, b, opt_b, {{"epoch", "3"}});
  CHECK(meta.at("epoch") == "3");
  CHECK(meta.at("rng_offset") == std::to_string(saved.offset()));
  CHECK(default_generator().seed() == saved.seed());
  CHECK(default_generator().offset() == saved.offset());
  for (size_t i = 0; i < a.state_dict().size(); ++i)
    CHECK(b.state_dict()[i].second.to_vector<float>() == a.state_dict()[i].second.to_vector<float>());
  const NamedTensors sa = opt_a.state_dict(), sb = opt_b.state_dict();
  REQUIRE(sa.size() == sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    CHECK(sa[i].first == sb[i].first);
    CHECK(sa[i].second.to_vector<double>() == sb[i].second.to_vector<double>());
  }
  CHECK(error_of([&] { save_checkpoint(path, a, opt_a, {{"rng_seed", "1"}}); }) ==
        "save_checkpoint: " + path + ": metadata key 'rng_seed' is reserved for the generator state");
}

TEST_CASE("vecgelu_study: two steps per run on a tiny image folder, one finite monitor entry per layer, resume") {
  const std::string bin = std::string(TG_BINARY_DIR) + "/examples/vecgelu_study";
  REQUIRE(fs::exists(bin));
  TempDir dir("tg_study");
  Generator gen(4);
  // 2 classes × 3 training images of different sizes, 2 × 1 validation images.
  for (const char* split : {"train", "val"})
    for (const char* cls : {"a", "b"}) {
      fs::create_directories(dir.path / "data" / split / cls);
      for (int i = 0; i < (split == std::string("train") ? 3 : 1); ++i)
        write_png((dir.path / "data" / split / cls / fmt::format("{}.png", i)).string(),
                  rand({3, 10 + 2 * i, 12 - i}, kFloat32, &gen));
    }
  const std::string cmd = fmt::format(
      "{} --data {} --out {} --acts gelu,vecgelu --init-scale 1,2 --depth 2 --width 4 --size 8 --batch-size 3 "
      "--lr 1e-3 --log-every 1 --threads 1 --workers 2 --quiet",
      bin, dir / "data", dir / "runs");
  REQUIRE(std::system((cmd + " --epochs 1 > " + dir / "log1.txt 2>&1").c_str()) == 0);
  for (const char* act : {"gelu", "vecgelu"}) {
    CAPTURE(act);
    const fs::path run = dir.path / "runs" / act;
    CHECK(fs::exists(run / "epoch1.safetensors"));
    const std::vector<json> lines = read_jsonl(run / "train.jsonl");
    REQUIRE(lines.size() == 4);  // eval 0, steps 0 and 1, eval 2
    CHECK(lines[0]["step"] == 0);
    CHECK(lines[3]["step"] == 2);
    for (const json& ev : {lines[0], lines[3]}) {
      CHECK(ev["val_acc"].get<double>() >= 0);
      CHECK(ev["val_acc"].get<double>() <= 1);
      CHECK(ev["val_acc5"] == 1.0);  // two classes
      CHECK(std::isfinite(ev["val_loss"].get<double>()));
    }
    for (int k = 1; k <= 2; ++k) {
      const json& m = lines[k];
      CHECK(m["step"] == k - 1);
      CHECK(std::isfinite(m["train_loss"].get<double>()));
      std::vector<std::string> keys = {"grad_abs_mean", "weight_norm", "weight_zero_frac", "act_mean", "act_var",
                                       "act_abs_mean", "act_zero_frac", "act_dead_frac"};
      if (act == std::string("vecgelu")) keys.insert(keys.end(), {"vec_norm_mean", "vec_scale_mean"});
      CHECK(m.contains("vec_norm_mean") == (act == std::string("vecgelu")));
      for (const std::string& key : keys) {
        CAPTURE(key);
        REQUIRE(m[key].size() == (key.starts_with("grad") || key.starts_with("weight") ? 3u : 2u));
        for (const json& v : m[key]) CHECK(v.is_number());
      }
      for (const json& v : m["grad_abs_mean"]) CHECK(v.get<double>() > 0);
    }
  }
  // Same seed: both runs start from the same convolutions, scaled ×1 and ×2.
  const std::vector<json> g = read_jsonl(dir.path / "runs/gelu/train.jsonl"),
                          v = read_jsonl(dir.path / "runs/vecgelu/train.jsonl");
  for (int layer = 0; layer < 3; ++layer)
    CHECK(v[1]["weight_norm"][layer].get<double>() ==
          doctest::Approx(2 * g[1]["weight_norm"][layer].get<double>()).epsilon(1e-6));

  REQUIRE(std::system((cmd + " --epochs 2 --resume > " + dir / "log2.txt 2>&1").c_str()) == 0);
  const std::vector<json> resumed = read_jsonl(dir.path / "runs/gelu/train.jsonl");
  REQUIRE(resumed.size() == 7);  // + steps 2 and 3, eval 4
  CHECK(resumed[4]["step"] == 2);
  CHECK(resumed[6]["step"] == 4);
  CHECK(resumed[6].contains("val_acc"));
  CHECK(fs::exists(dir.path / "runs/gelu/epoch2.safetensors"));
}
