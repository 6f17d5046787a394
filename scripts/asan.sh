#!/bin/sh
# AddressSanitizer + UndefinedBehaviorSanitizer: one clang build (build-sanitize) of the
# scanner, every layer library, the tests and the libFuzzer targets (scripts/fuzz.sh runs
# those from the same tree), then the unit suite and the whole privileged suite: every scan
# the privileged tests run (both engines, every queue count, reply storms, kills and
# resumes, with the system-call filter on; not the reply storms, see below) runs the
# sanitized scanner, and any report
# aborts it. Two checks are off in the scanner because its system-call filter refuses what
# they need, by design: LeakSanitizer (it stops the process at exit with a helper started by
# clone(2) without CLONE_THREAD; src/main.cc turns it off) and UBSan's vptr check (it tests
# memory with a pipe). The test binaries, which run the same code in-process, are
# leak-checked.
# Run as root (network namespaces): sudo scripts/asan.sh [ctest -R regex for privileged]
set -eu
cd "$(dirname "$0")/.."
scripts/sanitize-build.sh
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"
cd build-sanitize
export ASAN_OPTIONS="abort_on_error=1"
ctest --output-on-failure -L unit -j "$(nproc)" --timeout 600
# The reply storms measure that the receive path keeps up with a million replies at the top
# rate without a drop, which a sanitized receiver (about half as fast) cannot promise:
# scripts/test.sh runs them on the plain build.
ctest --output-on-failure -L privileged --timeout 600 -E 'ReplyStorm' ${1:+-R "$1"}
echo "asan: unit and privileged suites ran without an AddressSanitizer or UBSan report"
