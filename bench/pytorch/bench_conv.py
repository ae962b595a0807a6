"""PyTorch peer of bench/bench_conv.cpp: Conv2d 3x3, 64->64, padding 1, input
32x64x56x56 float32; one iteration = forward + input gradient + weight gradient.
Prints the median seconds per iteration (the C++ bench parses the last line)."""
import argparse
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--iters", type=int, default=5)
parser.add_argument("--batch", type=int, default=32)
args = parser.parse_args()

torch.set_num_threads(args.threads)
torch.set_flush_denormal(True)  # as inside tapegrad's compute
torch.manual_seed(0)
conv = torch.nn.Conv2d(64, 64, 3, padding=1)
x = torch.randn(args.batch, 64, 56, 56, requires_grad=True)
g = torch.randn(args.batch, 64, 56, 56)

times = []
for i in range(args.iters + 1):
    x.grad = None
    conv.zero_grad(set_to_none=True)
    t0 = time.perf_counter()
    y = conv(x)
    y.backward(g)
    t1 = time.perf_counter()
    if i > 0:  # the first iteration warms up caches and oneDNN's kernel selection
        times.append(t1 - t0)
times.sort()
print(f"torch {torch.__version__}, {args.threads} threads, mkldnn {torch.backends.mkldnn.is_available()}")
print(f"median_s {times[len(times) // 2]:.6f}")
