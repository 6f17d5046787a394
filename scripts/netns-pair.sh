# Sourced by the demo and the benchmarks: makes a throw-away namespace pair joined by one
# veth and nothing else (no default route, no bridge), addresses in 198.18.0.0/15 and
# 2001:2::/48 only (198.18.0.1 and 2001:2::1 on the scanner side, 198.18.0.N and 2001:2::N on
# the target side), and removes it on exit, also on failure or Ctrl-C.
#   netns_pair_create TARGET_ADDRESS_COUNT [TARGET_PREFIX [QUEUES]]
# sets SCANNER_NS, TARGET_NS, SCANNER_IF, TARGET_IF, TARGET_MAC. QUEUES > 1 gives both veth
# ends that many RX and TX queues (a multi-queue NIC, as the scanner sees it).
netns_pair_create() {
  local count=${1:-4} prefix=${2:-24} queues=${3:-1} id="$$" queue_args=""
  [ "$queues" -gt 1 ] && queue_args="numtxqueues $queues numrxqueues $queues"
  SCANNER_NS="anyscan-demo-s$id"
  TARGET_NS="anyscan-demo-t$id"
  SCANNER_IF="asd${id}a"
  TARGET_IF="asd${id}b"
  trap netns_pair_delete EXIT INT TERM
  ip netns add "$SCANNER_NS"
  ip netns add "$TARGET_NS"
  # IPv6 addresses usable at once: no duplicate address detection in either namespace.
  ip netns exec "$SCANNER_NS" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip netns exec "$TARGET_NS" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  # shellcheck disable=SC2086 # queue_args is two words or none
  ip -n "$SCANNER_NS" link add "$SCANNER_IF" $queue_args type veth peer name "$TARGET_IF" $queue_args \
    netns "$TARGET_NS"
  ip -n "$SCANNER_NS" link set lo up
  ip -n "$TARGET_NS" link set lo up
  ip -n "$SCANNER_NS" addr add 198.18.0.1/$prefix dev "$SCANNER_IF"
  ip -n "$SCANNER_NS" addr add 2001:2::1/64 dev "$SCANNER_IF" nodad
  local i
  for i in $(seq 2 $((count + 1))); do
    ip -n "$TARGET_NS" addr add "198.18.0.$i/$prefix" dev "$TARGET_IF"
    [ "$i" -lt 256 ] && ip -n "$TARGET_NS" addr add "2001:2::$(printf %x "$i")/64" dev "$TARGET_IF" nodad
  done
  ip -n "$SCANNER_NS" link set "$SCANNER_IF" up
  ip -n "$TARGET_NS" link set "$TARGET_IF" up
  TARGET_MAC=$(ip -n "$TARGET_NS" -o link show dev "$TARGET_IF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
}

netns_pair_delete() {
  # Background helpers we started are ended by PID only.
  local pid
  for pid in ${NETNS_PAIR_PIDS:-}; do kill "$pid" 2>/dev/null || true; done
  ip netns del "$SCANNER_NS" 2>/dev/null || true
  ip netns del "$TARGET_NS" 2>/dev/null || true
}
