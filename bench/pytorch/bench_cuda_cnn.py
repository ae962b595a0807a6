"""PyTorch peer of bench/bench_cuda_cnn.cpp: the VecGELU study's deep CNN, 20 x
(Conv2d 3x3, 64 channels, padding 1, then the activation) at 224x224 (the first conv
3->64), global average pooling, Linear(64, 1000), batch 32, float32, Adam. One
training step = forward, cross-entropy, backward, Adam step (zero_grad included),
timed between device synchronizations after warm-up steps; the median is reported.

VecGELU is the original eager form: 4x4 blocks per channel unfolded into vectors v
(d = 16), r = |v|, y = v * P(d/2, r^2/2) with P = torch.special.gammainc, folded back.
Autograd runs the backward: torch differentiates gammainc in its second argument,
dP(a, x)/dx = x^(a-1) e^(-x) / Gamma(a), and the chain rule through x = r^2/2 and r = |v|
gives the same dP/dr = r^(d-1) e^(-r^2/2) / (2^(d/2-1) Gamma(d/2)) as tapegrad's kernel.
Prints `median_s <activation> <seconds>` per activation (the C++ bench parses these).
On the CPU, --threads sets torch's thread count (the C++ bench passes its own) and
flush-denormal is on, as inside tapegrad's compute (torch.set_flush_denormal(True)).
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--device", default="cuda")
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--size", type=int, default=224)
parser.add_argument("--depth", type=int, default=20)
parser.add_argument("--warmup", type=int, default=2)
parser.add_argument("--iters", type=int, default=5)
parser.add_argument("--acts", nargs="+", default=["gelu", "vec_gelu"])
parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
args = parser.parse_args()
if args.threads > 0:
    torch.set_num_threads(args.threads)
torch.set_flush_denormal(True)


class VecGELU(torch.nn.Module):
    """The original VecGELU: k x k blocks per channel as vectors of d = k*k."""

    def __init__(self, k=4):
        super().__init__()
        self.k = k

    def forward(self, v):
        N, C, H, W = v.shape
        k = self.k
        u = F.unfold(v.reshape(N * C, 1, H, W), kernel_size=k, stride=k)  # [N*C, k*k, L]
        r = torch.linalg.vector_norm(u, dim=1, keepdim=True)
        s = torch.special.gammainc(torch.full_like(r, k * k / 2), r * r / 2)
        y = F.fold(u * s, (H, W), kernel_size=k, stride=k)
        return y.reshape(N, C, H, W)


def study_cnn(act):
    layers = []
    for i in range(args.depth):
        layers.append(torch.nn.Conv2d(3 if i == 0 else 64, 64, 3, padding=1))
        layers.append(torch.nn.GELU() if act == "gelu" else VecGELU())
    layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(64, 1000)]
    return torch.nn.Sequential(*layers)


def sync():
    if device.type == "cuda":
        torch.cuda.synchronize(device)


device = torch.device(args.device)
# Full float32 math as tapegrad's default (torch enables TF32 in cuDNN convolutions by default).
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.benchmark = False  # eager default: cuDNN heuristics pick the algorithms
print(f"torch {torch.__version__}, cudnn {torch.backends.cudnn.version()}, device "
      f"{torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}, threads {torch.get_num_threads()}")

for act in args.acts:
    torch.manual_seed(0)
    net = study_cnn(act).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(args.batch, 3, args.size, args.size, device=device)
    y = torch.randint(0, 1000, (args.batch,), device=device)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.iters):
        sync()
        t0 = time.perf_counter()
        loss = step()
        sync()
        times.append(time.perf_counter() - t0)
    print(f"{act}: loss {loss.item():.4f}, steps {[round(t, 4) for t in times]}")
    print(f"median_s {act} {statistics.median(times):.6f}")
    del net, opt, x, y, loss
    if device.type == "cuda":
        torch.cuda.empty_cache()
