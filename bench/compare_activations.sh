#!/usr/bin/env bash
# Runs the activation benchmark against PyTorch in one go: PyTorch's peer first, then
# bench_activations with its timings, which prints the ratio column (f+b/torch).
# Usage: bench/compare_activations.sh [build dir (default build)] [threads (default 2)] [extra bench_activations args]
# Needs python3 with torch (pip); both sides run at the same thread count, flush-denormal on.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
threads=${2:-2}
shift $(( $# < 2 ? $# : 2 ))
json=$(mktemp --suffix=.json)
trap 'rm -f "$json"' EXIT
python3 bench/pytorch/bench_activations.py --threads "$threads" --json "$json" "$@"
echo
"$build/bench/bench_activations" --threads "$threads" --torch "$json" "$@"
