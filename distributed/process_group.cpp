#include "distributed/process_group.h"

#include <cstdint>
#include <fmt/format.h>

namespace tg::dist {

std::string ProcessGroup::where(const char* op) const {
  return fmt::format("{} (rank {} of {}, {})", op, rank_, size_, backend());
}

void ProcessGroup::check_tensor(const Tensor& t, const char* op) const {
  TG_CHECK(t.defined(), where(op), "undefined tensor");
  TG_CHECK(t.dtype() == kFloat32 || t.dtype() == kFloat64, where(op), "expects float32 or float64, got {}",
           dtype_name(t.dtype()));
  TG_CHECK(t.numel() <= INT32_MAX, where(op), "tensors of more than 2^31-1 elements are not supported, got {}",
           shape_str(t.shape()));
  const bool ok = device_type() == DeviceType::CPU ? t.device().is_cpu() : t.device().is_cuda();
  TG_CHECK(ok, where(op), "the {} backend moves {} tensors, got a tensor on {}", backend(),
           device_type() == DeviceType::CPU ? "CPU" : "CUDA", t.device().str());
}

// Non-contiguous tensors are reduced through a contiguous copy written back in place.
void all_reduce(ProcessGroup& pg, const Tensor& t, ReduceOp op) {
  pg.check_tensor(t, "all_reduce");
  const Tensor c = t.contiguous();
  pg.all_reduce_async(c, op)->wait();
  if (!c.shares_storage(t)) t.copy_(c);
}

void broadcast(ProcessGroup& pg, const Tensor& t, int root) {
  pg.check_tensor(t, "broadcast");
  TG_CHECK(root >= 0 && root < pg.size(), pg.where("broadcast"), "root {} is not a rank of a group of {}", root,
           pg.size());
  const Tensor c = t.contiguous();
  pg.broadcast_async(c, root)->wait();
  if (!c.shares_storage(t)) t.copy_(c);
}

Tensor all_gather(ProcessGroup& pg, const Tensor& t) {
  pg.check_tensor(t, "all_gather");
  Shape shape{(int64_t)pg.size()};
  shape.insert(shape.end(), t.shape().begin(), t.shape().end());
  Tensor out = empty(shape, t.dtype(), t.device());
  pg.all_gather_async(t.contiguous(), out)->wait();
  return out;
}

}  // namespace tg::dist
