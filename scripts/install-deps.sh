#!/bin/sh
# Installs everything anyscan needs to build, test, package and benchmark on Debian 12
# (bookworm), from Debian's archive only. Idempotent; run as root.
set -eu

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: must run as root (apt-get install)" >&2
  exit 77
fi

export DEBIAN_FRONTEND=noninteractive

packages="
  build-essential cmake pkg-config ninja-build
  libxdp-dev libbpf-dev libelf-dev zlib1g-dev libcap-ng-dev libsystemd-dev libexpected-dev
  googletest libgtest-dev libgmock-dev
  clang llvm lld libclang-rt-14-dev bpftool
  iproute2 iputils-ping util-linux procps ethtool
  debhelper dpkg-dev devscripts fakeroot lintian
  systemd systemd-container debootstrap piuparts
  zmap masscan man-db time
"

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  # An update is needed at most once per machine: apt-cache finds nothing before it.
  if [ ! -e /var/lib/apt/lists/lock ] || [ -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial)" ] \
     || ! apt-get install -y --no-install-recommends $missing; then
    apt-get update
    apt-get install -y --no-install-recommends $missing
  fi
fi
echo "install-deps.sh: all build, test and bench dependencies present"
