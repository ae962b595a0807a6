#!/usr/bin/env bash
# Installs the tapegrad build in $1 into a temporary prefix, then builds and runs the
# downstream project beside this script against it twice: through CMake
# (find_package + tapegrad::tapegrad) and through pkg-config (tapegrad.pc), with the
# C++ compiler $2. Removes the prefix afterwards.
set -euo pipefail
build=$1
cxx=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg_consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
for f in include/tapegrad/tapegrad.h include/tapegrad/core/tensor.h lib/cmake/tapegrad/tapegradConfig.cmake \
         lib/cmake/tapegrad/tapegradConfigVersion.cmake lib/pkgconfig/tapegrad.pc; do
  [ -f "$tmp/prefix/$f" ] || { echo "not installed: $f" >&2; exit 1; }
done
ls "$tmp/prefix"/lib*/libtapegrad.so >/dev/null

# CMake: a clean configure that finds only the installed package.
cmake -S "$here" -B "$tmp/cmake-build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
      -DCMAKE_BUILD_TYPE=Release >"$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/cmake-build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
"$tmp/cmake-build/app" "$tmp"

# pkg-config: the flags alone build the same program.
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
"$cxx" -std=c++20 -O1 "$here/main.cpp" -o "$tmp/app-pc" $(pkg-config --cflags --libs tapegrad)
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/app-pc" "$tmp"
echo "consumer: CMake package and pkg-config both build and run against $(pkg-config --modversion tapegrad)"
