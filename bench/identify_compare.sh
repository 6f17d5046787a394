#!/bin/bash
# Service identification side by side, on the same real servers in a throw-away namespace
# pair (198.18.0.0/24 only; tests/support/identify_servers.sh: nginx, sshd, vsftpd, exim4,
# dovecot, redis, mariadb, postgresql, memcached, each on its usual and an unexpected port):
# anyscan + anyscan-identify, `nmap -sV` and `masscan --banners`. Prints a table of what each
# named on every port, how many it got right, and how long each took. A benchmark, not a
# test: nothing here gates CI.
# Usage (root): bench/identify_compare.sh [BUILD_DIR]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib_pair.sh"
build=$(cd "${1:-$root/build}" && pwd)
dir=$(mktemp -d /tmp/anyscan-idcmp.XXXXXX)
chmod 755 "$dir"  # the servers run as their own users
s=idcmpS$$
t=idcmpT$$
cleanup() {
  [ -f "$dir/servers/pids" ] && while read -r pid; do kill "$pid" 2>/dev/null; done <"$dir/servers/pids"
  sleep 0.5
  [ -f "$dir/servers/rundir" ] && rm -rf "$(cat "$dir/servers/rundir")"
  delete_pair "$s" "$t"
  rm -rf "$dir"
}
trap cleanup EXIT
make_pair "$s" "$t" || exit 1
ip netns exec "$t" "$root/tests/support/identify_servers.sh" "$dir/servers" 198.18.0.2 || exit 1
ports=$(awk '{print $1}' "$dir/servers/ports" | paste -sd, -)
target_mac=$(ip -n "$t" -br link show "${t}v" | awk '{print $3}')

now() { date +%s.%N; }
t0=$(now)
ip netns exec "$s" "$build/anyscan" -i "${s}v" -G "$target_mac" -b /dev/null -p "$ports" -r 10000 \
  -c 1 -o "$dir/anyscan.csv" -m "$dir/anyscan.meta.json" -q 198.18.0.2 2>"$dir/anyscan.err" &
scan=$!
while [ ! -e "$dir/anyscan.csv" ]; do sleep 0.02; done
ip netns exec "$s" "$build/anyscan-identify" --follow-until "$dir/anyscan.meta.json" \
  --read-timeout 1000 -o "$dir/identify.json" "$dir/anyscan.csv" 2>"$dir/identify.err"
wait "$scan"
t1=$(now)
ip netns exec "$s" nmap -sV -Pn -n -p "$ports" -oG "$dir/nmap.txt" 198.18.0.2 >/dev/null 2>&1
t2=$(now)
# masscan speaks TCP itself: a source address no kernel socket owns (198.18.0.100), so the
# kernel does not reset its connections (masscan's documented workaround).
ip netns exec "$s" masscan --banners -p "$ports" 198.18.0.2 -e "${s}v" --source-ip 198.18.0.100 \
  --router-mac "$target_mac" --rate 1000 --wait 10 -oJ "$dir/masscan.json" >/dev/null 2>&1
t3=$(now)

/usr/bin/python3 - "$dir" "$t0" "$t1" "$t2" "$t3" <<'EOF'
import json, re, sys
d, t0, t1, t2, t3 = sys.argv[1], *map(float, sys.argv[2:])
expected = {}
for line in open(f"{d}/servers/ports"):
    p, svc = line.split(); expected[int(p)] = svc
anyscan = {}
for line in open(f"{d}/identify.json"):
    r = json.loads(line); anyscan[r["port"]] = r["service"]
nmap = {}
for line in open(f"{d}/nmap.txt"):
    m = re.search(r"Ports: (.*?)(\t|$)", line)
    if not m: continue
    for entry in m.group(1).split(", "):
        f = entry.split("/")
        if len(f) > 6 and f[1] == "open": nmap[int(f[0])] = (f[4] + " " + f[6]).strip()
masscan = {}
try:
    text = open(f"{d}/masscan.json").read().strip().rstrip(",")
    if not text.startswith("["): text = "[" + text + "]"
    text = re.sub(r",\s*\]$", "]", text)
    for r in json.loads(text):
        for p in r.get("ports", []):
            svc = p.get("service")
            if svc: masscan.setdefault(p["port"], []).append(svc.get("name", ""))
except Exception as e:
    print("masscan output unreadable:", e)
# What counts as right: the service named (nmap's names: http, ssl/http, ssh, ftp, smtp,
# imap, pop3, redis, mysql, postgresql, memcached).
aliases = {"tls": ["ssl", "https", "tls", "x509"], "postgres": ["postgres"], "mysql": ["mysql"],
           "http": ["http"], "ssh": ["ssh"], "ftp": ["ftp"], "smtp": ["smtp"], "imap": ["imap"],
           "pop3": ["pop3", "pop"], "redis": ["redis"], "memcached": ["memcache"]}
def right(want, got):
    got = (got or "").lower()
    return any(a in got for a in aliases.get(want, [want])) and not (want == "http" and "ssl" in got)
score = {"anyscan": 0, "nmap": 0, "masscan": 0}
print(f"{'port':>6} {'service':<10} {'anyscan':<10} {'nmap -sV':<34} masscan --banners")
for p in sorted(expected):
    a, n, m = anyscan.get(p, "-"), nmap.get(p, "-"), ",".join(sorted(set(masscan.get(p, [])))) or "-"
    for k, v in (("anyscan", a), ("nmap", n), ("masscan", m)):
        score[k] += right(expected[p], v)
    print(f"{p:>6} {expected[p]:<10} {a:<10} {n[:34]:<34} {m}")
total = len(expected)
print(f"right: anyscan {score['anyscan']}/{total} in {t1 - t0:.1f} s (scan + identification), "
      f"nmap -sV {score['nmap']}/{total} in {t2 - t1:.1f} s, "
      f"masscan --banners {score['masscan']}/{total} in {t3 - t2:.1f} s (incl. --wait 10)")
EOF
