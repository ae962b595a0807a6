#pragma once
// CPU thread count, as torch.set_num_threads. The initial value comes from the
// environment variable TG_NUM_THREADS (else OMP_NUM_THREADS, else all cores).
namespace tg {
void set_num_threads(int n);
int get_num_threads();
}  // namespace tg
