// Collectives against hand-computed values, on every rank of the mpi group.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "core/ops.h"
#include "distributed/process_group.h"
#include "tests/distributed/dist_test.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::ops;
using tg::testing::test_group;

namespace {

// Rank r's tensor: element i holds (i + 1)·(r + 1).
Tensor ramp(int64_t n, int rank, DType dtype) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = (double)(i + 1) * (rank + 1);
  return from_vector(v, {n}).to(dtype);
}

}  // namespace

TEST_CASE("all_reduce: sum and average of odd sizes, float32 and float64") {
  auto pg = test_group();
  const int n = pg->size();
  const double tri = n * (n + 1) / 2.0;  // Σ (r + 1) over the ranks
  for (DType dtype : {kFloat32, kFloat64}) {
    for (int64_t len : {1, 7, 1001, 100003}) {
      Tensor t = ramp(len, pg->rank(), dtype);
      dist::all_reduce(*pg, t, dist::ReduceOp::Sum);
      auto v = t.to_vector<double>();
      for (int64_t i : {(int64_t)0, len / 2, len - 1}) CHECK(v[i] == (double)(i + 1) * tri);
      Tensor a = ramp(len, pg->rank(), dtype);
      dist::all_reduce(*pg, a, dist::ReduceOp::Average);
      auto w = a.to_vector<double>();
      for (int64_t i : {(int64_t)0, len / 2, len - 1})
        CHECK(w[i] == doctest::Approx((double)(i + 1) * tri / n).epsilon(dtype == kFloat32 ? 1e-6 : 1e-15));
    }
  }
}

TEST_CASE("all_reduce: non-contiguous tensors are reduced in place, the rest untouched") {
  auto pg = test_group();
  const int n = pg->size();
  // A [5, 3] transpose of a [3, 5] tensor, and every other column of a [4, 6] one.
  Tensor base = ramp(15, pg->rank(), kFloat64).view({3, 5});
  Tensor tr = base.t();
  REQUIRE(!tr.is_contiguous());
  dist::all_reduce(*pg, tr);
  auto b = base.to_vector<double>();
  for (int64_t i = 0; i < 15; ++i) CHECK(b[i] == (double)(i + 1) * n * (n + 1) / 2);

  Tensor grid = ramp(24, pg->rank(), kFloat32).view({4, 6});
  Tensor cols = grid.slice(1, 0, 6, 2);
  REQUIRE(!cols.is_contiguous());
  dist::all_reduce(*pg, cols, dist::ReduceOp::Sum);
  auto g = grid.to_vector<double>();
  for (int64_t i = 0; i < 24; ++i) {
    const double mine = (double)(i + 1) * (pg->rank() + 1);
    CHECK(g[i] == (i % 2 == 0 ? (double)(i + 1) * n * (n + 1) / 2 : mine));
  }
}

TEST_CASE("broadcast: from the last rank, contiguous and not") {
  auto pg = test_group();
  const int root = pg->size() - 1;
  Tensor t = ramp(1001, pg->rank(), kFloat64);
  dist::broadcast(*pg, t, root);
  auto v = t.to_vector<double>();
  CHECK(v[0] == 1.0 * (root + 1));
  CHECK(v[1000] == 1001.0 * (root + 1));

  Tensor m = ramp(12, pg->rank(), kFloat32).view({3, 4});
  Tensor col = m.select(1, 2);  // stride 4
  dist::broadcast(*pg, col, 0);
  auto w = m.to_vector<double>();
  for (int64_t i = 0; i < 12; ++i) CHECK(w[i] == (double)(i + 1) * (i % 4 == 2 ? 1 : pg->rank() + 1));
}

TEST_CASE("all_gather: rank r's tensor lands at index r") {
  auto pg = test_group();
  for (DType dtype : {kFloat32, kFloat64}) {
    Tensor t = ramp(6, pg->rank(), dtype).view({2, 3}).t();  // non-contiguous [3, 2]
    Tensor all = dist::all_gather(*pg, t);
    REQUIRE(all.shape() == Shape{pg->size(), 3, 2});
    CHECK(all.dtype() == dtype);
    for (int r = 0; r < pg->size(); ++r) {
      // t[i][j] = base[j][i] = (j·3 + i + 1)·(r + 1)
      auto v = all.select(0, r).to_vector<double>();
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 2; ++j) CHECK(v[i * 2 + j] == (double)(j * 3 + i + 1) * (r + 1));
    }
  }
}

TEST_CASE("barrier: no rank leaves before the last one arrives") {
  auto pg = test_group();
  const auto t0 = std::chrono::steady_clock::now();
  if (pg->rank() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  pg->barrier();
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(waited >= 0.29);
}

TEST_CASE("collectives: bad input names the op, the rank and the cause") {
  auto pg = test_group();
  const std::string who = fmt::format("(rank {} of {}, mpi)", pg->rank(), pg->size());
  CHECK(testing::error_of([&] { dist::all_reduce(*pg, zeros({3}, kInt64)); }) ==
        "all_reduce " + who + ": expects float32 or float64, got int64");
  CHECK(testing::error_of([&] { dist::broadcast(*pg, zeros({3}), pg->size()); }) ==
        fmt::format("broadcast {}: root {} is not a rank of a group of {}", who, pg->size(), pg->size()));
  CHECK(testing::error_of([&] { dist::all_gather(*pg, Tensor()); }) == "all_gather " + who + ": undefined tensor");
  CHECK(testing::error_of([&] { dist::init_process_group({.backend = "gloo"}); }) ==
        "init_process_group: unknown backend 'gloo' (expected mpi or nccl)");
}
