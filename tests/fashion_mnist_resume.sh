#!/usr/bin/env bash
# Resuming from an epoch checkpoint continues with bit-identical losses (CPU, same
# thread count): train 2 epochs straight, then 1 epoch + resume for the 2nd, and
# compare the 2nd epoch's metrics line (all but the timings) byte for byte.
# Usage: fashion_mnist_resume.sh <fashion_mnist binary> <activation>
set -euo pipefail
bin=$1
act=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(--activation "$act" --limit-train 320 --limit-test 100 --batch-size 32 --threads 2 --workers 2 --quiet)
"$bin" "${common[@]}" --epochs 2 --out "$tmp/straight" >/dev/null
"$bin" "${common[@]}" --epochs 1 --out "$tmp/resumed" >/dev/null
"$bin" "${common[@]}" --epochs 2 --out "$tmp/resumed" --resume "$tmp/resumed/$act-seed0/epoch1.safetensors" >/dev/null
strip() { sed -n 2p "$1" | sed -E 's/"(samples_per_second|seconds)":[^,}]*,?//g'; }
a=$(strip "$tmp/straight/$act-seed0/metrics.jsonl")
b=$(strip "$tmp/resumed/$act-seed0/metrics.jsonl")
echo "straight: $a"
echo "resumed:  $b"
[ -n "$a" ] && [ "$a" = "$b" ]
cmp "$tmp/straight/$act-seed0/epoch2.safetensors" "$tmp/resumed/$act-seed0/epoch2.safetensors"
echo "bit-identical"
