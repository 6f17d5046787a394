#!/bin/sh
# The whole test suite, as CI runs it (.ci/run calls this): installs dependencies, builds
# with -Werror, runs unit and privileged tests (root: network namespaces), the same under
# ThreadSanitizer (scripts/tsan.sh), then builds the libFuzzer targets with clang and runs
# each briefly. clang-format and clang-tidy
# (scripts/lint.sh) run right after the build. Run as root: sudo scripts/test.sh
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANYSCAN_WERROR=ON >/dev/null
ninja -C build
scripts/lint.sh build
(cd build && ctest --output-on-failure -j "$jobs" --timeout 600)

scripts/tsan.sh
scripts/fuzz.sh "${ANYSCAN_FUZZ_SECONDS:-10}"

# The Debian package: build, lintian, piuparts, booted systemd in nspawn (caches its base
# trees under /var/cache/anyscan-tests).
tests/package/package_test.sh
