#!/usr/bin/env bash
# ctest lab_quick: `scripts/lab --quick` into a temporary folder (the committed docs are
# not touched) must produce every figure as a valid PNG and fill every table block.
# Usage: lab_quick.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$src/scripts/lab" --quick --build "$1" --out "$tmp"
figures=(gelu_formation toy_regression self_normalization activation_curves vecgelu_scale quantization)
for act in prelu silu gelu hardswish hardgelu relu elu selu vecgelu; do figures+=("perlin_$act"); done
for f in "${figures[@]}"; do
  /usr/bin/python3 - "$tmp/figures/$f.png" <<'PY'
import struct, sys, zlib
path = sys.argv[1]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG signature"
pos, chunks = 8, []
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
    assert zlib.crc32(kind + body) == crc, f"{path}: bad CRC in {kind}"
    chunks.append((kind, body))
    pos += 12 + n
w, h, depth, color = struct.unpack(">IIBB", data[16:26])
kinds = [k for k, _ in chunks]
assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and w > 0 and h > 0, path
pixels = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
assert len(pixels) == h * (1 + (w * channels * depth + 7) // 8), f"{path}: {len(pixels)} bytes of pixels for {w}x{h}"
PY
done
for block in gelu toy perlin selfnorm criteria; do
  body=$(sed -n "/<!-- lab:$block begin -->/,/<!-- lab:$block end -->/p" "$tmp/activations.md" | sed '1d;$d')
  if [ -z "$body" ]; then
    echo "lab_quick: table block '$block' is empty" >&2
    exit 1
  fi
done
rows=$(sed -n '/<!-- lab:criteria begin -->/,/<!-- lab:criteria end -->/p' "$tmp/activations.md" | grep -c '^| `' || true)
[ "$rows" -ge 20 ] || { echo "lab_quick: the criteria table has $rows activation rows" >&2; exit 1; }
echo "lab_quick: ${#figures[@]} figures and 5 tables"
