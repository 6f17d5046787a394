#!/bin/bash
# Reply-storm benchmark: every probe is answered. The target namespace owns 198.18.128.0/17
# and 198.19.0.0/16 through local routes, so its kernel answers every SYN to any port there.
# Same workloads for anyscan (both engines, one thread and default), zmap and masscan,
# alternating, at each tool's top rate:
#   dense   port 80 on all 98,304 addresses, each with a listening socket: every target
#           answers with a SYN-ACK; all tools
#   sparse  one 4096th of 198.19.0.0/16 x ports 1-65535 (1,048,560 targets spread over 4.29
#           billion, --shard 0 of 4096), no listener: every target answers with a RST;
#           anyscan and masscan (zmap 2.1.1 scans one port per run, and cannot output RSTs:
#           its built-in success filter stays on whatever --output-filter says)
# Per run: share of targets reported (distinct result lines / targets), replies the veth
# "wire" dropped before the scanner's interface (the target end's tx_dropped), peak RSS and
# CPU per reply from GNU time. Prints medians.
# Not a test: never gates CI. Usage: sudo bench/storm.sh [RUNS] (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
QUEUES=${ANYSCAN_BENCH_QUEUES:-2}

cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DANYSCAN_BUILD_TESTS=OFF \
  -DANYSCAN_BUILD_BENCH=OFF >/dev/null
ninja -C build-bench anyscan >/dev/null
ANYSCAN=$PWD/build-bench/anyscan

. scripts/netns-pair.sh
netns_pair_create 1 24 "$QUEUES"
ip -n "$TARGET_NS" route add local 198.18.128.0/17 dev lo
ip -n "$TARGET_NS" route add local 198.19.0.0/16 dev lo
# A listener on port 80 of every dense address (SYN cookies answer once a listener's SYN
# queue is full); the sparse range has none: RSTs.
# 98,304 sockets: 6 processes of 16,384 each, within a 20,000 open-file limit.
ip netns exec "$TARGET_NS" python3 -c '
import ctypes, ipaddress, os, socket, time
addresses = [str(a) for n in ("198.18.128.0/17", "198.19.0.0/16") for a in ipaddress.ip_network(n)]
for part in range(6):
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(1, 15)  # PR_SET_PDEATHSIG: SIGTERM when the parent is killed
        held = []
        for a in addresses[part * 16384:(part + 1) * 16384]:
            s = socket.socket(); s.bind((a, 80)); s.listen(64); held.append(s)
        time.sleep(100000)
        os._exit(0)
os.wait()' &
NETNS_PAIR_PIDS=$!  # its children get SIGTERM when it is killed
work=$(mktemp -d)
cleanup_all() { netns_pair_delete; rm -rf "$work"; }
trap cleanup_all EXIT INT TERM
printf '198.18.128.0/17\n198.19.0.0/16\n' >"$work/allow.conf"
sleep 8  # the listeners take a few seconds to open

wire_dropped() { ip netns exec "$TARGET_NS" cat "/sys/class/net/$TARGET_IF/statistics/tx_dropped"; }

# run_case LABEL WORKLOAD OUTFILE COUNT_COMMAND COMMAND... : runs COMMAND in the scanner
# namespace; COUNT_COMMAND prints the distinct results in OUTFILE. Appends
# "LABEL WORKLOAD share rss_mib cpu_us_per_reply targets reported wire_dropped" to
# $work/results.
run_case() {
  local label=$1 workload=$2 out=$3 count=$4; shift 4
  local timing=$work/timing before after reported targets
  targets=$([ "$workload" = dense ] && echo 98304 || echo 1048560)
  rm -f "$out"
  before=$(wire_dropped)
  /usr/bin/time -o "$timing" -f '%e %U %S %M' ip netns exec "$SCANNER_NS" timeout 300 "$@" \
    >/dev/null 2>"$work/$label.log" || { echo "bench: $label failed:"; tail -n 5 "$work/$label.log"; }
  after=$(wire_dropped)
  reported=$($count "$out")
  read -r _ user sys rss_kib <"$timing"
  awk -v n="$targets" -v got="$reported" -v user="$user" -v sys="$sys" -v rss="$rss_kib" \
    -v label="$label" -v w="$workload" -v wire=$((after - before)) 'BEGIN {
      printf "%s %s %.6f %.1f %.3f %d %d %d\n", label, w, got / n, rss / 1024, \
        (got ? (user + sys) * 1e6 / got : 0), n, got, wire }' >>"$work/results"
  tail -n 1 "$work/results" | awk '{printf "  %-26s %-6s %8.4f%% reported (%d of %d, %d lost on the wire)  %7.1f MiB  %6.3f us CPU/reply\n", $1, $2, $3 * 100, $7, $6, $8, $4, $5}'
}

count_csv() { tail -n +2 "$1" | sort -u | wc -l; }
count_masscan() { grep -E '^(open|closed) ' "$1" | awk '{print $3, $4}' | sort -u | wc -l; }
count_zmap() { tail -n +2 "$1" | sort -u | wc -l; }

anyscan_case() {  # ENGINE THREADS_LABEL WORKLOAD ARGS...
  local engine=$1 threads=$2 workload=$3; shift 3
  local thread_args=()
  [ "$threads" = T1 ] && thread_args=(-T 1)
  run_case "anyscan-$engine-$threads" "$workload" "$work/out.csv" count_csv \
    "$ANYSCAN" -q -b /dev/null --restrict-to "$work/allow.conf" --io-engine "$engine" -i "$SCANNER_IF" \
    -S 198.18.0.1 -G "$TARGET_MAC" -r 0 -c 2 -f saddr,sport,classification \
    -o "$work/out.csv" "${thread_args[@]}" "$@"
}

masscan_case() {  # WORKLOAD ARGS...
  local workload=$1; shift
  ip netns exec "$TARGET_NS" ping -q -i 0.2 198.18.0.1 >/dev/null 2>&1 &
  local pinger=$!
  run_case masscan "$workload" "$work/out.masscan" count_masscan \
    masscan "$@" --rate 100000000 --adapter "$SCANNER_IF" --adapter-ip 198.18.0.1 \
    --router-mac "$TARGET_MAC" --wait 2 --show closed -oL "$work/out.masscan"
  kill "$pinger"; wait "$pinger" 2>/dev/null || true
}

echo "reply storm: every probe answered by the target kernel; $RUNS runs each; $(nproc) cores; $QUEUES-queue veth"
for run in $(seq 1 "$RUNS"); do
  echo "run $run"
  for engine in af_packet af_xdp; do
    for threads in T1 default; do
      anyscan_case "$engine" "$threads" dense -p 80 198.18.128.0/17 198.19.0.0/16
    done
  done
  run_case zmap-T1 dense "$work/out.zmap" count_zmap \
    zmap -q -b /dev/null -i "$SCANNER_IF" -S 198.18.0.1 -G "$TARGET_MAC" -p 80 -r 0 -c 2 -T 1 \
    --max-sendto-failures 100000000 -f saddr,sport,classification \
    -o "$work/out.zmap" 198.18.128.0/17 198.19.0.0/16
  run_case zmap-T2 dense "$work/out.zmap" count_zmap \
    zmap -q -b /dev/null -i "$SCANNER_IF" -S 198.18.0.1 -G "$TARGET_MAC" -p 80 -r 0 -c 2 -T 2 \
    --max-sendto-failures 100000000 -f saddr,sport,classification \
    -o "$work/out.zmap" 198.18.128.0/17 198.19.0.0/16
  masscan_case dense 198.18.128.0/17 198.19.0.0/16 -p80
  for engine in af_packet af_xdp; do
    for threads in T1 default; do
      anyscan_case "$engine" "$threads" sparse -p 1-65535 --shards 4096 --shard 0 198.19.0.0/16
    done
  done
  masscan_case sparse 198.19.0.0/16 -p1-65535 --shard 1/4096
done

echo
echo "medians over $RUNS runs:"
awk '
  function median(list,   n, arr, i, j, tmp) {
    n = split(list, arr, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { tmp = arr[i]; arr[i] = arr[j]; arr[j] = tmp }
    return (n % 2) ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
  }
  { k = $2 " " $1; share[k] = share[k] " " $3; rss[k] = rss[k] " " $4; cpu[k] = cpu[k] " " $5; ans[k] = $6
    wire[k] = wire[k] " " $8; if (!(k in seen)) { order[++n] = k; seen[k] = 1 } }
  END {
    printf "| %-8s | %-26s | %9s | %16s | %12s | %8s | %12s |\n", "workload", "scanner", "targets", "targets reported", "wire dropped", "RSS MiB", "CPU us/reply"
    printf "|%s|%s|%s|%s|%s|%s|%s|\n", "----------", "----------------------------", "-----------", "------------------", "--------------", "----------", "--------------"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, parts, " ")
      printf "| %-8s | %-26s | %9d | %15.3f%% | %12d | %8.1f | %12.3f |\n", parts[1], parts[2], ans[k], median(share[k]) * 100, median(wire[k]), median(rss[k]), median(cpu[k])
    }
  }' <(sort -s -k2,2 "$work/results")
