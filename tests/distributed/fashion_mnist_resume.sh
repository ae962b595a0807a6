#!/usr/bin/env bash
# Distributed resume continues identically: under mpirun -np 2, train 2 epochs straight,
# then 1 epoch + resume for the 2nd, and compare rank 0's 2nd-epoch metrics line (all
# but the timings) and the epoch-2 checkpoints (written by rank 0 only) byte for byte.
# Usage: fashion_mnist_resume.sh <mpirun> <fashion_mnist binary>
set -euo pipefail
mpirun=$1
bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { "$mpirun" -np 2 --oversubscribe "$bin" --distributed --limit-train 640 --limit-test 100 --batch-size 32 \
          --threads 1 --workers 1 --quiet "$@" >/dev/null; }
run --epochs 2 --out "$tmp/straight"
run --epochs 1 --out "$tmp/resumed"
run --epochs 2 --out "$tmp/resumed" --resume "$tmp/resumed/relu-seed0/epoch1.safetensors"
strip() { sed -n 2p "$1" | sed -E 's/"(samples_per_second|seconds)":[^,}]*,?//g'; }
a=$(strip "$tmp/straight/relu-seed0/metrics.jsonl")
b=$(strip "$tmp/resumed/relu-seed0/metrics.jsonl")
echo "straight: $a"
echo "resumed:  $b"
[ -n "$a" ] && [ "$a" = "$b" ]
[ "$(wc -l < "$tmp/straight/relu-seed0/metrics.jsonl")" -eq 2 ]  # one writer: rank 0
cmp "$tmp/straight/relu-seed0/epoch2.safetensors" "$tmp/resumed/relu-seed0/epoch2.safetensors"
echo "bit-identical"
