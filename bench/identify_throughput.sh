#!/bin/bash
# Identifications per second and memory, in a throw-away namespace pair (198.18.0.0/24
# only): nginx (Debian, one worker) serves plain HTTP on 198.18.0.2:80 and TLS with a
# test-made ECDSA P-256 certificate on :443; anyscan-identify identifies N targets of each
# (the same port listed N times: each line is one identification, with its own connections)
# and /usr/bin/time gives its wall time, CPU and peak RSS; then peak RSS against
# --concurrency on silent listeners (every target in flight until its timeouts). Both sides
# share this machine's 2 cores, so the figures are what the pair reaches together.
# A benchmark, not a test. Usage (root): bench/identify_throughput.sh [BUILD_DIR] [N]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib_pair.sh"
build=$(cd "${1:-$root/build}" && pwd)
n=${2:-20000}
dir=$(mktemp -d /tmp/anyscan-idbench.XXXXXX)
chmod 755 "$dir"
s=idbS$$
t=idbT$$
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  delete_pair "$s" "$t"
  rm -rf "$dir"
}
trap cleanup EXIT
make_pair "$s" "$t" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/key.pem" \
  -out "$dir/cert.pem" -days 30 -subj "/CN=bench.anyscan.invalid" 2>/dev/null
cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log crit;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $dir;
  proxy_temp_path $dir;
  fastcgi_temp_path $dir;
  uwsgi_temp_path $dir;
  scgi_temp_path $dir;
  server {
    listen 198.18.0.2:80 backlog=4096;
    location / { default_type text/html; return 200 "<title>bench</title>\n"; }
  }
  server {
    listen 198.18.0.2:443 ssl backlog=4096;
    ssl_certificate $dir/cert.pem;
    ssl_certificate_key $dir/key.pem;
    location / { default_type text/html; return 200 "<title>bench tls</title>\n"; }
  }
}
EOF
ip netns exec "$t" /usr/sbin/nginx -c "$dir/nginx.conf" &
pids+=($!)
sleep 1

run() {  # NAME PORT COUNT CONCURRENCY [extra...]
  local name=$1 port=$2 count=$3 concurrency=$4
  shift 4
  { echo "saddr,sport,classification"; for ((i = 0; i < count; i++)); do echo "198.18.0.2,$port,synack"; done; } \
    >"$dir/$name.csv"
  ip netns exec "$s" /usr/bin/time -f "%e %U %S %M" -o "$dir/$name.time" "$build/anyscan-identify" \
    -c "$concurrency" --per-host 10000 --read-timeout 50 --connect-timeout 2000 "$@" \
    -o "$dir/$name.json" "$dir/$name.csv" 2>"$dir/$name.err"
  read -r wall user sys rss <"$dir/$name.time"
  local ok
  ok=$(grep -c '"status":"success"' "$dir/$name.json")
  printf "%-28s %7d targets %7d success %8.0f per s  cpu %5.2f s (%4.0f us each)  peak RSS %6d KiB\n" \
    "$name" "$count" "$ok" "$(echo "$count / $wall" | bc -l)" "$(echo "$user + $sys" | bc -l)" \
    "$(echo "($user + $sys) * 1000000 / $count" | bc -l)" "$rss"
}

echo "== throughput (nginx, one worker, on the same 2 cores)"
run http-plaintext 80 "$n" 500
run tls-certificate 443 "$((n / 2))" 500

echo "== peak RSS against --concurrency (silent listeners: every target held to its timeouts)"
ip netns exec "$t" "$build/tests/anyscan-listen" --timeout 120 $(for p in $(seq 30000 30999); do echo "198.18.0.2:$p"; done) &
pids+=($!)
sleep 0.5
for c in 100 1000 4000; do
  { echo "saddr,sport,classification"; for p in $(seq 30000 30999); do for k in 1 2 3 4; do echo "198.18.0.2,$p,synack"; done; done; } \
    >"$dir/silent.csv"
  ip netns exec "$s" /usr/bin/time -f "%e %M" -o "$dir/silent.time" "$build/anyscan-identify" \
    -c "$c" --per-host 10000 --read-timeout 200 --target-timeout 2000 -o "$dir/silent.json" \
    "$dir/silent.csv" 2>/dev/null
  read -r wall rss <"$dir/silent.time"
  printf "concurrency %5d: 4000 silent targets in %6.1f s, peak RSS %6d KiB\n" "$c" "$wall" "$rss"
done
