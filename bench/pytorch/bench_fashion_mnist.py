"""One Fashion-MNIST training epoch: tapegrad's demo model vs the identical PyTorch model.

Same layers, initialization scheme (PyTorch's defaults, which tapegrad's layers copy),
Adam (lr 2e-3, the demo's default), batch size 64, input normalization, thread count. Each side runs in its
own process so that peak resident memory (ru_maxrss) is measured per process.
Prints: epoch seconds, peak RSS and test accuracy for both, and the ratios.

Usage: python3 bench/pytorch/bench_fashion_mnist.py [--threads 2] [--binary build/examples/fashion_mnist]
"""
import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

DATA = "/usr/share/datasets/fashion-mnist"


def load_idx(path):
    import numpy as np
    with gzip.open(path) as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def torch_epoch(threads, batch, lr, seed):
    import numpy as np
    import torch
    import torch.nn as nn
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)  # as inside tapegrad's compute
    torch.manual_seed(seed)
    x = torch.from_numpy(load_idx(f"{DATA}/train-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
    y = torch.from_numpy(load_idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64))
    xt = torch.from_numpy(load_idx(f"{DATA}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
    yt = torch.from_numpy(load_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    x = ((x - 0.2860) / 0.3530).unsqueeze(1)
    xt = ((xt - 0.2860) / 0.3530).unsqueeze(1)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    perm = torch.randperm(len(x))
    t0 = time.perf_counter()
    for i in range(0, len(x), batch):
        idx = perm[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    secs = time.perf_counter() - t0
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(xt), 500):
            correct += (model(xt[i:i + 500]).argmax(1) == yt[i:i + 500]).sum().item()
    print(json.dumps({"seconds": secs, "test_accuracy": correct / len(xt)}))


def run_child(cmd):
    """Runs cmd; returns its stdout and its own peak RSS in MiB (wait4's rusage)."""
    with tempfile.TemporaryFile(mode="w+") as out:
        p = subprocess.Popen(cmd, stdout=out)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed with exit code {p.returncode}")
        out.seek(0)
        return out.read(), usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--binary", default="build/examples/fashion_mnist")
    ap.add_argument("--torch-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_only:
        torch_epoch(args.threads, 64, 2e-3, 0)
        return
    out, torch_rss = run_child([sys.executable, __file__, "--torch-only", "--threads", str(args.threads)])
    t = json.loads(out.strip().splitlines()[-1])
    with tempfile.TemporaryDirectory() as tmp:
        _, ours_rss = run_child([args.binary, "--epochs", "1", "--threads", str(args.threads), "--quiet", "--out", tmp])
        with open(os.path.join(tmp, "relu-seed0", "metrics.jsonl")) as f:
            o = json.loads(f.readline())
    print(f"threads {args.threads}")
    print(f"{'fashion-mnist epoch':<24}{'tapegrad':>12}{'pytorch':>12}{'ratio':>8}")
    print(f"{'train seconds':<24}{o['seconds']:>12.1f}{t['seconds']:>12.1f}{o['seconds'] / t['seconds']:>8.2f}")
    print(f"{'peak RSS (MiB)':<24}{ours_rss:>12.0f}{torch_rss:>12.0f}{ours_rss / torch_rss:>8.2f}")
    print(f"{'test accuracy (%)':<24}{100 * o['test_accuracy']:>12.2f}{100 * t['test_accuracy']:>12.2f}"
          f"{100 * (o['test_accuracy'] - t['test_accuracy']):>+8.2f}")


if __name__ == "__main__":
    main()
