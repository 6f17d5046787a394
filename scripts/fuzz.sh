#!/bin/sh
# Builds every libFuzzer target (clang, ASan+UBSan) and runs each for SECONDS (default 10),
# starting from the checked-in seed corpus. A crash fails the run.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-10}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DANYSCAN_FUZZ=ON -DANYSCAN_BUILD_TESTS=OFF -DANYSCAN_BUILD_BENCH=OFF -DANYSCAN_WERROR=ON >/dev/null
ninja -C build-fuzz fuzzers
for fuzzer in build-fuzz/tests/fuzz/fuzz_*; do
  name=$(basename "$fuzzer")
  corpus="build-fuzz/corpus/$name"
  mkdir -p "$corpus"
  [ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
  echo "== $name (${seconds}s)"
  if ! "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -artifact_prefix=build-fuzz/ "$corpus" >"build-fuzz/$name.log" 2>&1; then
    tail -n 60 "build-fuzz/$name.log"
    echo "fuzz: $name FAILED (log: build-fuzz/$name.log)" >&2
    exit 1
  fi
  grep -E '^#[0-9]+.*(DONE|pulse)' "build-fuzz/$name.log" | tail -n 1
done
echo "fuzz: all targets ran ${seconds}s without a crash"
