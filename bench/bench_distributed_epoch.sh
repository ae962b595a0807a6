#!/usr/bin/env bash
# Scaling efficiency of data-parallel training on this machine: one Fashion-MNIST epoch of
# the demo (relu, batch 64 per process, Adam) as 1 process × 2 threads against
# mpirun -np 2 × 1 thread (--distributed: each rank trains half the epoch's batches).
#   efficiency = (1-process epoch seconds) / (2-process epoch seconds)
# Usage: bench/bench_distributed_epoch.sh [build dir (default build)] [extra fashion_mnist flags]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
bin=$dir/examples/fashion_mnist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
common=(--epochs 1 --quiet --workers 1 "$@")
"$bin" "${common[@]}" --threads 2 --out "$tmp/one" --run r >/dev/null
mpirun -np 2 "$bin" "${common[@]}" --threads 1 --distributed --out "$tmp/two" --run r >/dev/null
secs() { sed -E 's/.*"seconds":([0-9.e+-]+).*/\1/' "$1/r/metrics.jsonl"; }
acc() { sed -E 's/.*"test_accuracy":([0-9.e+-]+).*/\1/' "$1/r/metrics.jsonl"; }
one=$(secs "$tmp/one")
two=$(secs "$tmp/two")
python3 - "$one" "$two" "$(acc "$tmp/one")" "$(acc "$tmp/two")" <<'PY'
import sys
one, two, a1, a2 = map(float, sys.argv[1:])
print(f"1 process x 2 threads: epoch {one:.1f} s, test accuracy {100*a1:.2f}%")
print(f"2 processes x 1 thread: epoch {two:.1f} s, test accuracy {100*a2:.2f}%")
print(f"speed-up {one/two:.2f}x, scaling efficiency {one/two:.2f} (2 processes against 1 on the same 2 cores)")
PY
