#!/bin/sh
# The whole test suite, as CI runs it (.ci/run calls this): installs dependencies, builds
# with -Werror, lints (clang-format, clang-tidy: scripts/lint.sh) and runs the unit tests;
# then the clang ASan+UBSan build runs the unit and privileged suites (root: network
# namespaces; scripts/asan.sh) and each libFuzzer target briefly (scripts/fuzz.sh); then
# ThreadSanitizer (scripts/tsan.sh); then the Debian package test. Run as root:
# scripts/test.sh (as root, or a user with sudo: it re-runs itself through sudo)
set -eu
# Root is needed (apt-get, network namespaces): as a user with sudo, run it again through
# sudo; as root (a fresh Debian machine has no sudo), as it is.
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo -- "$0" "$@"; fi
  echo "$(basename "$0"): must run as root (or as a user with sudo)" >&2
  exit 77
fi
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANYSCAN_WERROR=ON >/dev/null
ninja -C build
scripts/lint.sh build
# CI must run the manifest's schema check, which cmake adds only with tests/k8s/node_modules.
(cd build && ctest -N -R KubernetesManifest | grep -q 'Total Tests: 1') ||
  { echo "test.sh: the Kubernetes manifest test is missing (tests/k8s/node_modules)" >&2; exit 1; }
(cd build && ctest -N -R PrometheusRules | grep -q 'Total Tests: 1') ||
  { echo "test.sh: the alerting-rules test is missing (promtool)" >&2; exit 1; }
(cd build && ctest --output-on-failure -L unit -j "$jobs" --timeout 600)
# The reply storms (no reply lost at the top rate) on this, the build users run.
(cd build && ctest --output-on-failure -L privileged -R 'ReplyStorm' --timeout 600)

# The rest of the privileged suite runs once, on the ASan+UBSan build (the same tests,
# every engine, the system-call filter on): running it on this build as well would take the
# suite past its 30-minute budget. This build's scanner is the one the package test installs.
scripts/asan.sh
scripts/fuzz.sh "${ANYSCAN_FUZZ_SECONDS:-10}"
scripts/tsan.sh

# The Debian package: build, lintian, piuparts, booted systemd in nspawn (caches its base
# trees under /var/cache/anyscan-tests).
tests/package/package_test.sh
