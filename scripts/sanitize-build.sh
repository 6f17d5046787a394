#!/bin/sh
# The clang ASan+UBSan build shared by scripts/asan.sh (tests) and scripts/fuzz.sh
# (libFuzzer targets): build-sanitize, everything in it.
set -eu
cd "$(dirname "$0")/.."
flags="-fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined \
-fno-omit-frame-pointer"
CC=clang CXX=clang++ cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DANYSCAN_FUZZ=ON -DANYSCAN_BUILD_BENCH=OFF -DANYSCAN_WERROR=ON \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
ninja -C build-sanitize all fuzzers
