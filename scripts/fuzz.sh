#!/bin/sh
# Builds every libFuzzer target (clang, ASan+UBSan, in build-sanitize with the sanitized
# tests of scripts/asan.sh) and runs each for SECONDS (default 10), starting from the
# checked-in seed corpus (copied: new inputs stay in the build tree). A crash fails the run.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-10}
scripts/sanitize-build.sh
for fuzzer in build-sanitize/tests/fuzz/fuzz_*; do
  name=$(basename "$fuzzer")
  corpus="build-sanitize/corpus/$name"
  mkdir -p "$corpus"
  [ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
  echo "== $name (${seconds}s)"
  if ! "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -artifact_prefix=build-sanitize/ "$corpus" >"build-sanitize/$name.log" 2>&1; then
    tail -n 60 "build-sanitize/$name.log"
    echo "fuzz: $name FAILED (log: build-sanitize/$name.log)" >&2
    exit 1
  fi
  grep -E '^#[0-9]+.*(DONE|pulse)' "build-sanitize/$name.log" | tail -n 1
done
echo "fuzz: all targets ran ${seconds}s without a crash"
