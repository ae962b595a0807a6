#pragma once
// DataLoader: batches of a Dataset, as torch.utils.data.DataLoader.
//
//   DataLoader loader(dataset, {.batch_size = 64, .shuffle = true, .num_workers = 2, .seed = 1});
//   for (const Batch& b : loader) { ... b.data [B, ...] float32, b.target [B] int64 ... }
//
// Each range-for runs one epoch (the loader counts them; set_epoch(e) picks one, e.g.
// to resume). Epoch e's order and augmentations depend only on (seed, e). With
// num_workers > 0, worker threads build batches ahead of the consumer, at most
// num_workers · prefetch_factor batches taken but not yet consumed, and batches are
// delivered in order. An exception in a worker is rethrown to the consumer (which
// then sees the end of the epoch); destroying the iterator early stops and joins the
// workers. The running epoch holds the dataset, so it may outlive the loader.
#include <cstdint>
#include <memory>

#include "data/dataset.h"

namespace tg {

struct DataLoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;   // drop the last, incomplete batch
  int num_workers = 0;      // 0: batches are built on the consumer's thread
  int prefetch_factor = 2;  // batches in flight per worker
  uint64_t seed = 0;
  // Distributed sampling (torch's DistributedSampler): the epoch's order is padded by
  // repeating its start to a multiple of num_replicas, and this loader takes every
  // num_replicas-th index from position rank, so the replicas' shards are disjoint,
  // cover the dataset and have equal lengths. All replicas must share the seed.
  int num_replicas = 1;
  int rank = 0;
};

struct Batch {
  Tensor data;    // float32 [B, ...]: the examples' data stacked
  Tensor target;  // int64 [B]: their labels
};

class EpochRun;

class DataLoader {
 public:
  DataLoader(Shared<const Dataset> dataset, DataLoaderOptions options = {});

  struct Sentinel {};
  // Input iterator over one epoch's batches; copies share the running epoch.
  class Iterator {
   public:
    explicit Iterator(std::shared_ptr<EpochRun> run);
    const Batch& operator*() const { return batch_; }
    const Batch* operator->() const { return &batch_; }
    Iterator& operator++();
    bool operator!=(Sentinel) const { return !done_; }
    bool operator==(Sentinel) const { return done_; }

   private:
    std::shared_ptr<EpochRun> run_;
    Batch batch_;
    bool done_ = false;
  };

  // Starts epoch epoch() and advances the epoch counter.
  Iterator begin();
  Sentinel end() const { return {}; }

  int64_t size() const;  // batches per epoch (len(loader)), of this replica's shard
  int64_t epoch() const { return epoch_; }
  void set_epoch(int64_t epoch);
  const DataLoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return *dataset_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  int64_t epoch_ = 0;
};

// Stacks examples into a Batch; their data must share one shape (the error names the
// first example that differs). `what` names the caller in errors.
Batch collate(const std::vector<Example>& examples, const char* what = "collate");

}  // namespace tg
