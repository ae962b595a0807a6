// Copies between host and device and within a device, with dtype conversion and any
// strides. Tensor::copy_ routes here: same-device copies, host-to-device copies (the
// host source is contiguous), and device-to-host copies (this device is the source).
// Whatever a single cudaMemcpy cannot do is staged through a contiguous buffer on
// the side that needs it, converted by a kernel on the device or by the CPU backend.
#include "core/cuda/check.h"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/strided.h"

namespace tg::cuda {

static bool plain(const Tensor& src, const Tensor& dst) {
  return src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous();
}

// Same-device strided copy and conversion: one kernel.
static void device_copy(CudaBackend& b, const Tensor& src, const Tensor& dst) {
  if (plain(src, dst)) {
    TG_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), src.nbytes(), cudaMemcpyDeviceToDevice, b.stream()),
                  "copy_");
    return;
  }
  const Strided<2> d = make_strided<2>({&dst, &src}, "copy_");
  TG_CUDA_CHECK(launch_convert(b.stream(), dst.dtype(), dst.raw_data(), src.dtype(), src.raw_data(), d), "copy_");
}

void CudaBackend::copy(const Tensor& src, const Tensor& dst) {
  if (src.numel() == 0) return;
  activate("copy_");
  if (src.device().is_cpu()) {  // host -> device
    if (plain(src, dst)) {
      TG_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), src.nbytes(), cudaMemcpyHostToDevice, stream_),
                    "copy_");
      return;
    }
    Tensor staged = empty(src.shape(), src.dtype(), dst.device());
    copy(src.contiguous(), staged);
    device_copy(*this, staged, dst);
    return;
  }
  if (dst.device() == src.device()) {
    device_copy(*this, src, dst);
    return;
  }
  if (dst.device().is_cuda()) {  // between two GPUs: through the host
    Tensor host = empty(src.shape(), dst.dtype(), Device::cpu());
    copy(src, host);
    dst.copy_(host);
    return;
  }
  // device -> host: make the device side contiguous in dst's dtype, then one memcpy.
  const bool direct = src.is_contiguous() && src.dtype() == dst.dtype();
  Tensor dev = direct ? src : empty(src.shape(), dst.dtype(), device());
  if (!direct) device_copy(*this, src, dev);
  Tensor host = dst.is_contiguous() ? dst : empty(dst.shape(), dst.dtype(), Device::cpu());
  TG_CUDA_CHECK(cudaMemcpyAsync(host.raw_data(), dev.raw_data(), dev.nbytes(), cudaMemcpyDeviceToHost, stream_),
                "copy_");
  synchronize("copy_");
  if (!host.shares_storage(dst)) copy_stub(Device::cpu(), "copy_", host, dst);
}

void CudaBackend::fill(const Tensor& dst, double value) {
  activate("fill_");
  const Strided<1> d = make_strided<1>({&dst}, "fill_");
  TG_CUDA_CHECK(launch_fill(stream_, dst.dtype(), dst.raw_data(), d, value), "fill_");
}

}  // namespace tg::cuda
