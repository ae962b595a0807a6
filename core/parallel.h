#pragma once
// CPU threads and floating-point mode of the library's compute.
namespace tg {

// CPU thread count, as torch.set_num_threads. The initial value comes from the
// environment variable TG_NUM_THREADS (else OMP_NUM_THREADS, else all cores).
void set_num_threads(int n);
int get_num_threads();

// Denormal floats (below 1.2e-38 in float32) cost tens of cycles per operation on x86:
// a deep network whose activations decay into them can run several times slower. So
// inside the library's own compute (its kernels, their OpenMP threads, the DataLoader's
// workers) flush-to-zero and denormals-are-zero are on: denormal results and inputs
// read as 0. They are set and restored around that work (as TensorFlow scopes them),
// so the caller's floating-point mode is the same after a call as before it.
// set_flush_denormal(false) turns this off (torch's name); it returns whether the CPU
// has such a mode (x86: yes; elsewhere false, and denormals are kept).
bool set_flush_denormal(bool on);
bool flush_denormal();  // the current setting

// Holds flush-to-zero and denormals-are-zero on this thread for its lifetime when the
// setting is on, then restores this thread's previous mode. Every parallel region and
// kernel of the library opens one in each of its threads.
class DenormalScope {
 public:
  DenormalScope();
  ~DenormalScope();
  DenormalScope(const DenormalScope&) = delete;
  DenormalScope& operator=(const DenormalScope&) = delete;

 private:
  unsigned saved_ = 0;
  bool set_ = false;
};

// A DenormalScope in every thread of the OpenMP pool, for compute whose parallel
// regions are not the library's own (Eigen's multithreaded GEMM): it opens a parallel
// region to set the mode and another to restore it, so use it around large work only
// (`needed` = false makes it do nothing).
class TeamDenormalScope {
 public:
  explicit TeamDenormalScope(bool needed = true);
  ~TeamDenormalScope();
  TeamDenormalScope(const TeamDenormalScope&) = delete;
  TeamDenormalScope& operator=(const TeamDenormalScope&) = delete;

 private:
  bool set_ = false;
};

}  // namespace tg
