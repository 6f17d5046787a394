#!/bin/sh
# ThreadSanitizer: the unit suite and the privileged scans that run every kind of thread
# (senders, receivers serving several queues, the results writer, checkpoints, signals),
# with the scanner, its tests and every layer library built with -fsanitize=thread (GCC).
# Any data race fails the run (TSan exits 99, which no test expects). Left out: the reply
# storms (they measure that the receive path keeps up at the top rate, which a 5-15x slower
# TSan build cannot), and repeats of the same threads on other queue counts or thread
# choices (2-queue scans run every thread kind; the CI budget is 30 minutes); and the two
# dry runs of millions of probes (PrefixWindowsDryRun: 2^24, Hitlist: 600,000), which run
# the same sender and dry-run writer threads as the Cli dry-run tests here, but take longer
# under TSan than a unit test may (they run on the plain and ASan builds).
# Run as root (network namespaces): sudo scripts/tsan.sh
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANYSCAN_WERROR=ON \
  -DANYSCAN_BUILD_BENCH=OFF -DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_CXX_FLAGS=-fsanitize=thread \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
ninja -C build-tsan
export TSAN_OPTIONS="halt_on_error=1 exitcode=99 second_deadlock_stack=1"
cd build-tsan
ctest --output-on-failure -L unit -j "$(nproc)" --timeout 600 -E '^(PrefixWindowsDryRun|Hitlist)\.' 
ctest --output-on-failure -L privileged --timeout 600 \
  -R '(EngineScan\..*_q2$|SingleQueueScan|ResumeScan\.(Killed|Sigterm).*_default|AfXdpQueues)'
echo "tsan: unit and privileged suites ran without a data race"
