#!/bin/bash
# Benchmark: anyscan against zmap and masscan (Debian packages) on the same workload, in the
# same run, alternating: SYN scan of 198.18.0.0/15 x 40 ports (5,242,880 probes) from one
# test-made namespace to another over one veth pair. The target namespace has no address
# for most of the range, so its kernel drops the probes (no replies to process).
#
# Measured per run: pps from the target veth's rx counter (sampled every 50 ms, first to last
# increase), CPU seconds per probe and peak RSS from GNU time. Prints medians and ratios.
# Not a test: never gates CI. Usage: sudo bench/run.sh [RUNS] (default 3)
#   ANYSCAN_BENCH_ENGINES="af_packet af_xdp" selects anyscan engines.
#   ANYSCAN_BENCH_QUEUES=2 gives the veth pair that many RX/TX queues (default 1).
#   ANYSCAN_BENCH_CHECKPOINT=1 adds anyscan runs with --checkpoint-file (its cost).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
ENGINES=${ANYSCAN_BENCH_ENGINES:-af_packet}
PORTS=1000-1039
PROBES=$((131072 * 40))
THREADS=$(nproc)

cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DANYSCAN_BUILD_TESTS=OFF >/dev/null
ninja -C build-bench anyscan >/dev/null
ANYSCAN=$PWD/build-bench/anyscan

. scripts/netns-pair.sh
QUEUES=${ANYSCAN_BENCH_QUEUES:-1}
netns_pair_create 1 15 "$QUEUES"
work=$(mktemp -d)
NETNS_PAIR_PIDS=""
cleanup_all() { netns_pair_delete; rm -rf "$work"; }
trap cleanup_all EXIT INT TERM

rx_packets() { ip netns exec "$TARGET_NS" cat "/sys/class/net/$TARGET_IF/statistics/rx_packets"; }

# run_case LABEL COMMAND... : runs COMMAND in the scanner namespace, appends
# "LABEL pps cpu_us_per_probe rss_mib" to $work/results.
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
      printf "%s %.0f %.3f %.1f %d\n", label, packets / secs, (user + sys) * 1e6 / packets, rss / 1024, packets
    }' "$samples" >>"$work/results"
  tail -n 1 "$work/results" | awk '{printf "  %-28s %9.0f pps  %6.3f us CPU/probe  %6.1f MiB  (%d frames)\n", $1, $2, $3, $4, $5}'
}

UDP_PAYLOAD=hex:00112233445566778899aabbccddeeff
echo "workload: 198.18.0.0/15 x 40 ports = $PROBES probes; $RUNS runs each, alternating; $(nproc) cores; $QUEUES-queue veth"
for run in $(seq 1 "$RUNS"); do
  echo "run $run"
  for engine in $ENGINES; do
    run_case "anyscan-$engine-T1" "$ANYSCAN" -q -b /dev/null --io-engine "$engine" -i "$SCANNER_IF" -S 198.18.0.1 \
      -G "$TARGET_MAC" -p "$PORTS" -r 0 -c 0 -T 1 -o /dev/null 198.18.0.0/15
  done
  run_case zmap-T1 zmap -q -b /dev/null -i "$SCANNER_IF" -S 198.18.0.1 -G "$TARGET_MAC" -p 1000 -P 40 -r 0 -c 0 \
    -T 1 --max-sendto-failures 100000000 -o /dev/null 198.18.0.0/15
  ip netns exec "$TARGET_NS" ping -q -i 0.2 198.18.0.1 >/dev/null 2>&1 &
  pinger=$!
  run_case masscan masscan 198.18.0.0/15 -p"$PORTS" --rate 100000000 --adapter "$SCANNER_IF" --adapter-ip 198.18.0.1 \
    --router-mac "$TARGET_MAC" --wait 0 -oL /dev/null
  kill "$pinger"; wait "$pinger" 2>/dev/null || true
  for engine in $ENGINES; do
    run_case "anyscan-$engine-default" "$ANYSCAN" -q -b /dev/null --io-engine "$engine" -i "$SCANNER_IF" -S 198.18.0.1 \
      -G "$TARGET_MAC" -p "$PORTS" -r 0 -c 0 -o /dev/null 198.18.0.0/15
  done
  run_case zmap-T2 zmap -q -b /dev/null -i "$SCANNER_IF" -S 198.18.0.1 -G "$TARGET_MAC" -p 1000 -P 40 -r 0 -c 0 \
    -T 2 --max-sendto-failures 100000000 -o /dev/null 198.18.0.0/15
  # UDP at the SYN probe's frame size (58 bytes: a 16-byte payload): the same pps is the bar.
  for engine in $ENGINES; do
    for threads in T1 default; do
      thread_args=""
      [ "$threads" = T1 ] && thread_args="-T 1"
      # shellcheck disable=SC2086 # thread_args is two words or none
      run_case "anyscan-$engine-$threads-udp" "$ANYSCAN" -q -b /dev/null --io-engine "$engine" -i "$SCANNER_IF" \
        -S 198.18.0.1 -G "$TARGET_MAC" -M udp --probe-args "$UDP_PAYLOAD" -p "$PORTS" -r 0 -c 0 $thread_args \
        -o /dev/null 198.18.0.0/15
    done
  done
  run_case zmap-T1-udp zmap -q -b /dev/null -i "$SCANNER_IF" -S 198.18.0.1 -G "$TARGET_MAC" -M udp \
    --probe-args="$UDP_PAYLOAD" -p 1000 -P 40 -r 0 -c 0 -T 1 --max-sendto-failures 100000000 -o /dev/null \
    198.18.0.0/15
  if [ "${ANYSCAN_BENCH_CHECKPOINT:-0}" = 1 ]; then
    for engine in $ENGINES; do
      for threads in T1 default; do
        thread_args=""
        [ "$threads" = T1 ] && thread_args="-T 1"
        rm -f "$work/scan.checkpoint"
        # shellcheck disable=SC2086 # thread_args is two words or none
        run_case "anyscan-$engine-$threads-checkpoint" "$ANYSCAN" -q -b /dev/null --io-engine "$engine" \
          -i "$SCANNER_IF" -S 198.18.0.1 -G "$TARGET_MAC" -p "$PORTS" -r 0 -c 0 $thread_args \
          -o "$work/results.csv" --checkpoint-file "$work/scan.checkpoint" 198.18.0.0/15
      done
    done
  fi
done

echo
echo "medians over $RUNS runs (pps from the target veth rx counter):"
awk '
  function median(list,   n, arr, i, j, tmp) {
    n = split(list, arr, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { tmp = arr[i]; arr[i] = arr[j]; arr[j] = tmp }
    return (n % 2) ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
  }
  { pps[$1] = pps[$1] " " $2; cpu[$1] = cpu[$1] " " $3; rss[$1] = rss[$1] " " $4; if (!($1 in seen)) { order[++n] = $1; seen[$1] = 1 } }
  END {
    for (i = 1; i <= n; i++) { k = order[i]; P[k] = median(pps[k]); C[k] = median(cpu[k]); R[k] = median(rss[k]) }
    printf "| %-26s | %10s | %13s | %8s | %9s | %11s | %12s |\n", "sender", "pps", "CPU us/probe", "RSS MiB", "vs zmap", "vs zmap -T2", "vs masscan"
    printf "|%s|%s|%s|%s|%s|%s|%s|\n", "----------------------------", "------------", "---------------", "----------", "-----------", "-------------", "--------------"
    for (i = 1; i <= n; i++) {
      k = order[i]
      printf "| %-26s | %10.0f | %13.3f | %8.1f | %8.2fx | %10.2fx | %11.2fx |\n", k, P[k], C[k], R[k], P[k] / P["zmap-T1"], P[k] / P["zmap-T2"], P[k] / P["masscan"]
    }
    print ""
    print "UDP (58-byte frames, a 16-byte payload) vs SYN (58-byte frames), same run:"
    for (i = 1; i <= n; i++) {
      k = order[i]
      if (k !~ /-udp$/) continue
      syn = k; sub(/-udp$/, "", syn)
      if (syn in P) printf "  %-26s %10.0f pps = %.3f x %s\n", k, P[k], P[k] / P[syn], syn
    }
  }' "$work/results"
