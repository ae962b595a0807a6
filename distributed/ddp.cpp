#include "distributed/ddp.h"

#include <mutex>

namespace tg::dist {

// The buckets and their progress in the current backward. Hooks run on the thread of
// backward; the mutex guards against hooks of a backward run on another thread.
struct DistributedDataParallel::Reducer {
  struct Slot {
    size_t bucket = 0;
    int64_t offset = 0;  // in the bucket's flat buffer
    bool ready = false;  // its gradient is in the buffer
  };
  struct Bucket {
    Tensor buffer;                 // flat, the dtype and device of its parameters
    std::vector<size_t> params;    // indices into Reducer::params
    size_t pending = 0;            // parameters whose gradient has not arrived
    std::shared_ptr<Work> work;    // the average in flight, once launched
  };

  std::shared_ptr<ProcessGroup> pg;
  std::vector<Variable> params;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  size_t next_launch = 0;  // buckets start in index order on every rank
  bool started = false;    // a gradient arrived since the last finish
  bool sync = true;        // false inside no_sync()
  bool armed = false;      // a forward ran through DDP with sync on since the last finish
  std::mutex mutex;

  Tensor slot_view(size_t i) const {
    const Variable& p = params[i];
    return buckets[slots[i].bucket].buffer.narrow(0, slots[i].offset, p.numel()).view(p.shape());
  }

  void launch_ready() {
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0) {
      Bucket& b = buckets[next_launch++];
      b.work = pg->all_reduce_async(b.buffer, ReduceOp::Average);
    }
  }

  // Gradient hook of parameter i: g is what this backward adds to its .grad.
  void on_grad(size_t i, const Tensor& g) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed) return;  // a backward of the bare module, or of a forward under no_sync()
    Slot& s = slots[i];
    TG_CHECK(!s.ready, pg->where("DistributedDataParallel"),
             "parameter {} got a second gradient before finish_gradient_sync(); run backward once per step "
             "(accumulate under no_sync())",
             i);
    const Variable& p = params[i];
    slot_view(i).copy_(p.grad().defined() ? ops::add(p.grad(), g) : g);
    s.ready = true;
    started = true;
    --buckets[s.bucket].pending;
    launch_ready();
  }

  void finish() {
    std::lock_guard<std::mutex> lock(mutex);
    if (!started) {
      armed = false;
      return;
    }
    for (size_t i = 0; i < params.size(); ++i) {
      Slot& s = slots[i];
      if (s.ready) continue;
      const Tensor v = slot_view(i);
      if (params[i].grad().defined()) {
        v.copy_(params[i].grad());
      } else {
        v.zero_();
      }
      s.ready = true;
      --buckets[s.bucket].pending;
    }
    launch_ready();
    for (Bucket& b : buckets) b.work->wait();
    for (size_t i = 0; i < params.size(); ++i) {
      Variable& p = params[i];
      if (p.grad().defined()) {
        p.grad().copy_(slot_view(i));
      } else {
        p.set_grad(slot_view(i).clone());
      }
      slots[i].ready = false;
    }
    for (Bucket& b : buckets) {
      b.pending = b.params.size();
      b.work.reset();
    }
    next_launch = 0;
    started = false;
    armed = false;
  }
};

namespace {

// Broadcasts the tensors from rank 0 in place as one float64 message (exact for
// float32 values and for integers below 2^53, such as BatchNorm's step count).
void broadcast_from_rank0(ProcessGroup& pg, const std::vector<Tensor>& ts) {
  int64_t n = 0;
  for (const Tensor& t : ts) n += t.numel();
  if (n == 0) return;
  Tensor flat = empty({n}, kFloat64, ts[0].device());
  int64_t off = 0;
  for (const Tensor& t : ts) {
    flat.narrow(0, off, t.numel()).view(t.shape()).copy_(t);
    off += t.numel();
  }
  broadcast(pg, flat, 0);
  off = 0;
  for (const Tensor& t : ts) {
    t.copy_(flat.narrow(0, off, t.numel()).view(t.shape()));
    off += t.numel();
  }
}

std::vector<Tensor> buffers_of(const Module& m) {
  std::vector<Tensor> out;
  for (const auto& [name, t] : m.named_buffers()) out.push_back(t);
  return out;
}

}  // namespace

DistributedDataParallel::DistributedDataParallel(std::shared_ptr<Module> module, std::shared_ptr<ProcessGroup> pg,
                                                 DDPOptions options)
    : module_(std::move(module)), pg_(std::move(pg)), options_(options), reducer_(std::make_shared<Reducer>()) {
  const char* op = "DistributedDataParallel";
  TG_CHECK(module_ != nullptr, op, "module is null");
  TG_CHECK(pg_ != nullptr, op, "process group is null");
  TG_CHECK(options_.bucket_cap_mb > 0, pg_->where(op), "bucket_cap_mb must be positive, got {}", options_.bucket_cap_mb);
  register_module("module", module_);
  training_ = module_->is_training();

  Reducer& r = *reducer_;
  r.pg = pg_;
  r.params = module_->parameters();
  TG_CHECK(!r.params.empty(), pg_->where(op), "the module has no parameters");
  for (const Variable& p : r.params) pg_->check_tensor(p.data(), op);
  {
    NoGrad no_grad;
    for (const Variable& p : r.params) broadcast(*pg_, p.data(), 0);
    broadcast_from_rank0(*pg_, buffers_of(*module_));
  }

  // Buckets in reverse registration order, each of one dtype and device, up to the cap.
  const auto cap = (int64_t)(options_.bucket_cap_mb * 1024 * 1024);
  r.slots.resize(r.params.size());
  int64_t bytes = 0;
  for (size_t k = r.params.size(); k-- > 0;) {
    const Tensor& d = r.params[k].data();
    const int64_t nbytes = d.numel() * (int64_t)dtype_size(d.dtype());
    bool fresh = r.buckets.empty() || bytes + nbytes > cap;
    if (!fresh) {
      const Tensor& first = r.params[r.buckets.back().params.front()].data();
      fresh = first.dtype() != d.dtype() || first.device() != d.device();
    }
    if (fresh) {
      r.buckets.emplace_back();
      bytes = 0;
    }
    Reducer::Bucket& b = r.buckets.back();
    r.slots[k] = {r.buckets.size() - 1, bytes / (int64_t)dtype_size(d.dtype()), false};
    b.params.push_back(k);
    bytes += nbytes;
  }
  for (Reducer::Bucket& b : r.buckets) {
    const Tensor& first = r.params[b.params.front()].data();
    int64_t n = 0;
    for (size_t k : b.params) n += r.params[k].numel();
    b.buffer = zeros({n}, first.dtype(), first.device());
    b.pending = b.params.size();
  }
  for (size_t k = 0; k < r.params.size(); ++k) {
    std::weak_ptr<Reducer> weak = reducer_;
    r.params[k].register_hook([weak, k](const Tensor& g) {
      if (auto live = weak.lock()) live->on_grad(k, g);
    });
  }
}

DistributedDataParallel::~DistributedDataParallel() = default;

Variable DistributedDataParallel::forward(const Variable& x) {
  TG_CHECK(!reducer_->started, pg_->where("DistributedDataParallel"),
           "the gradients of the previous backward were not averaged: call ddp.backward(loss) or "
           "finish_gradient_sync() before the optimizer step");
  if (options_.broadcast_buffers && is_training()) {
    NoGrad no_grad;
    broadcast_from_rank0(*pg_, buffers_of(*module_));
  }
  {
    std::lock_guard<std::mutex> lock(reducer_->mutex);
    reducer_->armed = reducer_->sync && GradMode::enabled();
  }
  return module_->forward(x);
}

void DistributedDataParallel::backward(const Variable& loss) {
  loss.backward();
  finish_gradient_sync();
}

void DistributedDataParallel::finish_gradient_sync() { reducer_->finish(); }

DistributedDataParallel::NoSync::NoSync(DistributedDataParallel& ddp) : ddp_(ddp), prev_(ddp.reducer_->sync) {
  ddp_.reducer_->sync = false;
}

DistributedDataParallel::NoSync::~NoSync() { ddp_.reducer_->sync = prev_; }

std::vector<std::vector<size_t>> DistributedDataParallel::bucket_layout() const {
  std::vector<std::vector<size_t>> out;
  for (const auto& b : reducer_->buckets) out.push_back(b.params);
  return out;
}

}  // namespace tg::dist
