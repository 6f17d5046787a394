#!/bin/bash
# Dedup memory per result, IPv4 against IPv6, measured on real scans (not a test, never a CI
# gate): a test-made namespace pair whose target side answers every address of
# 198.19.0.0/16 and 2001:2:1::/104 (local routes: its kernel sends a RST for each SYN), so
# every probe gives a result; -p 1-153 over the IPv4 /16 and -p 1 over the IPv6 /104 give
# ~10^7 results each. Prints results and dedup_kib from the metadata, and bytes per result.
# Usage: sudo bench/dedup_families.sh [ENGINE] [RATE]   (default af_xdp 300000)
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINE=${1:-af_xdp}
RATE=${2:-300000}
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DANYSCAN_BUILD_TESTS=OFF >/dev/null
ninja -C build-bench anyscan >/dev/null
. scripts/netns-pair.sh
work=$(mktemp -d)
cleanup_all() { netns_pair_delete; rm -rf "$work"; }
trap cleanup_all EXIT INT TERM
netns_pair_create 1 16 2
trap cleanup_all EXIT INT TERM
ip -n "$TARGET_NS" route add local 198.19.0.0/16 dev lo
ip -n "$TARGET_NS" route add local 2001:2:1::/104 dev lo
for family in ipv4 ipv6; do
  if [ "$family" = ipv4 ]; then args=(-p 1-153 198.19.0.0/16); else args=(-p 1 -n 10027008 2001:2:1::/104); fi
  ip netns exec "$SCANNER_NS" timeout 300 build-bench/anyscan -q -b /dev/null --io-engine "$ENGINE" \
    -i "$SCANNER_IF" -G "$TARGET_MAC" -r "$RATE" -c 3 -o /dev/null -m "$work/$family.json" "${args[@]}"
  results=$(grep -o '"results":[0-9]*' "$work/$family.json" | head -1 | cut -d: -f2)
  kib=$(grep -o '"dedup_kib":[0-9]*' "$work/$family.json" | cut -d: -f2)
  sent=$(grep -o '"sent":[0-9]*' "$work/$family.json" | head -1 | cut -d: -f2)
  awk -v f="$family" -v r="$results" -v k="$kib" -v s="$sent" \
    'BEGIN { printf "%s: %d probes, %d results, dedup %d KiB = %.1f bytes per result\n", f, s, r, k, r ? k * 1024 / r : 0 }'
done
