// The autograd engine at its limits: graphs of any depth (backward and destruction
// without recursion, on a 1 MiB stack) and anomaly detection (DetectAnomaly names the
// op whose backward returned NaN or Inf, with its forward context).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <malloc.h>
#include <pthread.h>
#include <unistd.h>

#include "autograd/anomaly.h"
#include "autograd/functions.h"
#include "test_util.h"

using namespace tg;
using namespace tg::ops;
using tg::testing::error_of;

namespace {

// Runs f on a new thread with a stack of `bytes` and waits for it; rethrows what f threw.
void run_with_stack(size_t bytes, const std::function<void()>& f) {
  struct Job {
    const std::function<void()>* f;
    std::exception_ptr error;
  } job{&f, nullptr};
  pthread_attr_t attr;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, bytes) == 0);
  pthread_t thread;
  auto body = [](void* p) -> void* {
    auto* j = static_cast<Job*>(p);
    try {
      (*j->f)();
    } catch (...) {
      j->error = std::current_exception();
    }
    return nullptr;
  };
  REQUIRE(pthread_create(&thread, &attr, body, &job) == 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  if (job.error) std::rethrow_exception(job.error);
}

// Resident memory after handing freed heap pages back to the system (malloc_trim),
// so that what the graph freed shows up as a drop in RSS.
long trimmed_rss_kb() {
  malloc_trim(0);
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

constexpr int kDepth = 1000000;

}  // namespace

TEST_CASE("autograd: a chain of 10^6 nodes backpropagates and frees on a 1 MiB stack") {
  double grad = 0, expected = 1;
  bool first_node_freed = false, unbackwarded_freed = false;
  long before = 0, after = 0;
  run_with_stack(1 << 20, [&] {
    before = trimmed_rss_kb();
    Variable x0(full({1}, 1.0, kFloat64), true);
    std::weak_ptr<Node> first;
    {
      Variable x = x0;
      for (int i = 0; i < kDepth; ++i) {
        x = mul(x, 1.0001);
        expected *= 1.0001;
        if (i == 0) first = x.grad_fn();
      }
      x.backward();
      grad = x0.grad().item();
    }
    first_node_freed = first.expired();
    {  // the same depth freed without a backward
      Variable x = x0;
      for (int i = 0; i < kDepth; ++i) x = add(x, x0);
      first = x.grad_fn();
    }
    unbackwarded_freed = first.expired();
    x0 = Variable();
    after = trimmed_rss_kb();
  });
  // d/dx0 of x0·1.0001^N is 1.0001^N ≈ 2.7e43; the same products in the same order.
  CHECK(grad == expected);
  CHECK(expected > 1e43);
  CHECK(first_node_freed);
  CHECK(unbackwarded_freed);
#if defined(__SANITIZE_ADDRESS__)
  MESSAGE("resident memory grew by ", after - before, " KB (not checked under AddressSanitizer)");
#else
  // The graph alone held ≥ 10^6 nodes × 200 bytes = 200 MB.
  CHECK_MESSAGE(after - before < 16 * 1024, "resident memory grew by ", after - before, " KB");
#endif
}

TEST_CASE("autograd: a long sum and a wide fan-in backpropagate on a 1 MiB stack") {
  // y = Σ_i x·(i+1) as a left-deep chain of adds: dy/dx = N(N+1)/2.
  constexpr int n = 200000;
  double grad = 0;
  run_with_stack(1 << 20, [&] {
    Variable x(full({2}, 0.5, kFloat64), true);
    Variable y = mul(x, 1.0);
    for (int i = 1; i < n; ++i) y = add(y, mul(x, double(i + 1)));
    sum(y).backward();
    grad = x.grad().to_vector<double>()[1];
  });
  CHECK(grad == double(n) * (n + 1) / 2);
}

TEST_CASE("anomaly: DetectAnomaly names the op whose backward returned Inf, with its forward context") {
  Variable x(tensor({1.0, 0.0, 2.0}, kFloat64), true);
  Variable w(tensor({1.0, 2.0, 3.0}, kFloat64), true);
  {
    // Off: the Inf reaches w.grad silently, and no forward context is kept.
    Variable z = mul(log(x), w);
    CHECK(z.grad_fn()->input_shapes.empty());
    sum(z).backward();
    CHECK(std::isinf(w.grad().to_vector<double>()[1]));
    w.zero_grad();
    x.zero_grad();
  }
  DetectAnomaly anomaly;
  CHECK(AnomalyMode::enabled());
  // log(0) = −Inf in the forward; mul's backward for w is g·log(x), the first Inf.
  Variable z = mul(log(x), w);
  const uint64_t seq = z.grad_fn()->seq;
  CHECK(error_of([&] { sum(z).backward(); }) ==
        fmt::format("mul: backward returned 0 NaN and 1 Inf in the gradient for input 1 of shape [3] (found by "
                    "DetectAnomaly; the op is #{} on the tape, its forward inputs had shapes [3], [3])",
                    seq));
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("anomaly: NaN is found and counted, the guard restores the previous mode") {
  Variable x(tensor({4.0, -1.0, -4.0, 9.0}, kFloat64).reshape({2, 2}), true);
  Variable y;
  uint64_t seq = 0;
  {
    DetectAnomaly anomaly;
    {
      DetectAnomaly off(false);
      CHECK_FALSE(AnomalyMode::enabled());
    }
    CHECK(AnomalyMode::enabled());
    y = sqrt(x);  // NaN at the negative entries; the backward g/(2·sqrt x) too
    seq = y.grad_fn()->seq;
    CHECK(error_of([&] { sum(y).backward(); }) ==
          fmt::format("sqrt: backward returned 2 NaN and 0 Inf in the gradient for input 0 of shape [2, 2] (found by "
                      "DetectAnomaly; the op is #{} on the tape, its forward inputs had shapes [2, 2])",
                      seq));
  }
  CHECK_FALSE(AnomalyMode::enabled());
  {
    // A graph recorded before the guard: the op is still named, its shapes are unknown.
    y = sqrt(x);
    seq = y.grad_fn()->seq;
    DetectAnomaly anomaly;
    CHECK(error_of([&] { sum(y).backward(); }) ==
          fmt::format("sqrt: backward returned 2 NaN and 0 Inf in the gradient for input 0 of shape [2, 2] (found by "
                      "DetectAnomaly; the op is #{} on the tape, it was recorded without DetectAnomaly, so its "
                      "input shapes are unknown)",
                      seq));
  }
  // Finite gradients pass through anomaly mode unchanged.
  DetectAnomaly anomaly;
  Variable a(tensor({4.0, 9.0}, kFloat64), true);
  sum(sqrt(a)).backward();
  CHECK(a.grad().to_vector<double>() == std::vector<double>{0.25, 1.0 / 6.0});
}
