#pragma once
// DistributedDataParallel: data-parallel training of a Module, as torch's DDP.
//
//   auto pg = dist::init_process_group();
//   auto ddp = std::make_shared<dist::DistributedDataParallel>(model, pg);
//   Adam opt(ddp->parameters(), {.lr = 1e-3});
//   for (const Batch& b : loader) {            // a DataLoader with .num_replicas/.rank
//     opt.zero_grad();
//     Variable loss = cross_entropy((*ddp)(Variable(b.data)), b.target);
//     ddp->backward(loss);                     // loss.backward() + the gradient average
//     opt.step();
//   }
//
// At construction every parameter and buffer is broadcast from rank 0, so all ranks
// start from rank 0's model. Parameters are grouped into buckets of about
// bucket_cap_mb (in reverse registration order, roughly the order backward produces
// their gradients; one dtype and device per bucket). A gradient hook on each
// parameter copies its gradient into its bucket; a full bucket starts its average
// across the ranks at once (in bucket order, the same on every rank), so
// communication runs while backward goes on. finish_gradient_sync() (ddp->backward
// calls it) completes the remaining buckets and writes the averages into each
// parameter's .grad. A parameter that got no gradient contributes its current .grad,
// or zeros. In training mode, buffers (BatchNorm statistics) are broadcast from rank 0
// before each forward in one message (torch's broadcast_buffers), so every rank
// evaluates with rank 0's.
//
// Contract: every rank runs the same forward/backward sequence; between a backward
// outside no_sync() and the optimizer step, finish_gradient_sync() must run (the next
// forward throws otherwise). Only a backward of a forward through the wrapper, with
// gradients on and outside no_sync(), is averaged (as torch's); a forward under
// no_sync() accumulates locally, and the first synchronized backward averages the sums;
// the bare module still trains locally.
#include <memory>

#include "distributed/process_group.h"
#include "layers/module.h"

namespace tg::dist {

struct DDPOptions {
  double bucket_cap_mb = 25;     // bucket size cap in MiB (torch's bucket_cap_mb)
  bool broadcast_buffers = true;  // broadcast buffers from rank 0 before each training forward
};

class DistributedDataParallel : public Module {
 public:
  DistributedDataParallel(std::shared_ptr<Module> module, std::shared_ptr<ProcessGroup> pg, DDPOptions options = {});
  ~DistributedDataParallel() override;

  Variable forward(const Variable& x) override;
  std::string name() const override { return "DistributedDataParallel"; }
  Module& module() const { return *module_; }
  ProcessGroup& process_group() const { return *pg_; }

  // loss.backward(), then finish_gradient_sync() unless inside no_sync().
  void backward(const Variable& loss);
  // Averages the buckets still outstanding and writes every parameter's averaged .grad.
  // Does nothing when no gradient arrived since the last call (or inside no_sync()).
  void finish_gradient_sync();

  // While the returned guard lives, backward passes accumulate gradients locally.
  class NoSync {
   public:
    explicit NoSync(DistributedDataParallel& ddp);
    ~NoSync();
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;

   private:
    DistributedDataParallel& ddp_;
    bool prev_;
  };
  NoSync no_sync() { return NoSync(*this); }

  // The parameter indices (in parameters() order) of each bucket, in launch order.
  std::vector<std::vector<size_t>> bucket_layout() const;

  struct Reducer;

 private:
  std::shared_ptr<Module> module_;
  std::shared_ptr<ProcessGroup> pg_;
  DDPOptions options_;
  std::shared_ptr<Reducer> reducer_;  // shared with the gradient hooks, which hold it weakly
};

}  // namespace tg::dist
