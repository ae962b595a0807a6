#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <set>
#include <thread>

#include "core/ops.h"
#include "core/random.h"
#include "data/dataloader.h"
#include "data/transforms.h"

using namespace tg;

namespace {

// Example i is a [2, 3, 4] float tensor holding i·100 + position, label i % 7.
class IndexDataset : public Dataset {
 public:
  explicit IndexDataset(int64_t n) : n_(n) {}
  int64_t size() const override { return n_; }
  Example get(int64_t index, SampleRng&) const override {
    ++gets;
    if (index == throw_at) throw Error("IndexDataset: broken example " + std::to_string(index));
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    std::vector<float> v(24);
    for (int k = 0; k < 24; ++k) v[k] = (float)(index * 100 + k);
    return {from_vector(v, {2, 3, 4}), index % 7};
  }
  mutable std::atomic<int64_t> gets{0};
  int64_t throw_at = -1;
  int delay_ms = 0;

 private:
  int64_t n_;
};

// The dataset index behind each example of a batch of IndexDataset.
std::vector<int64_t> indices_of(const Batch& b) {
  std::vector<int64_t> out;
  const float* p = b.data.data<float>();
  for (int64_t i = 0; i < b.data.size(0); ++i) out.push_back((int64_t)p[i * 24] / 100);
  return out;
}

std::vector<std::vector<float>> epoch_data(DataLoader& loader) {
  std::vector<std::vector<float>> out;
  for (const Batch& b : loader) {
    out.push_back(b.data.to_vector<float>());
    for (int64_t l : b.target.to_vector<int64_t>()) out.back().push_back((float)l);
  }
  return out;
}

Tensor ramp_image(int64_t C, int64_t H, int64_t W) {
  std::vector<float> v(C * H * W);
  for (size_t i = 0; i < v.size(); ++i) v[i] = (float)(i + 1);
  return from_vector(v, {C, H, W});
}

}  // namespace

TEST_CASE("data: SampleRng is a pure function of (key, index) with uniform draws") {
  SampleRng a(42, 7), b(42, 7), c(42, 8), d(43, 7);
  std::vector<uint32_t> va, vb, vc, vd;
  for (int k = 0; k < 9; ++k) {
    va.push_back(a.next_u32());
    vb.push_back(b.next_u32());
    vc.push_back(c.next_u32());
    vd.push_back(d.next_u32());
  }
  CHECK(va == vb);
  CHECK(va != vc);
  CHECK(va != vd);
  // The first word is Philox(key, index·2¹⁶) word 0.
  uint32_t w[4];
  philox(42, 7ull << 16, w);
  CHECK(va[0] == w[0]);
  CHECK(va[3] == w[3]);
  philox(42, (7ull << 16) + 1, w);
  CHECK(va[4] == w[0]);

  // randint(10) over 10⁵ draws: every count within 4σ (σ = √(n·0.1·0.9) ≈ 95) of 10⁴.
  std::vector<int64_t> counts(10);
  for (int i = 0; i < 100000; ++i) {
    SampleRng r(5, (uint64_t)i);
    const int64_t x = r.randint(10);
    REQUIRE((x >= 0 && x < 10));
    ++counts[x];
  }
  for (int64_t n : counts) CHECK(std::abs(n - 10000) < 4 * 95);
  CHECK(epoch_keys(1, 0).shuffle != epoch_keys(1, 1).shuffle);
  CHECK(epoch_keys(1, 0).sample != epoch_keys(1, 0).shuffle);
  CHECK_THROWS_WITH_AS(a.randint(0), doctest::Contains("n must be positive"), Error);
}

TEST_CASE("data: TensorDataset and collate") {
  Tensor x = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2});
  auto ds = TensorDataset(x, from_vector(std::vector<int64_t>{4, 5, 6}, {3}));
  CHECK(ds.size() == 3);
  Example e = ds[1];
  CHECK(e.data.to_vector<float>() == std::vector<float>{3, 4});
  CHECK(e.label == 5);
  Batch b = collate({ds[2], ds[0]});
  CHECK(b.data.shape() == Shape{2, 2});
  CHECK(b.data.to_vector<float>() == std::vector<float>{5, 6, 1, 2});
  CHECK(b.target.dtype() == kInt64);
  CHECK(b.target.to_vector<int64_t>() == std::vector<int64_t>{6, 4});

  CHECK_THROWS_WITH_AS(ds[3], doctest::Contains("index 3 out of range for a dataset of 3"), Error);
  CHECK_THROWS_WITH_AS(collate({ds[0], Example{zeros({3}), 0}}),
                       doctest::Contains("example 1 of the batch is float32 [3], but example 0 is float32 [2]"), Error);
  CHECK_THROWS_WITH_AS(TensorDataset(x, from_vector(std::vector<int64_t>{1, 2}, {2})),
                       doctest::Contains("expected int64 labels [3]"), Error);
}

TEST_CASE("data: DataLoader batches in order, with and without drop_last") {
  auto ds = std::make_shared<IndexDataset>(10);
  DataLoader loader(ds, {.batch_size = 4});
  CHECK(loader.size() == 3);
  std::vector<std::vector<int64_t>> seen;
  std::vector<int64_t> labels;
  for (const Batch& b : loader) {
    CHECK(b.data.shape() == Shape{b.data.size(0), 2, 3, 4});
    seen.push_back(indices_of(b));
    for (int64_t l : b.target.to_vector<int64_t>()) labels.push_back(l);
  }
  CHECK(seen == std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}});
  CHECK(labels == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 0, 1, 2});

  DataLoader dropping(ds, {.batch_size = 4, .drop_last = true});
  CHECK(dropping.size() == 2);
  int64_t batches = 0;
  for (const Batch& b : dropping) {
    CHECK(b.data.size(0) == 4);
    ++batches;
  }
  CHECK(batches == 2);
  CHECK(dropping.epoch() == 1);

  // Nothing to load: no batches, for any worker count.
  for (int workers : {0, 2}) {
    DataLoader none(std::make_shared<IndexDataset>(0), {.batch_size = 4, .num_workers = workers});
    CHECK(none.size() == 0);
    CHECK(none.begin() == none.end());
    DataLoader short_of_one(std::make_shared<IndexDataset>(3), {.batch_size = 4, .drop_last = true, .num_workers = workers});
    CHECK(short_of_one.size() == 0);
    CHECK(short_of_one.begin() == short_of_one.end());
  }

  CHECK_THROWS_WITH_AS(DataLoader(ds, {.batch_size = 0}), doctest::Contains("batch_size must be positive, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(DataLoader(ds, {.num_workers = -1}), doctest::Contains("num_workers must be non-negative"),
                       Error);
}

TEST_CASE("data: shuffle is a permutation per epoch that depends only on (seed, epoch)") {
  auto ds = std::make_shared<IndexDataset>(50);
  auto epoch_order = [&](DataLoader& l) {
    std::vector<int64_t> order;
    for (const Batch& b : l)
      for (int64_t i : indices_of(b)) order.push_back(i);
    return order;
  };
  DataLoader a(ds, {.batch_size = 8, .shuffle = true, .seed = 3});
  std::vector<std::vector<int64_t>> orders;
  for (int e = 0; e < 3; ++e) orders.push_back(epoch_order(a));
  for (const auto& o : orders) {
    CHECK(o.size() == 50);
    CHECK(std::set<int64_t>(o.begin(), o.end()).size() == 50);
  }
  std::vector<int64_t> identity(50);
  for (int i = 0; i < 50; ++i) identity[i] = i;
  CHECK(orders[0] != identity);
  CHECK(orders[0] != orders[1]);
  CHECK(orders[1] != orders[2]);

  // A fresh loader jumping straight to epoch 2, with workers, sees the same order.
  DataLoader b(ds, {.batch_size = 8, .shuffle = true, .num_workers = 3, .seed = 3});
  b.set_epoch(2);
  CHECK(epoch_order(b) == orders[2]);
  CHECK(b.epoch() == 3);
  DataLoader other_seed(ds, {.batch_size = 8, .shuffle = true, .seed = 4});
  CHECK(epoch_order(other_seed) != orders[0]);
}

TEST_CASE("data: wrappers and the loader take datasets and transforms as values") {
  TensorDataset base(full({4, 1, 1, 1}, 5.0), from_vector(std::vector<int64_t>{0, 1, 2, 3}, {4}));
  const Shared<const Transform> norm = Normalize({1.0}, {2.0});  // one transform, used twice
  DataLoader loader(TransformDataset(SubsetDataset(std::move(base), 3), Compose({norm, norm})), {.batch_size = 3});
  int batches = 0;
  for (const Batch& b : loader) {
    ++batches;
    CHECK(b.data.to_vector<float>() == std::vector<float>{0.5f, 0.5f, 0.5f});  // ((5 − 1)/2 − 1)/2
    CHECK(b.target.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2});
  }
  CHECK(batches == 1);
}

TEST_CASE("data: epochs with augmentation are identical for any worker count") {
  auto base = std::make_shared<IndexDataset>(37);
  auto tf = std::make_shared<Compose>(std::vector<Shared<const Transform>>{
      RandomCrop(3, 4, 1), RandomHorizontalFlip(0.5), Normalize(std::vector<double>{10, 20}, std::vector<double>{2, 4})});
  auto ds = std::make_shared<TransformDataset>(base, tf);
  std::vector<std::vector<std::vector<float>>> runs;
  for (int workers : {0, 1, 2, 4})
    for (int prefetch : {1, 3}) {
      if (workers == 0 && prefetch == 3) continue;
      DataLoader loader(ds, {.batch_size = 5, .shuffle = true, .num_workers = workers, .prefetch_factor = prefetch,
                             .seed = 11});
      loader.set_epoch(4);
      runs.push_back(epoch_data(loader));
    }
  for (size_t r = 1; r < runs.size(); ++r) CHECK(runs[r] == runs[0]);
  // A different epoch draws different crops and flips.
  DataLoader loader(ds, {.batch_size = 5, .shuffle = true, .seed = 11});
  loader.set_epoch(5);
  CHECK(epoch_data(loader) != runs[0]);
}

TEST_CASE("data: workers prefetch ahead of the consumer, bounded by num_workers · prefetch_factor") {
  auto ds = std::make_shared<IndexDataset>(400);
  DataLoader loader(ds, {.batch_size = 4, .num_workers = 2, .prefetch_factor = 2});
  auto it = loader.begin();  // consumes batch 0
  CHECK(indices_of(*it) == std::vector<int64_t>{0, 1, 2, 3});
  // Without the consumer moving, workers build batches 1..4 (capacity 4 past the consumed one) and stop.
  const int64_t expected = (1 + 4) * 4;
  for (int i = 0; i < 500 && ds->gets.load() < expected; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(ds->gets.load() == expected);
  ++it;
  CHECK(indices_of(*it) == std::vector<int64_t>{4, 5, 6, 7});
  for (int i = 0; i < 500 && ds->gets.load() < expected + 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(ds->gets.load() == expected + 4);
}

TEST_CASE("data: a worker's exception reaches the consumer, which then sees the end") {
  for (int workers : {0, 1, 3}) {
    CAPTURE(workers);
    auto ds = std::make_shared<IndexDataset>(40);
    ds->throw_at = 13;
    DataLoader loader(ds, {.batch_size = 4, .num_workers = workers});
    std::vector<int64_t> firsts;
    auto it = loader.begin();
    try {
      for (; it != loader.end(); ++it) firsts.push_back(indices_of(*it)[0]);
      FAIL("no exception");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("IndexDataset: broken example 13") != std::string::npos);
    }
    CHECK(firsts == std::vector<int64_t>{0, 4, 8});
    CHECK(it == loader.end());
  }
}

TEST_CASE("data: leaving an epoch early stops the workers, an epoch outlives its loader") {
  auto ds = std::make_shared<IndexDataset>(2000);
  ds->delay_ms = 1;
  {
    DataLoader loader(ds, {.batch_size = 10, .num_workers = 2, .prefetch_factor = 2});
    for (const Batch& b : loader) {
      CHECK(b.data.size(0) == 10);
      break;
    }
  }
  // Joined: at most the consumed batch plus the 4 in flight were ever built.
  const int64_t built = ds->gets.load();
  CHECK(built <= 50);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK(ds->gets.load() == built);

  auto small = std::make_shared<IndexDataset>(9);
  std::unique_ptr<DataLoader> loader = std::make_unique<DataLoader>(small, DataLoaderOptions{.batch_size = 2, .num_workers = 2});
  auto it = loader->begin();
  loader.reset();
  int64_t total = 0;
  for (; it != DataLoader::Sentinel{}; ++it) total += it->data.size(0);
  CHECK(total == 9);
}

TEST_CASE("data: Normalize") {
  SampleRng rng(0, 0);
  Tensor x = ramp_image(2, 1, 3);  // channel 0: 1 2 3, channel 1: 4 5 6
  Tensor y = Normalize({1, 2}, {2, 0.5})(x, rng);
  CHECK(y.to_vector<float>() == std::vector<float>{0, 0.5f, 1, 4, 6, 8});
  Tensor z = Normalize({1}, {2})(x, rng);
  CHECK(z.to_vector<float>() == std::vector<float>{0, 0.5f, 1, 1.5f, 2, 2.5f});
  CHECK_THROWS_WITH_AS(Normalize({1, 2, 3}, {1, 1, 1})(x, rng),
                       doctest::Contains("3 mean/std values for an image of 2 channels (shape [2, 1, 3])"), Error);
  CHECK_THROWS_WITH_AS(Normalize({1}, {0}), doctest::Contains("std must be positive"), Error);
  CHECK_THROWS_WITH_AS(Normalize({1}, {1})(zeros({3, 4}), rng),
                       doctest::Contains("expected a float32 [C, H, W] image, got float32 [3, 4]"), Error);
}

TEST_CASE("data: RandomCrop with padding picks every window uniformly") {
  Tensor x = ramp_image(2, 3, 3);
  const std::vector<float> v = x.to_vector<float>();
  // Crop 3x3 of the image padded by 1: top, left ∈ {0, 1, 2}, 9 windows.
  std::vector<int64_t> counts(9);
  const int n = 9000;
  for (int i = 0; i < n; ++i) {
    SampleRng rng(77, (uint64_t)i);
    const std::vector<float> y = RandomCrop(3, 3, 1)(x, rng).to_vector<float>();
    int match = -1;
    for (int top = 0; top < 3 && match < 0; ++top)
      for (int left = 0; left < 3 && match < 0; ++left) {
        bool same = true;
        for (int c = 0; c < 2; ++c)
          for (int r = 0; r < 3; ++r)
            for (int s = 0; s < 3; ++s) {
              const int sy = top + r - 1, sx = left + s - 1;
              const float want = (sy < 0 || sy > 2 || sx < 0 || sx > 2) ? 0.0f : v[(c * 3 + sy) * 3 + sx];
              same = same && y[(c * 3 + r) * 3 + s] == want;
            }
        if (same) match = top * 3 + left;
      }
    REQUIRE(match >= 0);
    ++counts[match];
  }
  // Each window with probability 1/9: within 4σ, σ = √(n·(1/9)·(8/9)) ≈ 29.8.
  for (int64_t c : counts) CHECK(std::abs(c - n / 9) < 4 * 30);

  SampleRng rng(1, 1);
  CHECK(RandomCrop(3, 3)(x, rng).to_vector<float>() == v);  // no padding, full size: identity
  CHECK(RandomCrop(2, 1, 0)(x, rng).shape() == Shape{2, 2, 1});
  CHECK_THROWS_WITH_AS(RandomCrop(6, 3, 1)(x, rng),
                       doctest::Contains("crop 6x3 is larger than the padded image 5x5 (image [2, 3, 3], padding 1)"),
                       Error);
}

TEST_CASE("data: RandomHorizontalFlip") {
  Tensor x = ramp_image(2, 2, 3);
  const std::vector<float> flipped{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10};
  for (int i = 0; i < 200; ++i) {
    SampleRng r1(9, (uint64_t)i), r2(9, (uint64_t)i), r3(9, (uint64_t)i);
    CHECK(RandomHorizontalFlip(1.0)(x, r1).to_vector<float>() == flipped);
    CHECK(RandomHorizontalFlip(0.0)(x, r2).to_vector<float>() == x.to_vector<float>());
    const std::vector<float> y = RandomHorizontalFlip(0.3)(x, r3).to_vector<float>();
    CHECK((y == flipped || y == x.to_vector<float>()));
  }
  // Frequency of p = 0.3 over 10⁴ samples: within 4σ, σ = √(n·0.3·0.7) ≈ 45.8.
  int flips = 0;
  const int n = 10000;
  for (int i = 0; i < n; ++i) {
    SampleRng r(9, (uint64_t)i);
    flips += RandomHorizontalFlip(0.3)(x, r).to_vector<float>()[0] == 3;
  }
  CHECK(std::abs(flips - 3000) < 4 * 46);
  CHECK_THROWS_WITH_AS(RandomHorizontalFlip(1.5), doctest::Contains("p must be in [0, 1], got 1.5"), Error);
}

TEST_CASE("data: TransformDataset keeps labels and reproduces from the sample's draws") {
  auto base = std::make_shared<IndexDataset>(5);
  TransformDataset ds(base, std::make_shared<RandomCrop>(2, 2, 2));
  SampleRng a(3, 4), b(3, 4);
  Example ea = ds.get(4, a), eb = ds.get(4, b);
  CHECK(ea.label == 4);
  CHECK(ea.data.shape() == Shape{2, 2, 2});
  CHECK(ea.data.to_vector<float>() == eb.data.to_vector<float>());
  CHECK_THROWS_WITH_AS(TransformDataset(base, nullptr), doctest::Contains("must not be null"), Error);
}
