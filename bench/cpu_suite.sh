#!/usr/bin/env bash
# Every CPU figure of the README's benchmark table and docs/activations.md's cost table,
# in one run, each tapegrad figure beside its PyTorch peer (same thread count, both
# sides flush-denormal on). Prints the machine and its load first: on a shared machine
# the ratios are indications only. About 3 minutes on 2 quiet cores.
# Usage: bench/cpu_suite.sh [build dir (default build)] [threads (default 2)]
# Needs python3 with torch and numpy (pip) and the Fashion-MNIST files (scripts/setup-deps).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
threads=${2:-2}
export OMP_NUM_THREADS=$threads  # the programs without a --threads option
section() { printf '\n=== %s (load average %s)\n' "$1" "$(cut -d' ' -f1-3 /proc/loadavg)"; }

echo "tapegrad $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB; threads $threads"
python3 -c 'import torch; print("torch", torch.__version__)'

section "activations: ns per element, f+b over the memory floor and over PyTorch"
bench/compare_activations.sh "$build" "$threads" --reps 10
section "core: matmul and elementwise"
"$build/bench/bench_core" --threads "$threads"
section "conv 3x3 64->64, 32x64x56x56, forward + both gradients"
"$build/bench/bench_conv" --threads "$threads" --iters 5
section "the VecGELU study's CNN, one Adam step, 8x3x64x64, depth 20"
"$build/bench/bench_cuda_cnn" --device cpu --size 64 --batch 8 --depth 20 --warmup 1 --iters 3
section "one Fashion-MNIST epoch of the demo model"
python3 bench/pytorch/bench_fashion_mnist.py --threads "$threads" --binary "$build/examples/fashion_mnist"
