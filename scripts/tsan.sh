#!/bin/sh
# ThreadSanitizer: the unit and privileged suites, with the scanner, its tests and every
# layer library built with -fsanitize=thread (GCC). Any data race fails the run (TSan exits
# 99, which no test expects). The reply-storm tests are left out: they measure that the
# receive path keeps up at the top rate, which a 5-15x slower TSan build cannot; the
# exact-set scans at an unlimited rate still run, with every sender and receiver thread.
# Run as root (network namespaces): sudo scripts/tsan.sh
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANYSCAN_WERROR=ON \
  -DANYSCAN_BUILD_BENCH=OFF -DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_CXX_FLAGS=-fsanitize=thread \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
ninja -C build-tsan
export TSAN_OPTIONS="halt_on_error=1 exitcode=99 second_deadlock_stack=1"
cd build-tsan
ctest --output-on-failure -L unit -j "$(nproc)" --timeout 600
ctest --output-on-failure -L privileged -E 'ReplyStorm' --timeout 600
echo "tsan: unit and privileged suites ran without a data race"
