// CPU kernels of the fused optimizer updates (core/optim_kernels.h).
#include "core/optim_kernels.h"

#include "core/cpu/loops.h"

namespace tg::cpu {

void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& buf, const SgdStep& s) {
  dispatch_float(param.dtype(), "sgd_update_", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* b = buf.data<T>();
    const int64_t n = param.numel();
    parallel_for(n, n >= kParallelGrain, [&](int64_t i) { sgd_element<T>(s, p[i], g[i], b[i]); });
  });
}

void adam_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamStep& s) {
  dispatch_float(param.dtype(), "adam_update_", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* mp = m.data<T>();
    T* vp = v.data<T>();
    const int64_t n = param.numel();
    parallel_for(n, n >= kParallelGrain, [&](int64_t i) { adam_element<T>(s, p[i], g[i], mp[i], vp[i]); });
  });
}

TG_REGISTER_KERNEL(sgd_update_stub, DeviceType::CPU, sgd_update);
TG_REGISTER_KERNEL(adam_update_stub, DeviceType::CPU, adam_update);

}  // namespace tg::cpu
