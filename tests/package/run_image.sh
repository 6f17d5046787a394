#!/bin/bash
# run_image.sh ROOTFS SCANNER_NS RESULTS_DIR CONF_DIR ARGS... : the image's entry point as a
# container would start it, without an OCI runtime: in the scanner namespace, a private
# mount and PID namespace, the image's root read-only with /proc, /sys, /dev, a tmpfs on
# /run, RESULTS_DIR on /var/lib/anyscan/results/fleet and CONF_DIR on /etc/anyscan/fleet,
# and only NET_RAW, NET_ADMIN, BPF, IPC_LOCK in the bounding set. For hosts where podman
# cannot start containers (tests/package/package_test.sh says when it uses this).
set -eu
root=$1 ns=$2 results=$3 conf=$4; shift 4
exec ip netns exec "$ns" unshare --mount --propagation private --pid --fork /bin/sh -s "$root" "$results" "$conf" "$@" <<'INNER'
set -eu
root=$1 results=$2 conf=$3; shift 3
new=$(mktemp -d /tmp/anyscan-image-root.XXXXXX)
mount --bind "$root" "$new"
mount -o remount,bind,ro "$new"
mount -t proc proc "$new/proc"
mount --rbind /sys "$new/sys"
mount --rbind /dev "$new/dev"
mount -t tmpfs tmpfs "$new/run"
mount --bind "$results" "$new/var/lib/anyscan/results/fleet"
mount --bind "$conf" "$new/etc/anyscan/fleet"
code=0
chroot "$new" /usr/bin/setpriv --bounding-set -all,+net_raw,+net_admin,+bpf,+ipc_lock --inh-caps -all \
  --no-new-privs /usr/local/bin/anyscan-entrypoint "$@" || code=$?
umount -R "$new" && rmdir "$new"
exit "$code"
INNER
