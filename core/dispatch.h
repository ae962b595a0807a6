#pragma once
// The one path to a device (as ATen's DispatchStub). Every device-specific kernel of
// tapegrad (core's primitives in core/backend.h, the CNN ops in core/conv.h, the
// optimizer updates, every activation) is a DispatchStub: a table with one function
// pointer per device type. A front function checks its arguments and calls
//   stub(device, "op", args...);
// each backend fills its slot at load time with
//   TG_REGISTER_KERNEL(stub, DeviceType::CPU, fn);
// in the file that defines fn. A build without the CUDA backend simply has empty CUDA
// slots: asking for a CUDA device is then an error that says why, never a fallback.
#include <array>
#include <cstddef>
#include <utility>

#include "core/device.h"
#include "core/error.h"

namespace tg {

// Throws tg::Error naming `op` when `device`'s backend is not compiled into this
// build, or when the device does not exist on this machine.
void check_device(Device device, const char* op);
// Installed once by a backend other than the CPU's, at load time, with its device count.
void register_device_type(DeviceType type, int (*device_count)());

template <class Fn>
class DispatchStub;

template <class R, class... Args>
class DispatchStub<R (*)(Args...)> {
 public:
  using Fn = R (*)(Args...);
  constexpr DispatchStub() = default;
  // With the CPU kernel in place from the start (for stubs of templates, such as one per activation op).
  constexpr explicit DispatchStub(Fn cpu) : table_{cpu, nullptr} {}

  // Runs the kernel of `device`'s type. Throws tg::Error naming `op` when the device
  // is unusable (see check_device) or its backend registered no kernel for this stub.
  template <class... A>
  R operator()(Device device, const char* op, A&&... args) const {
    const Fn fn = table_[slot(device.type)];
    if (device.is_cpu() && fn) return fn(std::forward<A>(args)...);
    check_device(device, op);
    TG_CHECK(fn != nullptr, op, "no kernel for device {} in this build", device.str());
    return fn(std::forward<A>(args)...);
  }
  void set(DeviceType type, Fn fn) { table_[slot(type)] = fn; }

 private:
  static constexpr size_t slot(DeviceType t) { return static_cast<size_t>(t); }
  std::array<Fn, 2> table_{};  // one slot per DeviceType; constant-initialized (no order issues)
};

}  // namespace tg

#define TG_DISPATCH_CONCAT_(a, b) a##b
#define TG_DISPATCH_CONCAT(a, b) TG_DISPATCH_CONCAT_(a, b)
// Fills `stub`'s slot for `type` with `fn` when the library loads (namespace scope, in a .cpp).
#define TG_REGISTER_KERNEL(stub, type, fn)                                               \
  [[maybe_unused]] static const bool TG_DISPATCH_CONCAT(tg_registered_kernel_, __COUNTER__) = \
      ((stub).set((type), (fn)), true)
