#!/bin/sh
# One command on a fresh Debian 12 machine: install the build dependencies, build anyscan,
# and run a real SYN scan inside a throw-away namespace pair (198.18.0.0/24, nothing leaves
# this machine). Run as root, or as a user with sudo (it re-runs itself through sudo):
# scripts/demo.sh
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
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build anyscan anyscan-listen

exec bash -c '
set -euo pipefail
. scripts/netns-pair.sh
netns_pair_create 4
# Target side: a few open ports; every other port answers with RST.
ip netns exec "$TARGET_NS" build/tests/anyscan-listen --timeout 60 \
  198.18.0.2:22 198.18.0.2:443 198.18.0.3:80 198.18.0.5:8080 [2001:2::2]:443 [2001:2::4]:22 &
NETNS_PAIR_PIDS=$!
sleep 0.3
echo "== anyscan -p 22,80,443,8080 198.18.0.2-198.18.0.5 2001:2::2-2001:2::5 (inside namespace $SCANNER_NS)"
# -b /dev/null: the default blocklist covers 198.18.0.0/15 and 2001:2::/48 (the benchmarking
# ranges).
ip netns exec "$SCANNER_NS" timeout 60 build/anyscan -q -b /dev/null -i "$SCANNER_IF" -G "$TARGET_MAC" \
  -c 1 -p 22,80,443,8080 198.18.0.2-198.18.0.5 2001:2::2-2001:2::5
'
