#!/bin/bash
# Package tests (root): build the .deb from the tracked files, lintian, piuparts
# install/purge, then a booted Debian 12 in systemd-nspawn joined to a test-made namespace
# pair: install, scan with anyscan-worker@demo, check user, capabilities, journal, results,
# systemd-analyze, man page, and that apt-get purge stops the worker and leaves nothing.
# Last, the OCI image built from the .deb (deploy/container), and a fleet of 4 shards run
# as 4 containers merged by anyscan-merge into exactly the unsharded scan.
# Twice: with CAP_BPF/CAP_NET_ADMIN/CAP_IPC_LOCK given to the container, and with nspawn's
# default restrictions (no CAP_BPF: the same job must succeed on af_packet and say why).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
CACHE=${ANYSCAN_TEST_CACHE:-/var/cache/anyscan-tests}
mkdir -p "$CACHE"
WORK=$(mktemp -d /tmp/anyscan-package.XXXXXX)
NSPAWN_PID=""
pass=0
fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; return 1; fi; }

. scripts/netns-pair.sh
cleanup() {
  [ -n "$NSPAWN_PID" ] && kill "$NSPAWN_PID" 2>/dev/null && wait "$NSPAWN_PID" 2>/dev/null || true
  netns_pair_delete 2>/dev/null || true
  # Only the containers and images this run made (named after its PID).
  podman ps -a --format '{{.Names}}' 2>/dev/null | grep "^anyscan-ci-$$-" | xargs -r podman rm -f >/dev/null 2>&1 || true
  podman image unmount "localhost/anyscan-worker:ci-$$" >/dev/null 2>&1 || true
  podman ps -a -q --filter "ancestor=localhost/anyscan-ci-autopkgtest:$$" 2>/dev/null | xargs -r podman rm -f >/dev/null 2>&1 || true
  podman rmi -f "localhost/anyscan-worker:ci-$$" "localhost/anyscan-ci-base:$$" "localhost/anyscan-ci-autopkgtest:$$" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

echo "== build"
# nocheck: the unit tests ran on this tree already (scripts/test.sh runs them three times);
# a package build outside CI runs them as Debian builds do.
DEB_BUILD_OPTIONS=nocheck scripts/build-deb.sh "$WORK/debs"
DEB=$(ls "$WORK"/debs/anyscan-worker_*_amd64.deb)
# The same build with its version bumped: what an unattended upgrade installs.
dpkg-deb -R "$DEB" "$WORK/next"
sed -i 's/^Version: \(.*\)$/Version: \1+next1/' "$WORK/next/DEBIAN/control"
dpkg-deb --root-owner-group -b "$WORK/next" "$WORK/anyscan-worker-next.deb" >/dev/null

echo "== lintian"
check "lintian --fail-on error,warning is clean" lintian --fail-on error,warning "$DEB" || true

echo "== piuparts"
if [ -s "$CACHE/piuparts-bookworm.tgz" ]; then base=(-b "$CACHE/piuparts-bookworm.tgz"); else base=(-s "$CACHE/piuparts-bookworm.tgz"); fi
if timeout 900 piuparts -d bookworm -m "$MIRROR" "${base[@]}" --warn-on-leftovers-after-purge "$DEB" >"$WORK/piuparts.log" 2>&1; then
  ok "piuparts install/purge: $(grep -E 'PASS' "$WORK/piuparts.log" | tail -n 1)"
else
  tail -n 40 "$WORK/piuparts.log"; bad "piuparts"
fi

echo "== booted systemd in nspawn"
# From here on every step is a check that records its outcome; no early exit.
set +e
# Bump the name when the package list changes: the cache is keyed by it.
# dpkg-dev and apt-utils: what autopkgtest needs in its testbed (below), which has no network.
ROOT_TAR=$CACHE/bookworm-nspawn-v4.tar
if [ ! -s "$ROOT_TAR" ]; then
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,iproute2,adduser,man-db,procps,libcap-ng0,libsystemd0,libxdp1,libbpf1,libabsl20220623,dpkg-dev,apt-utils \
    bookworm "$WORK/seed" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || { tail "$WORK/debootstrap.log"; exit 1; }
  tar -C "$WORK/seed" -cf "$ROOT_TAR.new" . && mv "$ROOT_TAR.new" "$ROOT_TAR"
  rm -rf "$WORK/seed"
fi

in_ct() { nsenter -t "$LEADER" -a "$@"; }

boot() {  # boot ROOT joined to the scanner namespace; extra nspawn args follow
  rm -rf "$WORK/root"; mkdir "$WORK/root"
  tar -C "$WORK/root" -xf "$ROOT_TAR"
  cp "$DEB" "$WORK/root/root/anyscan-worker.deb"  # not /tmp: a tmpfs covers it once booted
  cp "$WORK/anyscan-worker-next.deb" "$WORK/root/root/anyscan-worker-next.deb"
  systemd-nspawn -D "$WORK/root" -M "anyscan-test-$$" -b --register=no --keep-unit --console=pipe \
    --network-namespace-path="/run/netns/$SCANNER_NS" "$@" </dev/null >"$WORK/nspawn.log" 2>&1 &
  NSPAWN_PID=$!
  LEADER=""
  for _ in $(seq 100); do
    LEADER=$(pgrep -P "$NSPAWN_PID" | head -n 1 || true)
    [ -n "$LEADER" ] && in_ct systemctl is-system-running --wait >/dev/null 2>&1 && break
    [ -n "$LEADER" ] && [ "$(in_ct systemctl is-system-running 2>/dev/null)" = degraded ] && break
    sleep 0.2
  done
  [ -n "$LEADER" ] || { cat "$WORK/nspawn.log"; exit 1; }
}

poweroff() {
  in_ct systemctl poweroff >/dev/null 2>&1 || true
  wait "$NSPAWN_PID" 2>/dev/null || true
  NSPAWN_PID=""
}

scanner_pid() {  # the scanner process (the unit's main PID, or the launcher's af_xdp child)
  in_ct pgrep -x anyscan | head -n 1
}

scenario() {  # NAME EXPECTED_ENGINE nspawn-args...
  local name=$1 engine=$2; shift 2
  echo "-- scenario: $name"
  boot "$@"
  check "[$name] dpkg -i installs" in_ct dpkg -i /root/anyscan-worker.deb
  check "[$name] probe wrote a verdict" in_ct grep -q '^ANYSCAN_AF_XDP_AVAILABLE=\(true\|false\)$' /etc/anyscan/runtime.env
  check "[$name] system user anyscan exists" in_ct getent passwd anyscan
  local verify; verify=$(in_ct sh -c 'cd /lib/systemd/system && systemd-analyze verify anyscan-worker.service anyscan-worker@demo.service anyscan-worker@demo.timer anyscan-probe.service anyscan-identify.service anyscan-identify@demo.service 2>&1' || true)
  check "[$name] systemd-analyze verify prints nothing${verify:+: $verify}" test -z "$verify"
  for unit in anyscan-worker.service anyscan-worker@demo.service anyscan-identify@demo.service; do
    local exposure; exposure=$(in_ct systemd-analyze security --offline=yes "/lib/systemd/system/${unit/@demo/@}" 2>/dev/null | sed -n 's/.*exposure level for .*: \([0-9.]*\).*/\1/p')
    check "[$name] $unit exposure $exposure <= 3.0" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 3.0) }'
  done
  # A libxdp1 upgrade fires the trigger: the probe rewrites a stale verdict.
  in_ct sed -i 's/^ANYSCAN_AF_XDP_PROBED_KERNEL=.*/ANYSCAN_AF_XDP_PROBED_KERNEL=0.0-stale/' /etc/anyscan/runtime.env
  in_ct dpkg-trigger --by-package=libxdp1 --no-await /usr/share/doc/libxdp1 && in_ct dpkg --triggers-only --pending >/dev/null
  check "[$name] libxdp trigger re-ran the probe" in_ct grep -q "^ANYSCAN_AF_XDP_PROBED_KERNEL=$(uname -r)\$" /etc/anyscan/runtime.env
  check "[$name] kernel hook warns about a kernel without AF_XDP" \
    sh -c "nsenter -t $LEADER -a /etc/kernel/postinst.d/anyscan-worker 5.4.0-99-old 2>&1 | grep -q 'older than 5.10'"
  check "[$name] man anyscan works" sh -c "nsenter -t $LEADER -a env MANWIDTH=100 man anyscan 2>/dev/null | grep -q 'target-ports'"

  # A slow job, so the running scanner can be inspected.
  in_ct sh -c "cat > /etc/anyscan/jobs/demo.conf" <<JOB
ANYSCAN_TARGETS="198.18.0.2-198.18.0.5"
ANYSCAN_TARGET_PORTS=20-39
ANYSCAN_INTERFACE=$SCANNER_IF
ANYSCAN_GATEWAY_MAC=$TARGET_MAC
ANYSCAN_BLOCKLIST_FILE=/dev/null
ANYSCAN_RATE=20
ANYSCAN_COOLDOWN_TIME=1
ANYSCAN_RUN_DIRECTORY=/var/lib/anyscan/results/demo
ANYSCAN_OUTPUT_FIELDS=saddr,sport,classification
ANYSCAN_QUIET=yes
# Service identification (anyscan-identify@demo.service); the scanner leaves these keys alone.
ANYSCAN_IDENTIFY=yes
ANYSCAN_IDENTIFY_READ_TIMEOUT=300
ANYSCAN_IDENTIFY_TARGET_TIMEOUT=3000
JOB
  check "[$name] systemctl start anyscan-worker@demo (Type=notify: READY when sending)" in_ct systemctl start anyscan-worker@demo.service
  sleep 1
  local pid; pid=$(scanner_pid)
  if [ -n "$pid" ]; then
    local status; status=$(in_ct cat "/proc/$pid/status")
    local uid; uid=$(in_ct id -u anyscan)
    check "[$name] scanner runs as anyscan" grep -q "^Uid:[[:space:]]*$uid[[:space:]]" <<<"$status"
    # Once its sockets are open the scanner holds nothing (the unit's bounding set stays: no
    # CAP_SETPCAP to lower it) and runs under its own seccomp filter.
    check "[$name] scanner logged the end of setup" sh -c "nsenter -t $LEADER -a journalctl -u anyscan-worker@demo.service --no-pager 2>/dev/null | grep -q 'setup done: no capabilities left (bounding set left to the unit), no_new_privs set, running as the starting user (uid $uid), system-call filter of'"
    for set in CapInh CapPrm CapEff CapAmb; do
      check "[$name] running scanner $set = 0 ($(grep "^$set:" <<<"$status" | tr -s '\t' ' '))" grep -q "^$set:[[:space:]]*0000000000000000\$" <<<"$status"
    done
    check "[$name] running scanner has NoNewPrivs 1" grep -q "^NoNewPrivs:[[:space:]]*1" <<<"$status"
    check "[$name] running scanner has Seccomp 2" grep -q "^Seccomp:[[:space:]]*2" <<<"$status"
    echo "[$name] /proc/$pid/status of the running scanner:"; grep -E '^(Uid|Cap|NoNewPrivs|Seccomp)' <<<"$status" | sed 's/^/    /'
  else
    bad "[$name] no running scanner found in the unit's cgroup"
  fi
  for _ in $(seq 60); do
    [ "$(in_ct systemctl is-active anyscan-worker@demo.service || true)" = active ] || break; sleep 0.5
  done
  check "[$name] job finished successfully" test "$(in_ct systemctl show -P Result anyscan-worker@demo.service)" = success \
    || in_ct journalctl -u anyscan-worker@demo.service --no-pager -n 25
  local journal; journal=$(in_ct journalctl -u anyscan-worker@demo.service -o verbose --no-pager 2>/dev/null || true)
  check "[$name] journal has ANYSCAN_ENGINE=$engine" grep -q "ANYSCAN_ENGINE=$engine" <<<"$journal"
  check "[$name] journal says why" grep -q "ANYSCAN_ENGINE_REASON=" <<<"$journal"
  if [ "$engine" = af_packet ]; then
    check "[$name] journal names the missing capabilities" grep -q "ANYSCAN_ENGINE_REASON=.*missing: CAP_NET_ADMIN CAP_BPF" <<<"$journal"
  fi
  local results; results=$(in_ct cat /var/lib/anyscan/results/demo/latest 2>/dev/null || true)
  check "[$name] results of the run under /var/lib/anyscan/results/demo: 80 records" test "$(tail -n +2 <<<"$results" | wc -l)" = 80
  check "[$name] open port reported as synack" grep -q '^198.18.0.2,22,synack$' <<<"$results"
  check "[$name] closed port reported as rst" grep -q '^198.18.0.3,22,rst$' <<<"$results"
  local meta; meta=$(in_ct sh -c 'run=$(readlink /var/lib/anyscan/results/demo/latest); cat "/var/lib/anyscan/results/demo/${run%.csv}.meta.json"' 2>/dev/null || true)
  check "[$name] metadata: no capabilities, seccomp on and seen by every receiver thread" \
    grep -q '"privileges":{"capabilities":"none","bounding_set_cleared":false,"no_new_privs":true,"uid":[0-9]*,"user":"","seccomp":true,"syscalls_allowed":[0-9]*,"seccomp_checked_threads":[1-9]' <<<"$meta"

  local first; first=$(in_ct readlink /var/lib/anyscan/results/demo/latest)

  # Service identification of the job's runs: the job's own file turns it on; each open port
  # of the run gets one record beside its results, by the unprivileged, confined stage.
  check "[$name] systemctl start anyscan-identify@demo" in_ct systemctl start anyscan-identify@demo.service
  local services=/var/lib/anyscan/results/demo/${first%.csv}.services.json
  for _ in $(seq 60); do
    in_ct grep -q ' finished$' "$services.state" 2>/dev/null && break; sleep 0.5
  done
  check "[$name] identification of the run finished" in_ct grep -q ' finished$' "$services.state"
  local records; records=$(in_ct cat "$services" 2>/dev/null || true)
  check "[$name] one record per open port: 198.18.0.2:22 and 198.18.0.4:30" \
    test "$(grep -o '"ip":"[0-9.]*","port":[0-9]*' <<<"$records" | sort | tr '\n' ' ')" = '"ip":"198.18.0.2","port":22 "ip":"198.18.0.4","port":30 '
  local id_journal; id_journal=$(in_ct journalctl -u anyscan-identify@demo.service --no-pager 2>/dev/null || true)
  check "[$name] the stage ran as anyscan with no capabilities, under its seccomp filter" \
    grep -q "setup done: no capabilities left, running as the starting user (uid $(in_ct id -u anyscan)), system-call filter of" <<<"$id_journal"
  check "[$name] systemctl stop anyscan-identify@demo (SIGTERM: exit 0)" in_ct systemctl stop anyscan-identify@demo.service
  check "[$name] ... and it ended successfully" test "$(in_ct systemctl show -P Result anyscan-identify@demo.service)" = success

  # Live opt-out under systemd: `systemctl reload` during a run (ExecReload sends SIGHUP; an
  # AF_XDP scanner gets it through the launcher) takes an address out for the rest of the run
  # and out of its results.
  in_ct sh -c ': > /etc/anyscan/jobs/demo.block'
  in_ct sed -i -e 's|^ANYSCAN_BLOCKLIST_FILE=.*|ANYSCAN_BLOCKLIST_FILE=/etc/anyscan/jobs/demo.block\nANYSCAN_ALLOW_SPECIAL_PURPOSE=yes|' /etc/anyscan/jobs/demo.conf
  sleep 1  # a new second: a new run id
  in_ct systemctl start anyscan-worker@demo.service
  sleep 1
  in_ct sh -c 'echo 198.18.0.3 > /etc/anyscan/jobs/demo.block'
  check "[$name] systemctl reload anyscan-worker@demo during the run" in_ct systemctl reload anyscan-worker@demo.service
  for _ in $(seq 60); do
    [ "$(in_ct systemctl is-active anyscan-worker@demo.service || true)" = active ] || break; sleep 0.5
  done
  local opted; opted=$(in_ct cat /var/lib/anyscan/results/demo/latest 2>/dev/null || true)
  local opted_meta; opted_meta=$(in_ct sh -c 'run=$(readlink /var/lib/anyscan/results/demo/latest); cat "/var/lib/anyscan/results/demo/${run%.csv}.meta.json"' 2>/dev/null || true)
  check "[$name] ... the run finished successfully" test "$(in_ct systemctl show -P Result anyscan-worker@demo.service)" = success
  check "[$name] ... the reload is in effect (journal)" sh -c "nsenter -t $LEADER -a journalctl -u anyscan-worker@demo.service --no-pager 2>/dev/null | grep -q 'blocklist reload 1 in effect in every sender'"
  check "[$name] ... metadata records it" grep -q '"blocklist_reloads":\[{"time":"[^"]*","outcome":"in effect","addresses_excluded":1' <<<"$opted_meta"
  check "[$name] ... no result for 198.18.0.3, all 60 of the others" \
    test "$(tail -n +2 <<<"$opted" | grep -vc '^198.18.0.3,')" = 60 -a "$(grep -c '^198.18.0.3,' <<<"$opted")" = 0
  in_ct sed -i -e 's|^ANYSCAN_BLOCKLIST_FILE=.*|ANYSCAN_BLOCKLIST_FILE=/dev/null|' -e '/^ANYSCAN_ALLOW_SPECIAL_PURPOSE=/d' /etc/anyscan/jobs/demo.conf

  # An upgrade in the middle of a scan (postinst try-restarts the worker) and then a SIGKILL
  # (Restart=on-failure): both times the run resumes, and its one results file ends up with
  # exactly what an uninterrupted run found.
  in_ct sed -i 's/^ANYSCAN_RATE=.*/ANYSCAN_RATE=5/' /etc/anyscan/jobs/demo.conf
  local since; since=$(in_ct date +%s)
  sleep 1  # a new second: a new run id
  in_ct systemctl start anyscan-worker@demo.service
  sleep 4
  local run; run=$(in_ct readlink /var/lib/anyscan/results/demo/latest)
  check "[$name] upgrade during a scan (dpkg -i of the same build, version bumped)" \
    in_ct env DEBIAN_FRONTEND=noninteractive dpkg -i /root/anyscan-worker-next.deb
  sleep 4
  check "[$name] the worker runs again after the upgrade" \
    test "$(in_ct systemctl is-active anyscan-worker@demo.service || true)" = active
  in_ct systemctl kill -s KILL anyscan-worker@demo.service
  for _ in $(seq 120); do
    [ "$(in_ct systemctl show -P NRestarts anyscan-worker@demo.service)" -ge 1 ] \
      && [ "$(in_ct systemctl show -P ActiveState anyscan-worker@demo.service)" = inactive ] && break
    sleep 0.5
  done
  check "[$name] after the kill systemd restarted the scan and it finished" \
    test "$(in_ct systemctl show -P Result anyscan-worker@demo.service)" = success
  check "[$name] the upgraded and killed run kept its one results file" \
    test "$(in_ct readlink /var/lib/anyscan/results/demo/latest)" = "$run"
  local resumed; resumed=$(in_ct cat "/var/lib/anyscan/results/demo/$run" 2>/dev/null || true)
  check "[$name] ... holding exactly what the uninterrupted run found" \
    test "$(sort <<<"$resumed")" = "$(sort <<<"$results")"
  local resumes; resumes=$(in_ct journalctl -u anyscan-worker@demo.service --since "@$since" --no-pager 2>/dev/null | grep -c 'resuming from position' || true)
  check "[$name] the journal shows both resumes with their position ($resumes)" test "$resumes" -ge 2

  # A start after a finished run is a new run; the first run's files stay as they were.
  # Purge while a scan is running: the worker must be stopped and nothing left behind.
  in_ct sed -i 's/^ANYSCAN_RATE=.*/ANYSCAN_RATE=1/' /etc/anyscan/jobs/demo.conf
  in_ct systemctl start anyscan-worker@demo.service
  sleep 1
  check "[$name] a second start is a new run" test "$(in_ct readlink /var/lib/anyscan/results/demo/latest)" != "$first"
  check "[$name] the first run's results are untouched" test "$(in_ct cat "/var/lib/anyscan/results/demo/$first")" = "$results"
  check "[$name] apt-get purge succeeds" in_ct env DEBIAN_FRONTEND=noninteractive apt-get purge -y anyscan-worker
  check "[$name] purge stopped the worker" test -z "$(in_ct pgrep -x anyscan || true)"
  check "[$name] purge removed /etc/anyscan and /var/lib/anyscan" test -z "$(in_ct ls -d /etc/anyscan /var/lib/anyscan 2>/dev/null || true)"
  check "[$name] purge removed the anyscan user" sh -c "! nsenter -t $LEADER -a getent passwd anyscan"
  poweroff
}

netns_pair_create 4
ip netns exec "$TARGET_NS" "$REPO/build/tests/anyscan-listen" --timeout 600 198.18.0.2:22 198.18.0.4:30 &
NETNS_PAIR_PIDS=$!

scenario "AF_XDP capabilities given" af_xdp \
  --capability=CAP_BPF,CAP_NET_ADMIN,CAP_IPC_LOCK --system-call-filter=bpf
scenario "nspawn default restrictions" af_packet

echo "== autopkgtest (debian/tests) in a booted Debian 12 container without network"
# Debian's own runner against the package as built: autopkgtest-virt-podman --init boots the
# debootstrap tree (systemd as PID 1) with no network at all (--network=none); each test
# that scans makes its own namespace pair inside it. runc, not crun: crun refuses this host's
# hybrid cgroup layout; the rlimits are the host's own (podman's defaults exceed them here).
run_autopkgtest() {
  local image="localhost/anyscan-ci-autopkgtest:$$" out="$WORK/autopkgtest"
  check "an autopkgtest testbed image from the debootstrap tree" podman import -q "$ROOT_TAR" "$image" >/dev/null || return
  mkdir -p "$WORK/atsrc"
  git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$WORK/atsrc"
  printf '[engine]\nruntime = "runc"\n' >"$WORK/containers.conf"
  local code=0
  CONTAINERS_CONF=$WORK/containers.conf timeout 900 autopkgtest "$DEB" "$WORK/atsrc" --output-dir "$out" \
    -- podman --init "$image" --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" \
    --ulimit nproc=4096:4096 --privileged --network=none >"$WORK/autopkgtest.log" 2>&1 || code=$?
  echo "autopkgtest summary (exit $code):"; sed 's/^/    /' "$out/summary" 2>/dev/null || tail -n 30 "$WORK/autopkgtest.log"
  # 0: all passed; 2: some skipped (af-xdp where the testbed has no AF_XDP, with its reason).
  check "autopkgtest exits 0 or 2 ($code)" test "$code" = 0 -o "$code" = 2 || tail -n 40 "$WORK/autopkgtest.log"
  check "autopkgtest smoke passed" grep -Eq '^smoke +PASS' "$out/summary"
  check "autopkgtest scan-in-namespaces passed" grep -Eq '^scan-in-namespaces +PASS' "$out/summary"
  check "autopkgtest service passed" grep -Eq '^service +PASS' "$out/summary"
  check "autopkgtest af-xdp passed or skipped with its reason" grep -Eq '^af-xdp +(PASS|SKIP)' "$out/summary"
  podman rmi -f "$image" >/dev/null 2>&1 || true
}
run_autopkgtest

echo "== the container image (deploy/container) and a fleet of 4 shards in containers"
# The image is built offline: its base is the debootstrap tree above, imported. The shards
# run with exactly the capabilities the Kubernetes manifest grants, joined to the scanner
# namespace; anyscan-merge of their run directories must equal the unsharded scan.
# run_container NAME ARGS...: the image with ARGS, detached, its run directory in $FLEET/NAME;
# wait_container NAME waits for it. podman where it can start containers; where it
# cannot (crun refuses this host's hybrid cgroup layout), the image's root filesystem run as
# a container would be (tests/package/run_image.sh: namespaces, read-only root, the same
# four capabilities), so the image is still what runs.
run_container() {
  local name=$1; shift
  mkdir -p "$FLEET/$name"
  if [ "$RUNNER" = podman ]; then
    podman run -d --name "anyscan-ci-$$-$name" --network "ns:/run/netns/$SCANNER_NS" \
      --cap-drop all --cap-add NET_RAW,NET_ADMIN,BPF,IPC_LOCK --security-opt no-new-privileges \
      --read-only --tmpfs /run/anyscan -v "$FLEET/$name:/var/lib/anyscan/results/fleet" \
      -v "$FLEET/conf:/etc/anyscan/fleet:ro" "$IMAGE" -- --config /etc/anyscan/fleet/scan.conf "$@" >/dev/null
  else
    tests/package/run_image.sh "$IMAGE_ROOT" "$SCANNER_NS" "$FLEET/$name" "$FLEET/conf" \
      -- --config /etc/anyscan/fleet/scan.conf "$@" >"$FLEET/$name.log" 2>&1 &
    eval "PID_${name//-/_}=\$!"
  fi
}
wait_container() {  # NAME: its exit code in WAIT_CODE (run here, not in $(...): wait needs the child)
  if [ "$RUNNER" = podman ]; then WAIT_CODE=$(timeout 120 podman wait "anyscan-ci-$$-$1"); return; fi
  local pid; eval "pid=\$PID_${1//-/_}"
  WAIT_CODE=0; wait "$pid" || WAIT_CODE=$?
}
container_fleet() {
  local ctx=$WORK/ctx base="localhost/anyscan-ci-base:$$"
  FLEET=$WORK/fleet
  IMAGE="localhost/anyscan-worker:ci-$$"
  mkdir -p "$ctx" "$FLEET/conf"
  cp deploy/container/Containerfile deploy/container/entrypoint.sh "$ctx/"
  cp "$DEB" "$ctx/anyscan-worker.deb"
  check "a Debian 12 base image from the debootstrap tree" podman import -q "$ROOT_TAR" "$base" || return
  # chroot isolation: RUN steps need no OCI runtime (see run_container).
  if ! podman build -q --isolation chroot --build-arg "BASE=$base" -t "$IMAGE" "$ctx" >"$WORK/podman-build.log" 2>&1; then
    tail -n 20 "$WORK/podman-build.log"; bad "the image builds from deploy/container/Containerfile and the .deb"; return
  fi
  ok "the image builds from deploy/container/Containerfile and the .deb"
  RUNNER=podman
  if ! podman run --rm "$IMAGE" --help >"$WORK/podman-run.log" 2>&1; then
    RUNNER=chroot
    IMAGE_ROOT=$(podman image mount "$IMAGE")
    echo "note: podman cannot start containers on this host ($(grep -m1 -o 'crun: .*' "$WORK/podman-run.log" || tail -n 1 "$WORK/podman-run.log")); running the image's root filesystem with tests/package/run_image.sh"
  fi
  printf '%s\n' 'ANYSCAN_TARGETS="198.18.0.2-198.18.0.5"' ANYSCAN_TARGET_PORTS=20-40 ANYSCAN_SEED=424242 \
    ANYSCAN_SHARDS=4 ANYSCAN_RATE=300 ANYSCAN_COOLDOWN_TIME=2 \
    ANYSCAN_OUTPUT_FIELDS=saddr,sport,classification,success \
    ANYSCAN_RUN_DIRECTORY=/var/lib/anyscan/results/fleet ANYSCAN_BLOCKLIST_FILE=/dev/null \
    "ANYSCAN_INTERFACE=$SCANNER_IF" "ANYSCAN_GATEWAY_MAC=$TARGET_MAC" ANYSCAN_USER=root \
    ANYSCAN_QUIET=yes >"$FLEET/conf/scan.conf"
  local i codes=""
  for i in 0 1 2 3; do run_container "shard-$i" --shard "$i"; done
  for i in 0 1 2 3; do wait_container "shard-$i"; codes="$codes$WAIT_CODE"; done
  check "4 shards ran from the image ($RUNNER) with NET_RAW, NET_ADMIN, BPF, IPC_LOCK only (exits $codes)" \
    test "$codes" = 0000 || tail -n 5 "$FLEET/shard-0.log" 2>/dev/null
  check "... each as uid 0 without capabilities once its sockets were open" \
    grep -q '"capabilities":"none".*"uid":0,"user":"root"' "$FLEET"/shard-0/*.meta.json
  run_container whole --shards 1 --shard 0
  wait_container whole
  check "the unsharded scan with the same seed ran from the image" test "$WAIT_CODE" = 0
  check "anyscan-merge takes the 4 shards' run directories" "$REPO/build/anyscan-merge" \
    -o "$FLEET/merged.csv" "$FLEET/shard-0" "$FLEET/shard-1" "$FLEET/shard-2" "$FLEET/shard-3"
  local merged whole
  merged=$(tail -n +2 "$FLEET/merged.csv" | sort)
  whole=$(tail -n +2 "$(readlink -f "$FLEET/whole/latest")" | sort)
  check "the merge equals the unsharded scan ($(wc -l <<<"$merged") results, $(grep -c synack <<<"$merged") open)" \
    test -n "$merged" -a "$merged" = "$whole" -a "$(grep -c synack <<<"$merged")" = 2
  for i in shard-0 shard-1 shard-2 shard-3 whole; do podman rm -f "anyscan-ci-$$-$i" >/dev/null 2>&1; done
  [ "$RUNNER" = chroot ] && podman image unmount "$IMAGE" >/dev/null 2>&1
  podman rmi -f "$IMAGE" "$base" >/dev/null 2>&1 || true
}
container_fleet

echo "package: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
