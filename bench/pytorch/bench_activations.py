"""PyTorch peer of bench/bench_activations.cpp on the same 32x64x56x56 float32 tensor.

For every activation PyTorch has: forward and backward ns/element (backward = one
torch.autograd.grad of the recorded graph) and the bytes autograd saves for backward
(summed by a saved_tensors_hooks pack hook over every tensor the graph keeps; a saved
tensor that is the output or the input is counted like any other, as in the C++ bench).
Then VecGELU with 4x4 blocks in the original implementation's PyTorch form
(unfold the blocks -> norm -> torch.special.gammainc(d/2, r^2/2) -> multiply -> fold;
autograd backward), forward + backward, to compare with tapegrad's fused kernels.
Timing as in the C++ bench: one warm-up run, then the best of --reps (warm caches).
Flush-denormal is on, as inside tapegrad's compute (torch.set_flush_denormal(True)).
--json PATH also writes {name: {"fwd": ns/el, "bwd": ns/el}}, which
`bench_activations --torch PATH` reads to print the ratio column
(bench/compare_activations.sh runs both).
Usage: python3 bench/pytorch/bench_activations.py [--threads 2] [--reps 3] [--json PATH]
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--reps", type=int, default=3)
parser.add_argument("--shape", type=int, nargs=4, default=[32, 64, 56, 56])
parser.add_argument("--filter", default="")
parser.add_argument("--json", default="")
args = parser.parse_args()

torch.set_num_threads(args.threads)
torch.set_flush_denormal(True)
torch.manual_seed(0)
x = torch.randn(*args.shape, requires_grad=True)
g = torch.randn(*args.shape)
n = x.numel()
prelu_w = torch.full((args.shape[1],), 0.25, requires_grad=True)


def best(f):
    f()
    t = float("inf")
    for _ in range(args.reps):
        t0 = time.perf_counter()
        f()
        t = min(t, time.perf_counter() - t0)
    return t


def saved_bytes(f):
    total = [0]

    def pack(t):
        total[0] += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        f()
    return total[0]


def vecgelu_original(v, k=4):
    """The original VecGELU: 4x4 blocks per channel as vectors of d = 16."""
    N, C, H, W = v.shape
    u = F.unfold(v.reshape(N * C, 1, H, W), kernel_size=k, stride=k)  # [N*C, k*k, L]
    r = torch.linalg.vector_norm(u, dim=1, keepdim=True)
    s = torch.special.gammainc(torch.full_like(r, k * k / 2), r * r / 2)
    y = F.fold(u * s, (H, W), kernel_size=k, stride=k)
    return y.reshape(N, C, H, W)


ACTS = [
    ("relu", lambda: F.relu(x)),
    ("leaky_relu", lambda: F.leaky_relu(x, 0.01)),
    ("prelu (per channel)", lambda: F.prelu(x, prelu_w)),
    ("elu", lambda: F.elu(x)),
    ("selu", lambda: F.selu(x)),
    ("celu", lambda: F.celu(x)),
    ("gelu", lambda: F.gelu(x)),
    ("gelu_tanh", lambda: F.gelu(x, approximate="tanh")),
    ("silu", lambda: F.silu(x)),
    ("mish", lambda: F.mish(x)),
    ("softplus", lambda: F.softplus(x)),
    ("sigmoid", lambda: torch.sigmoid(x)),
    ("tanh", lambda: torch.tanh(x)),
    ("hardsigmoid", lambda: F.hardsigmoid(x)),
    ("hardswish", lambda: F.hardswish(x)),
    ("vec_gelu blocks(4) original form", lambda: vecgelu_original(x)),
]

print(f"torch {torch.__version__}, threads {args.threads}, shape {args.shape}, {n} elements, float32, best of {args.reps}")
print(f"{'activation':<34} {'fwd ns/el':>10} {'bwd ns/el':>10} {'saved bytes':>14} {'saved/in':>8}")
results = {}
for name, f in ACTS:
    if args.filter and args.filter not in name:
        continue
    tf = best(f)
    y = f()
    inputs = [x, prelu_w] if name.startswith("prelu") else [x]
    tb = best(lambda: torch.autograd.grad(y, inputs, g, retain_graph=True))
    sb = saved_bytes(f)
    print(f"{name:<34} {tf * 1e9 / n:>10.3f} {tb * 1e9 / n:>10.3f} {sb:>14} {sb / (n * 4):>8.3f}")
    results[name] = {"fwd": tf * 1e9 / n, "bwd": tb * 1e9 / n}
if args.json:
    with open(args.json, "w") as out:
        json.dump({"torch": torch.__version__, "threads": args.threads, "shape": args.shape, "ns_per_element": results}, out)
