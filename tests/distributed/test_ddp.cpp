// DistributedDataParallel against the single-process run on the same samples: R ranks
// × batch B equal one process × batch R·B (float64, to 1e-6 relative in every
// parameter), and the ranks' parameters are bit-identical to each other.
#include <doctest/doctest.h>

#include <cstring>

#include "core/random.h"
#include "data/dataloader.h"
#include "distributed/ddp.h"
#include "layers/conv.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "layers/pool.h"
#include "activations/basic.h"
#include "layers/batchnorm.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "tests/distributed/dist_test.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::ops;
using tg::testing::test_group;

namespace {

constexpr int64_t kSamples = 150;  // 150 = 2·75 = 3·50: every epoch ends with a short batch
constexpr int64_t kBatch = 8;       // per rank
constexpr int kSteps = 20;

// conv(1→4, 3×3) tanh maxpool2 → linear(64→3), float64 (smooth, so no kink decides a gradient).
std::shared_ptr<Module> small_cnn(uint64_t seed, Device device) {
  manual_seed(seed);
  auto m = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Conv2d>(1, 4, 3, 1, 1, 1, 1, true, kFloat64), std::make_shared<Tanh>(),
      std::make_shared<MaxPool2d>(2), std::make_shared<Flatten>(), std::make_shared<Linear>(64, 3, true, kFloat64)});
  m->to(device);
  return m;
}

std::shared_ptr<Dataset> samples() {
  Generator g(11);
  Tensor x = randn({kSamples, 1, 8, 8}, kFloat32, &g);
  std::vector<int64_t> y(kSamples);
  for (int64_t i = 0; i < kSamples; ++i) y[i] = (i * 7) % 3;
  return std::make_shared<TensorDataset>(x, from_vector(y, {kSamples}));
}

std::unique_ptr<Optimizer> make_opt(const std::string& kind, std::vector<Variable> params) {
  if (kind == "sgd") return std::make_unique<SGD>(std::move(params), SGDOptions{.lr = 0.1, .momentum = 0.9});
  return std::make_unique<Adam>(std::move(params), AdamOptions{.lr = 0.01});
}

DataLoader loader_of(int replicas, int rank) {
  return DataLoader(samples(), {.batch_size = kBatch, .shuffle = true, .seed = 5, .num_replicas = replicas, .rank = rank});
}

// kSteps steps of DDP on this rank's shard; every rank starts from a different
// initialization, which DDP replaces by rank 0's. Returns the parameters on the CPU.
std::vector<Tensor> train_ddp(std::shared_ptr<dist::ProcessGroup> pg, const std::string& kind, Device device,
                              double bucket_cap_mb) {
  auto ddp = std::make_shared<dist::DistributedDataParallel>(small_cnn(100 + pg->rank(), device), pg,
                                                             dist::DDPOptions{.bucket_cap_mb = bucket_cap_mb});
  auto opt = make_opt(kind, ddp->parameters());
  DataLoader loader = loader_of(pg->size(), pg->rank());
  int step = 0;
  while (step < kSteps) {
    for (const Batch& b : loader) {
      if (step++ == kSteps) break;
      opt->zero_grad();
      Variable loss = cross_entropy((*ddp)(Variable(b.data.to(kFloat64).to(device))), b.target.to(device));
      ddp->backward(loss);
      opt->step();
    }
  }
  std::vector<Tensor> out;
  for (const Variable& p : ddp->parameters()) out.push_back(p.data().cpu());
  return out;
}

// The same kSteps steps in one process, each batch the concatenation of the ranks' batches.
std::vector<Tensor> train_single(int replicas, const std::string& kind) {
  auto model = small_cnn(100, Device::cpu());
  auto opt = make_opt(kind, model->parameters());
  std::vector<DataLoader> loaders;
  for (int r = 0; r < replicas; ++r) loaders.push_back(loader_of(replicas, r));
  int step = 0;
  while (step < kSteps) {
    std::vector<DataLoader::Iterator> its;
    for (DataLoader& l : loaders) its.push_back(l.begin());
    for (; its[0] != DataLoader::Sentinel{} && step < kSteps; ++step) {
      std::vector<Tensor> xs, ys;
      for (auto& it : its) {
        xs.push_back(it->data.to(kFloat64));
        ys.push_back(it->target);
        ++it;
      }
      opt->zero_grad();
      Variable loss = cross_entropy((*model)(Variable(concat(xs, 0))), concat(ys, 0));
      loss.backward();
      opt->step();
    }
  }
  std::vector<Tensor> out;
  for (const Variable& p : model->parameters()) out.push_back(p.data().clone());
  return out;
}

double max_relative(const Tensor& a, const Tensor& b) {
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    diff = std::max(diff, std::abs(x[i] - y[i]));
    scale = std::max(scale, std::abs(y[i]));
  }
  return diff / scale;
}

// Every rank's copy of t equals rank 0's bit for bit.
bool bit_identical_across_ranks(dist::ProcessGroup& pg, const Tensor& t) {
  Tensor all = dist::all_gather(pg, t);
  const size_t bytes = (size_t)t.numel() * dtype_size(t.dtype());
  const char* p = static_cast<const char*>(all.raw_data());
  for (int r = 1; r < pg.size(); ++r)
    if (std::memcmp(p, p + r * bytes, bytes) != 0) return false;
  return true;
}

void check_parity(std::shared_ptr<dist::ProcessGroup> pg, Device device) {
  for (std::string kind : {"sgd", "adam"}) {
    const std::vector<Tensor> single = train_single(pg->size(), kind);
    // 25 MiB: one bucket; 300 bytes: one bucket per parameter (several launched from hooks).
    for (double cap : {25.0, 300.0 / (1024 * 1024)}) {
      CAPTURE(kind);
      CAPTURE(cap);
      const std::vector<Tensor> ddp = train_ddp(pg, kind, device, cap);
      REQUIRE(ddp.size() == single.size());
      for (size_t i = 0; i < ddp.size(); ++i) {
        CAPTURE(i);
        CHECK(max_relative(ddp[i], single[i]) <= 1e-6);
        CHECK(bit_identical_across_ranks(*pg, pg->device_type() == DeviceType::CPU ? ddp[i] : ddp[i].to(device)));
      }
    }
  }
}

}  // namespace

TEST_CASE("ddp: 20 SGD and 20 Adam steps on R ranks × B equal one process × R·B, uneven last batches included") {
  check_parity(test_group(), Device::cpu());
}

TEST_CASE("nccl: ddp on GPUs equals the single-process CPU run") {
  check_parity(test_group(), Device::cuda(test_group()->rank() % cuda_device_count()));
}

TEST_CASE("ddp: buckets hold parameters in reverse registration order, up to the cap") {
  auto pg = test_group();
  // conv.weight 36, conv.bias 4, linear.weight 192, linear.bias 3 doubles.
  dist::DistributedDataParallel one(small_cnn(1, Device::cpu()), pg);
  CHECK(one.bucket_layout() == std::vector<std::vector<size_t>>{{3, 2, 1, 0}});
  dist::DistributedDataParallel capped(small_cnn(1, Device::cpu()), pg, {.bucket_cap_mb = 1560.0 / (1024 * 1024)});
  // 1560 bytes = 195 doubles: linear.bias 3 + linear.weight 192 fill the cap exactly; conv.bias opens a new bucket.
  CHECK(capped.bucket_layout() == std::vector<std::vector<size_t>>{{3, 2}, {1, 0}});
}

TEST_CASE("ddp: parameters and buffers start from rank 0's") {
  auto pg = test_group();
  manual_seed(50 + pg->rank());
  auto model = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Conv2d>(1, 2, 3), std::make_shared<BatchNorm2d>(2)});
  NamedTensors state = model->state_dict();
  for (auto& [n, t] : state)
    if (n.find("running_mean") != std::string::npos) t.fill_(pg->rank() + 0.5);
  dist::DistributedDataParallel ddp(model, pg);
  for (auto& [n, t] : model->state_dict()) {
    CAPTURE(n);
    CHECK(bit_identical_across_ranks(*pg, t.to(kFloat64)));
    if (n.find("running_mean") != std::string::npos) CHECK(t.to_vector<double>()[0] == 0.5);
  }
  // rank 0's initialization, drawn again here from its seed
  manual_seed(50);
  Conv2d ref(1, 2, 3);
  CHECK(max_relative(model->state_dict()[0].second, ref.weight.data()) == 0.0);
}

TEST_CASE("ddp: no_sync accumulates locally; the next backward averages the sums") {
  auto pg = test_group();
  auto ddp = std::make_shared<dist::DistributedDataParallel>(small_cnn(7, Device::cpu()), pg);
  DataLoader loader = loader_of(pg->size(), pg->rank());
  auto it = loader.begin();
  const Batch first = *it;
  ++it;
  const Batch second = *it;
  auto loss_of = [&](const Batch& b) { return cross_entropy((*ddp)(Variable(b.data.to(kFloat64))), b.target); };
  {
    auto guard = ddp->no_sync();
    ddp->backward(loss_of(first));
  }
  const Tensor local = ddp->parameters()[0].grad().clone();
  if (pg->size() > 1) CHECK(!bit_identical_across_ranks(*pg, local));  // nothing was averaged yet
  ddp->backward(loss_of(second));

  // Reference: one process, both micro-batches of every rank, accumulated.
  auto model = small_cnn(7, Device::cpu());
  std::vector<DataLoader> loaders;
  for (int r = 0; r < pg->size(); ++r) loaders.push_back(loader_of(pg->size(), r));
  std::vector<std::vector<Tensor>> xs(2), ys(2);
  for (DataLoader& l : loaders) {
    auto li = l.begin();
    for (int k = 0; k < 2; ++k, ++li) {
      xs[k].push_back(li->data.to(kFloat64));
      ys[k].push_back(li->target);
    }
  }
  for (int k = 0; k < 2; ++k) cross_entropy((*model)(Variable(concat(xs[k], 0))), concat(ys[k], 0)).backward();
  for (size_t i = 0; i < model->parameters().size(); ++i) {
    CAPTURE(i);
    CHECK(max_relative(ddp->parameters()[i].grad(), model->parameters()[i].grad()) <= 1e-12);
    CHECK(bit_identical_across_ranks(*pg, ddp->parameters()[i].grad()));
  }
}

TEST_CASE("ddp: a forward before the gradients were averaged is an error") {
  auto pg = test_group();
  auto ddp = std::make_shared<dist::DistributedDataParallel>(small_cnn(3, Device::cpu()), pg);
  Tensor x = randn({2, 1, 8, 8}, kFloat64);
  Tensor y = from_vector(std::vector<int64_t>{0, 1}, {2});
  cross_entropy((*ddp)(Variable(x)), y).backward();
  const std::string who = fmt::format("(rank {} of {}, mpi)", pg->rank(), pg->size());
  CHECK(testing::error_of([&] { (*ddp)(Variable(x)); }) ==
        "DistributedDataParallel " + who +
            ": the gradients of the previous backward were not averaged: call ddp.backward(loss) or "
            "finish_gradient_sync() before the optimizer step");
  ddp->finish_gradient_sync();
  CHECK(bit_identical_across_ranks(*pg, ddp->parameters()[0].grad()));
  CHECK_NOTHROW((*ddp)(Variable(x)));
}
