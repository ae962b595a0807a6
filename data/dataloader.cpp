#include "data/dataloader.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/parallel.h"
#include "core/random.h"

namespace tg {

Batch collate(const std::vector<Example>& examples, const char* what) {
  TG_CHECK(!examples.empty(), what, "cannot collate an empty list of examples");
  const Shape& shape = examples[0].data.shape();
  Shape batch_shape{(int64_t)examples.size()};
  batch_shape.insert(batch_shape.end(), shape.begin(), shape.end());
  Batch b{empty(batch_shape, kFloat32), empty({(int64_t)examples.size()}, kInt64)};
  const int64_t n = shape_numel(shape);
  float* dst = b.data.data<float>();
  int64_t* labels = b.target.data<int64_t>();
  for (size_t i = 0; i < examples.size(); ++i) {
    const Tensor& x = examples[i].data;
    TG_CHECK(x.defined() && x.dtype() == kFloat32 && x.shape() == shape, what,
             "example {} of the batch is {} {}, but example 0 is float32 {}", i,
             x.defined() ? dtype_name(x.dtype()) : "undefined", shape_str(x.shape()), shape_str(shape));
    const Tensor c = x.cpu().contiguous();
    std::memcpy(dst + i * n, c.raw_data(), n * sizeof(float));
    labels[i] = examples[i].label;
  }
  return b;
}

// Positions rank, rank + R, ... of the order padded (from its start) to a multiple of R.
static std::vector<int64_t> replica_shard(const std::vector<int64_t>& order, int replicas, int rank) {
  const int64_t n = (int64_t)order.size(), per = (n + replicas - 1) / replicas;
  std::vector<int64_t> shard(per);
  for (int64_t k = 0; k < per; ++k) shard[k] = order[(k * replicas + rank) % n];
  return shard;
}

// One epoch in progress: the sample order, and (with workers) the threads, the
// batches they finished and the bookkeeping that bounds how far ahead they run.
class EpochRun {
 public:
  EpochRun(std::shared_ptr<const Dataset> dataset, const DataLoaderOptions& opt, int64_t epoch, int64_t num_batches)
      : dataset_(std::move(dataset)), opt_(opt), num_batches_(num_batches) {
    const EpochKeys keys = epoch_keys(opt.seed, (uint64_t)epoch);
    sample_key_ = keys.sample;
    const int64_t n = dataset_->size();
    if (opt.shuffle) {
      Generator g(keys.shuffle);
      order_ = randperm(n, &g).to_vector<int64_t>();
    } else {
      order_.resize(n);
      for (int64_t i = 0; i < n; ++i) order_[i] = i;
    }
    if (opt.num_replicas > 1) order_ = replica_shard(order_, opt.num_replicas, opt.rank);
    try {
      for (int w = 0; w < opt.num_workers; ++w) workers_.emplace_back([this] { work(); });
    } catch (...) {
      stop();
      throw;
    }
  }

  ~EpochRun() { stop(); }

  // The next batch in order, false at the end of the epoch; rethrows a worker's error.
  bool next(Batch* out) {
    if (workers_.empty()) {
      if (consumed_ >= num_batches_) return false;
      *out = build(consumed_++);
      return true;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (consumed_ >= num_batches_ || failed_) return false;
    ready_.wait(lock, [&] { return done_.count(consumed_) > 0; });
    auto node = done_.extract(consumed_++);
    if (node.mapped().error) {
      failed_ = true;
      lock.unlock();
      stop();
      std::rethrow_exception(node.mapped().error);
    }
    *out = std::move(node.mapped().batch);
    lock.unlock();
    space_.notify_all();
    return true;
  }

 private:
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  Batch build(int64_t b) const {
    const int64_t begin = b * opt_.batch_size;
    const int64_t end = std::min<int64_t>(begin + opt_.batch_size, (int64_t)order_.size());
    std::vector<Example> examples;
    examples.reserve(end - begin);
    for (int64_t k = begin; k < end; ++k) {
      SampleRng rng(sample_key_, (uint64_t)order_[k]);
      examples.push_back(dataset_->get(order_[k], rng));
    }
    return collate(examples, "DataLoader");
  }

  // Takes the next batch while fewer than num_workers · prefetch_factor are taken but
  // not consumed; every outcome, error included, lands in done_ so next() never waits forever.
  void work() {
    const DenormalScope denormals;  // a worker is the library's thread: its mode for its lifetime
    const int64_t capacity = (int64_t)opt_.num_workers * opt_.prefetch_factor;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      space_.wait(lock, [&] { return stop_ || next_task_ >= num_batches_ || next_task_ < consumed_ + capacity; });
      if (stop_ || next_task_ >= num_batches_) return;
      const int64_t b = next_task_++;
      lock.unlock();
      Slot slot;
      try {
        slot.batch = build(b);
      } catch (...) {
        slot.error = std::current_exception();
      }
      lock.lock();
      done_.emplace(b, std::move(slot));
      ready_.notify_all();
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    space_.notify_all();
    for (auto& t : workers_)
      if (t.joinable()) t.join();
  }

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions opt_;
  int64_t num_batches_;
  uint64_t sample_key_ = 0;
  std::vector<int64_t> order_;

  std::mutex mutex_;
  std::condition_variable space_;  // a slot freed up, or stop
  std::condition_variable ready_;  // a batch finished
  int64_t next_task_ = 0;
  int64_t consumed_ = 0;
  bool stop_ = false;
  bool failed_ = false;
  std::map<int64_t, Slot> done_;
  std::vector<std::thread> workers_;
};

DataLoader::DataLoader(Shared<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(dataset.ptr()), options_(options) {
  TG_CHECK(dataset_ != nullptr, "DataLoader", "dataset is null");
  TG_CHECK(options_.batch_size > 0, "DataLoader", "batch_size must be positive, got {}", options_.batch_size);
  TG_CHECK(options_.num_workers >= 0, "DataLoader", "num_workers must be non-negative, got {}", options_.num_workers);
  TG_CHECK(options_.prefetch_factor > 0, "DataLoader", "prefetch_factor must be positive, got {}",
           options_.prefetch_factor);
  TG_CHECK(options_.num_replicas > 0 && options_.rank >= 0 && options_.rank < options_.num_replicas, "DataLoader",
           "rank must be in [0, num_replicas), got rank {} of {}", options_.rank, options_.num_replicas);
  TG_CHECK(options_.num_replicas == 1 || dataset_->size() > 0, "DataLoader", "cannot shard an empty dataset");
}

int64_t DataLoader::size() const {
  const int64_t r = options_.num_replicas, n = (dataset_->size() + r - 1) / r, b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void DataLoader::set_epoch(int64_t epoch) {
  TG_CHECK(epoch >= 0, "DataLoader", "epoch must be non-negative, got {}", epoch);
  epoch_ = epoch;
}

DataLoader::Iterator DataLoader::begin() {
  return Iterator(std::make_shared<EpochRun>(dataset_, options_, epoch_++, size()));
}

DataLoader::Iterator::Iterator(std::shared_ptr<EpochRun> run) : run_(std::move(run)) { ++*this; }

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  done_ = true;
  if (!run_) return *this;
  if (run_->next(&batch_)) {
    done_ = false;
  } else {
    batch_ = Batch{};
    run_.reset();
  }
  return *this;
}

}  // namespace tg
