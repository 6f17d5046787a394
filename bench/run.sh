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
# Measured per run by bench/ceiling/measure.cc: pps from the target veth's rx counter (read
# every 0.5 ms; frames over the time from its first to its last change), the sender's CPU
# seconds per probe and peak RSS (wait4), and the start-up: exec to the first frame at the
# target. Prints medians, ratios to zmap and masscan, and each T1 row as a share of its
# engine's bare ceiling.
# Not a test: never gates CI. Usage: sudo bench/run.sh [RUNS] (default 3)
#   ANYSCAN_BENCH_ENGINES="af_packet af_xdp" anyscan engines (default both)
#   ANYSCAN_BENCH_QUEUES="1 2" veth queue counts, one table each (default "1 2")
#   ANYSCAN_BENCH_TARGET=xdp-drop|kernel (default xdp-drop)
#   ANYSCAN_BENCH_UDP=0 leaves out the UDP rows (default: UDP at the SYN frame size)
#   ANYSCAN_BENCH_CHECKPOINT=1 adds anyscan runs with --checkpoint-file (its cost)
#   ANYSCAN_BENCH_FAMILIES_ONLY=1 runs only the -T 1 rows of both families and their bare
#     ceilings (IPv4 against IPv6, more runs in the same time)
#   ANYSCAN_BENCH_IPV6=0 leaves out the IPv6 rows (default: anyscan's IPv6 SYN scan of
#     2001:2::/112 x 20 ports, 78-byte frames, and both bare senders with IPv6 frames)
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
ninja -C build-bench anyscan anyscan_bare_sendmmsg anyscan_bare_af_xdp anyscan_bench_measure \
  anyscan_bench_xdp_drop >/dev/null
ANYSCAN=$PWD/build-bench/anyscan
BARE_SENDMMSG=$PWD/build-bench/bench/ceiling/anyscan_bare_sendmmsg
BARE_AF_XDP=$PWD/build-bench/bench/ceiling/anyscan_bare_af_xdp
XDP_DROP=$PWD/build-bench/bench/ceiling/xdp_drop.bpf.o
MEASURE=$PWD/build-bench/bench/ceiling/anyscan_bench_measure

. scripts/netns-pair.sh
work=$(mktemp -d)
NETNS_PAIR_PIDS=""
cleanup_all() { netns_pair_delete; rm -rf "$work"; }
trap cleanup_all EXIT INT TERM

# run_case LABEL COMMAND... : runs COMMAND in the scanner namespace under bench/ceiling's
# meter, appends "LABEL pps cpu_us_per_probe rss_mib frames first_frame_ms" to $work/results.
run_case() {
  local label=$1; shift
  local line
  line=$(ip netns exec "$TARGET_NS" timeout 300 "$MEASURE" "$SCANNER_NS" "$TARGET_IF" "$@" 2>"$work/$label.log")
  # first_frame_ms F pps P frames N cpu_s C rss_kib R exit E
  set -- $line
  if [ "${12:-1}" != 0 ]; then echo "bench: $label failed (exit ${12:-?}):"; tail -n 5 "$work/$label.log"; fi
  echo "$label $4 $(awk -v c="$8" -v n="$6" 'BEGIN { printf "%.3f", n ? c * 1e6 / n : 0 }') \
$(awk -v r="${10}" 'BEGIN { printf "%.1f", r / 1024 }') $6 $2" >>"$work/results"
  tail -n 1 "$work/results" | awk '{printf "  %-30s %9.0f pps  %6.3f us CPU/probe  %6.1f MiB  (%d frames, first after %s ms)\n", $1, $2, $3, $4, $5, $6}'
}

anyscan6_case() {  # anyscan6_case LABEL ENGINE THREADS(T1|default): the IPv6 workload
  local label=$1 engine=$2 threads=$3; shift 3
  local thread_args=()
  [ "$threads" = T1 ] && thread_args=(-T 1)
  run_case "$label" "$ANYSCAN" -q -b /dev/null --io-engine "$engine" -i "$SCANNER_IF" -S 2001:2::1 \
    -G "$TARGET_MAC" -p "$PORTS" -r 0 -c 0 "${thread_args[@]}" -o /dev/null "$@" 2001:2::/112
}

anyscan_case() {  # anyscan_case LABEL ENGINE THREADS(T1|default) [ARGS...]
  local label=$1 engine=$2 threads=$3; shift 3
  local thread_args=()
  [ "$threads" = T1 ] && thread_args=(-T 1)
  run_case "$label" "$ANYSCAN" -q -b /dev/null --io-engine "$engine" -i "$SCANNER_IF" -S 198.18.0.1 \
    -G "$TARGET_MAC" -p "$PORTS" -r 0 -c 0 "${thread_args[@]}" -o /dev/null "$@" 198.18.0.0/16
}

families_run() {
  run_case bare-sendmmsg "$BARE_SENDMMSG" "$SCANNER_IF" "$TARGET_MAC" "$PROBES"
  run_case bare-sendmmsg-v6 "$BARE_SENDMMSG" "$SCANNER_IF" "$TARGET_MAC" "$PROBES" ipv6
  for engine in $ENGINES; do
    anyscan_case "anyscan-$engine-T1" "$engine" T1
    anyscan6_case "anyscan-$engine-T1-v6" "$engine" T1
  done
  run_case bare-af_xdp "$BARE_AF_XDP" "$SCANNER_IF" "$TARGET_MAC" "$PROBES"
  run_case bare-af_xdp-v6 "$BARE_AF_XDP" "$SCANNER_IF" "$TARGET_MAC" "$PROBES" ipv6
  # Ratios to zmap and masscan need their rows: one each, so the table prints.
  run_case zmap-T1 zmap -q -b /dev/null -i "$SCANNER_IF" -S 198.18.0.1 -G "$TARGET_MAC" -p 1000 -P 20 -r 0 -c 0 \
    -T 1 --max-sendto-failures 100000000 -o /dev/null 198.18.0.0/16
}

one_run() {
  if [ "${ANYSCAN_BENCH_FAMILIES_ONLY:-0}" = 1 ]; then families_run; return; fi
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
  if [ "${ANYSCAN_BENCH_IPV6:-1}" = 1 ]; then
    run_case bare-sendmmsg-v6 "$BARE_SENDMMSG" "$SCANNER_IF" "$TARGET_MAC" "$PROBES" ipv6
    for engine in $ENGINES; do anyscan6_case "anyscan-$engine-T1-v6" "$engine" T1; done
    run_case bare-af_xdp-v6 "$BARE_AF_XDP" "$SCANNER_IF" "$TARGET_MAC" "$PROBES" ipv6
    for engine in $ENGINES; do anyscan6_case "anyscan-$engine-default-v6" "$engine" default; done
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
  function ratio(a, b) { return b ? a / b : 0 }  # a row absent from this run: 0
  function ceiling(k,   c) {
    c = k ~ /af_xdp/ ? "bare-af_xdp" : (k ~ /af_packet/ ? "bare-sendmmsg" : "")
    return (c != "" && k ~ /-v6$/) ? c "-v6" : c
  }
  { pps[$1] = pps[$1] " " $2; cpu[$1] = cpu[$1] " " $3; rss[$1] = rss[$1] " " $4; ff[$1] = ff[$1] " " $6; if (!($1 in seen)) { order[++n] = $1; seen[$1] = 1 } }
  END {
    for (i = 1; i <= n; i++) { k = order[i]; P[k] = median(pps[k]); C[k] = median(cpu[k]); R[k] = median(rss[k]); F[k] = median(ff[k]) }
    printf "| %-30s | %9s | %8s | %7s | %8s | %7s | %8s | %8s | %8s | %10s |\n", "sender", "pps", "CPU us/p", "RSS MiB", "start ms", "x zmap", "x zmap-T2", "x masscan", "CPU/zmap", "of ceiling"
    printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "--------------------------------", "-----------", "----------", "---------", "----------", "---------", "----------", "----------", "----------", "------------"
    for (i = 1; i <= n; i++) {
      k = order[i]; c = ceiling(k)
      share = (c != "" && k !~ /default/ && k !~ /^bare/ && (c in P)) ? sprintf("%9.1f%%", 100 * P[k] / P[c]) : "          "
      printf "| %-30s | %9.0f | %8.3f | %7.1f | %8.1f | %6.2fx | %7.2fx | %7.2fx | %8.2f | %s |\n", k, P[k], C[k], R[k], F[k], ratio(P[k], P["zmap-T1"]), ratio(P[k], P["zmap-T2"]), ratio(P[k], P["masscan"]), ratio(C[k], C["zmap-T1"]), share
    }
    v6 = 0
    for (i = 1; i <= n; i++) {
      k = order[i]
      if (k !~ /-v6$/) continue
      if (!v6++) print "\nIPv6 (78-byte frames) vs IPv4 (58-byte frames), same run:"
      v4 = k; sub(/-v6$/, "", v4)
      if (v4 in P) printf "  %-30s %9.0f pps = %.3f x %s (%.3f us CPU/probe vs %.3f)\n", k, P[k], ratio(P[k], P[v4]), v4, C[k], C[v4]
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
