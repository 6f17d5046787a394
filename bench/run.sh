#!/bin/bash
# Benchmark: anyscan against zmap, masscan (Debian packages) and the bare ceiling senders of
# bench/ceiling (pre-built frames, nothing else) on the same workload, in the same run,
# alternating: SYN scan of 198.18.0.0/16 x 20 ports (1,310,720 probes) from one test-made
# namespace to another over one veth pair, on a 1-queue and a 2-queue veth.
#
# The target models a remote host behind a real NIC: an XDP_DROP program (native) on the
# target veth drops every frame before the target's kernel sees it. veth delivers on the
# sending CPU, so without it the target kernel's receive path is charged to the sender
# (ANYSCAN_BENCH_TARGET=kernel measures that way instead: the target namespace's kernel
# receives and drops the probes).
#
# Measured per run: pps from the target veth's rx counter (sampled every 50 ms, first to last
# increase), CPU seconds per probe and peak RSS from GNU time. Prints medians, ratios to
# zmap and masscan, and each anyscan row as a share of its engine's bare ceiling.
# Not a test: never gates CI. Usage: sudo bench/run.sh [RUNS] (default 3)
#   ANYSCAN_BENCH_ENGINES="af_packet af_xdp" anyscan engines (default both)
#   ANYSCAN_BENCH_QUEUES="1 2" veth queue counts, one table each (default "1 2")
#   ANYSCAN_BENCH_TARGET=xdp-drop|kernel (default xdp-drop)
#   ANYSCAN_BENCH_UDP=0 leaves out the UDP rows (default: UDP at the SYN frame size)
#   ANYSCAN_BENCH_CHECKPOINT=1 adds anyscan runs with --checkpoint-file (its cost)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
ENGINES=${ANYSCAN_BENCH_ENGINES:-af_packet af_xdp}
QUEUE_COUNTS=${ANYSCAN_BENCH_QUEUES:-1 2}
TARGET_MODE=${ANYSCAN_BENCH_TARGET:-xdp-drop}
PORTS=1000-1019
PROBES=$((65536 * 20))
UDP_PAYLOAD=hex:00112233445566778899aabbccddeeff  # 16 bytes: a 58-byte frame, as a SYN's

cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DANYSCAN_BUILD_TESTS=OFF -DANYSCAN_BUILD_BENCH=ON >/dev/null
ninja -C build-bench anyscan anyscan_bare_sendmmsg anyscan_bare_af_xdp anyscan_bench_xdp_drop >/dev/null
ANYSCAN=$PWD/build-bench/anyscan
BARE_SENDMMSG=$PWD/build-bench/bench/ceiling/anyscan_bare_sendmmsg
BARE_AF_XDP=$PWD/build-bench/bench/ceiling/anyscan_bare_af_xdp
XDP_DROP=$PWD/build-bench/bench/ceiling/xdp_drop.bpf.o

. scripts/netns-pair.sh
work=$(mktemp -d)
NETNS_PAIR_PIDS=""
cleanup_all() { netns_pair_delete; rm -rf "$work"; }
trap cleanup_all EXIT INT TERM

rx_packets() { ip netns exec "$TARGET_NS" cat "/sys/class/net/$TARGET_IF/statistics/rx_packets"; }

# run_case LABEL COMMAND... : runs COMMAND in the scanner namespace, appends
# "LABEL pps cpu_us_per_probe rss_mib frames" to $work/results.
run_case() {
  local label=$1; shift
  local samples=$work/samples timing=$work/timing
  : >"$samples"
  ip netns exec "$TARGET_NS" bash -c \
    "while :; do echo \"\$(date +%s.%N) \$(cat /sys/class/net/$TARGET_IF/statistics/rx_packets)\"; sleep 0.05; done" \
    >"$samples" 2>/dev/null &
  local sampler=$!
  local before; before=$(rx_packets)
  /usr/bin/time -o "$timing" -f '%e %U %S %M' ip netns exec "$SCANNER_NS" timeout 300 "$@" >/dev/null 2>"$work/$label.log" || {
    echo "bench: $label failed:"; tail -n 5 "$work/$label.log"; }
  sleep 0.2
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  local after; after=$(rx_packets)
  read -r _ user sys rss_kib <"$timing"
  awk -v before="$before" -v after="$after" -v user="$user" -v sys="$sys" -v rss="$rss_kib" -v label="$label" '
    { t[NR] = $1; c[NR] = $2 }
    END {
      first = 0; last = 0
      for (i = 2; i <= NR; i++) if (c[i] > c[i-1]) { if (!first) first = i - 1; last = i }
      packets = after - before
      secs = (first && last > first) ? t[last] - t[first] : 1
      printf "%s %.0f %.3f %.1f %d\n", label, packets / secs, (user + sys) * 1e6 / (packets ? packets : 1), rss / 1024, packets
    }' "$samples" >>"$work/results"
  tail -n 1 "$work/results" | awk '{printf "  %-30s %9.0f pps  %6.3f us CPU/probe  %6.1f MiB  (%d frames)\n", $1, $2, $3, $4, $5}'
}

anyscan_case() {  # anyscan_case LABEL ENGINE THREADS(T1|default) [ARGS...]
  local label=$1 engine=$2 threads=$3; shift 3
  local thread_args=()
  [ "$threads" = T1 ] && thread_args=(-T 1)
  run_case "$label" "$ANYSCAN" -q -b /dev/null --io-engine "$engine" -i "$SCANNER_IF" -S 198.18.0.1 \
    -G "$TARGET_MAC" -p "$PORTS" -r 0 -c 0 "${thread_args[@]}" -o /dev/null "$@" 198.18.0.0/16
}

one_run() {
  run_case bare-sendmmsg "$BARE_SENDMMSG" "$SCANNER_IF" "$TARGET_MAC" "$PROBES"
  for engine in $ENGINES; do anyscan_case "anyscan-$engine-T1" "$engine" T1; done
  run_case bare-af_xdp "$BARE_AF_XDP" "$SCANNER_IF" "$TARGET_MAC" "$PROBES"
  run_case zmap-T1 zmap -q -b /dev/null -i "$SCANNER_IF" -S 198.18.0.1 -G "$TARGET_MAC" -p 1000 -P 20 -r 0 -c 0 \
    -T 1 --max-sendto-failures 100000000 -o /dev/null 198.18.0.0/16
  ip netns exec "$TARGET_NS" ping -q -i 0.2 198.18.0.1 >/dev/null 2>&1 &
  local pinger=$!
  run_case masscan masscan 198.18.0.0/16 -p"$PORTS" --rate 100000000 --adapter "$SCANNER_IF" --adapter-ip 198.18.0.1 \
    --router-mac "$TARGET_MAC" --wait 0 -oL /dev/null
  kill "$pinger"; wait "$pinger" 2>/dev/null || true
  for engine in $ENGINES; do anyscan_case "anyscan-$engine-default" "$engine" default; done
  run_case zmap-T2 zmap -q -b /dev/null -i "$SCANNER_IF" -S 198.18.0.1 -G "$TARGET_MAC" -p 1000 -P 20 -r 0 -c 0 \
    -T 2 --max-sendto-failures 100000000 -o /dev/null 198.18.0.0/16
  if [ "${ANYSCAN_BENCH_UDP:-1}" = 1 ]; then
    for engine in $ENGINES; do
      for threads in T1 default; do
        anyscan_case "anyscan-$engine-$threads-udp" "$engine" "$threads" -M udp --probe-args "$UDP_PAYLOAD"
      done
    done
    run_case zmap-T1-udp zmap -q -b /dev/null -i "$SCANNER_IF" -S 198.18.0.1 -G "$TARGET_MAC" -M udp \
      --probe-args="$UDP_PAYLOAD" -p 1000 -P 20 -r 0 -c 0 -T 1 --max-sendto-failures 100000000 -o /dev/null \
      198.18.0.0/16
  fi
  if [ "${ANYSCAN_BENCH_CHECKPOINT:-0}" = 1 ]; then
    for engine in $ENGINES; do
      for threads in T1 default; do
        rm -f "$work/scan.checkpoint"
        anyscan_case "anyscan-$engine-$threads-checkpoint" "$engine" "$threads" \
          -o "$work/results.csv" --checkpoint-file "$work/scan.checkpoint"
      done
    done
  fi
}

report() {
  awk '
  function median(list,   n, arr, i, j, tmp) {
    n = split(list, arr, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { tmp = arr[i]; arr[i] = arr[j]; arr[j] = tmp }
    return (n % 2) ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
  }
  function ceiling(k) { return k ~ /af_xdp/ ? "bare-af_xdp" : (k ~ /af_packet/ ? "bare-sendmmsg" : "") }
  { pps[$1] = pps[$1] " " $2; cpu[$1] = cpu[$1] " " $3; rss[$1] = rss[$1] " " $4; if (!($1 in seen)) { order[++n] = $1; seen[$1] = 1 } }
  END {
    for (i = 1; i <= n; i++) { k = order[i]; P[k] = median(pps[k]); C[k] = median(cpu[k]); R[k] = median(rss[k]) }
    printf "| %-30s | %9s | %8s | %7s | %7s | %8s | %8s | %8s | %10s |\n", "sender", "pps", "CPU us/p", "RSS MiB", "x zmap", "x zmap-T2", "x masscan", "CPU/zmap", "of ceiling"
    printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "--------------------------------", "-----------", "----------", "---------", "---------", "----------", "----------", "----------", "------------"
    for (i = 1; i <= n; i++) {
      k = order[i]; c = ceiling(k)
      share = (c != "" && k !~ /default/ && (c in P)) ? sprintf("%9.1f%%", 100 * P[k] / P[c]) : "          "
      printf "| %-30s | %9.0f | %8.3f | %7.1f | %6.2fx | %7.2fx | %7.2fx | %8.2f | %s |\n", k, P[k], C[k], R[k], P[k] / P["zmap-T1"], P[k] / P["zmap-T2"], P[k] / P["masscan"], C[k] / C["zmap-T1"], share
    }
    udp = 0
    for (i = 1; i <= n; i++) {
      k = order[i]
      if (k !~ /-udp$/) continue
      if (!udp++) print "\nUDP (58-byte frames: a 16-byte payload) vs SYN (58-byte frames), same run:"
      syn = k; sub(/-udp$/, "", syn)
      if (syn in P) printf "  %-30s %9.0f pps = %.3f x %s\n", k, P[k], P[k] / P[syn], syn
    }
  }' "$1"
}

for queues in $QUEUE_COUNTS; do
  netns_pair_create 1 16 "$queues"
  trap cleanup_all EXIT INT TERM
  if [ "$TARGET_MODE" = xdp-drop ]; then
    ip -n "$TARGET_NS" link set dev "$TARGET_IF" xdpdrv obj "$XDP_DROP" sec xdp
  fi
  : >"$work/results"
  echo "workload: 198.18.0.0/16 x 20 ports = $PROBES probes; $RUNS runs each, alternating; $(nproc) cores;" \
    "$queues-queue veth; target: $TARGET_MODE"
  for run in $(seq 1 "$RUNS"); do
    echo "run $run"
    one_run
  done
  echo
  echo "medians over $RUNS runs, $queues-queue veth, target $TARGET_MODE (pps from the target veth rx counter;" \
    "'of ceiling': the T1 row over its engine's bare sender):"
  report "$work/results"
  echo
  netns_pair_delete
done
