#pragma once
// Where a tensor's storage lives. The CUDA type exists in every build; using it
// in a build without the CUDA backend, or on a machine without a GPU, is an error
// that says which (never a silent fallback to the CPU).
#include <string>

namespace tg {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::CUDA, i}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& o) const { return type == o.type && (is_cpu() || index == o.index); }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// True when the CUDA backend was compiled into this build.
bool cuda_compiled();
// Number of usable CUDA devices (0 without the backend or without a GPU).
int cuda_device_count();

}  // namespace tg
