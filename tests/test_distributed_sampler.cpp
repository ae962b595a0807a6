// The DataLoader's distributed sampling (torch's DistributedSampler): no MPI needed,
// every replica's loader is built in this process.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "core/ops.h"
#include "data/dataloader.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::ops;

namespace {

// Example i holds the value i (label i % 5), so a batch tells which examples it has.
std::shared_ptr<Dataset> numbered(int64_t n) {
  std::vector<float> v(n);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) v[i] = (float)i, labels[i] = i % 5;
  return std::make_shared<TensorDataset>(from_vector(v, {n, 1}), from_vector(labels, {n}));
}

std::vector<int64_t> shard_of(DataLoader& loader, std::vector<int64_t>* batch_sizes = nullptr) {
  std::vector<int64_t> out;
  for (const Batch& b : loader) {
    for (float x : b.data.to_vector<float>()) out.push_back((int64_t)x);
    if (batch_sizes) batch_sizes->push_back(b.data.size(0));
  }
  return out;
}

}  // namespace

TEST_CASE("distributed sampler: shards are disjoint, cover the dataset, and pad like torch") {
  for (bool shuffle : {false, true}) {
    for (int replicas : {2, 3, 4}) {
      const int64_t n = 10;  // 10 = 3·3 + 1 and 4·2 + 2: padding for 3 and 4 replicas
      const int64_t per = (n + replicas - 1) / replicas;
      std::map<int64_t, int> count;
      std::vector<int64_t> full_order;
      {
        DataLoader all(numbered(n), {.batch_size = 3, .shuffle = shuffle, .seed = 7});
        all.set_epoch(2);
        full_order = shard_of(all);
      }
      for (int r = 0; r < replicas; ++r) {
        DataLoader loader(numbered(n), {.batch_size = 3, .shuffle = shuffle, .seed = 7, .num_replicas = replicas, .rank = r});
        loader.set_epoch(2);
        CHECK(loader.size() == (per + 2) / 3);
        std::vector<int64_t> sizes;
        const std::vector<int64_t> shard = shard_of(loader, &sizes);
        REQUIRE(shard.size() == (size_t)per);
        CHECK(sizes.back() == (per % 3 == 0 ? 3 : per % 3));  // the uneven last batch
        // torch: indices[rank : total : replicas] of the epoch's order padded from its start.
        for (int64_t k = 0; k < per; ++k) CHECK(shard[k] == full_order[(k * replicas + r) % n]);
        for (int64_t i : shard) ++count[i];
      }
      const int64_t padding = per * replicas - n;
      CHECK(count.size() == (size_t)n);  // covering
      int64_t twice = 0;
      for (auto& [i, c] : count) {
        CHECK(c >= 1);
        CHECK(c <= 2);
        twice += c - 1;
      }
      CHECK(twice == padding);  // disjoint apart from the padding, which repeats the order's start
    }
  }
}

TEST_CASE("distributed sampler: every epoch reshuffles the same way on every replica") {
  DataLoader a(numbered(12), {.batch_size = 4, .shuffle = true, .seed = 3, .num_replicas = 2, .rank = 0});
  DataLoader b(numbered(12), {.batch_size = 4, .shuffle = true, .seed = 3, .num_replicas = 2, .rank = 1});
  std::vector<int64_t> e0 = shard_of(a), e1 = shard_of(a);
  CHECK(e0 != e1);
  std::vector<int64_t> both = shard_of(b);
  both.insert(both.end(), e0.begin(), e0.end());
  std::sort(both.begin(), both.end());
  for (int64_t i = 0; i < 12; ++i) CHECK(both[i] == i);
}

TEST_CASE("distributed sampler: bad rank is an error") {
  CHECK(testing::error_of([] { DataLoader(numbered(4), {.num_replicas = 2, .rank = 2}); }) ==
        "DataLoader: rank must be in [0, num_replicas), got rank 2 of 2");
  CHECK(testing::error_of([] { DataLoader(numbered(4), {.num_replicas = 0}); }) ==
        "DataLoader: rank must be in [0, num_replicas), got rank 0 of 0");
}
