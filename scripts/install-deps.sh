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
  libseccomp-dev libbenchmark-dev libabsl-dev libroaring-dev clang-tidy-14 clang-format-14
  podman buildah runc autopkgtest
  snmpd snmp dnsmasq-base chrony memcached python3-dnspython python3-pysnmp4
  python3-scapy liblzma-dev libssl-dev nmap
  nginx-light openssh-server vsftpd exim4-daemon-light dovecot-imapd dovecot-pop3d
  redis-server mariadb-server postgresql openssl
  prometheus prometheus-node-exporter curl
"

# node and npm: dev-time only, for the Kubernetes manifest's schema check (tests/k8s). A node
# from elsewhere (NodeSource) is kept: Debian's nodejs would conflict with it.
command -v node >/dev/null 2>&1 || packages="$packages nodejs"
command -v npm >/dev/null 2>&1 || packages="$packages npm"

# kubectl (manifest validation): Debian's kubernetes-client, unless a kubectl is already
# installed from elsewhere (the two packages both ship /usr/bin/kubectl).
command -v kubectl >/dev/null 2>&1 || packages="$packages kubernetes-client"

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  # Server packages (snmpd, chrony, memcached, ...) are for the test namespaces only: their
  # host services must not start at install. invoke-rc.d asks policy-rc.d; 101 = "no".
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  dpkg --configure -a || true
  # An update is needed at most once per machine: apt-cache finds nothing before it.
  if [ ! -e /var/lib/apt/lists/lock ] || [ -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial)" ] \
     || ! apt-get install -y --no-install-recommends $missing; then
    apt-get update
    apt-get install -y --no-install-recommends $missing
  fi
fi
# The manifest validator's npm packages (tests/k8s/package-lock.json), from the npm
# registry, into tests/k8s/node_modules: again only when the lock file changed.
k8s=$(dirname "$0")/../tests/k8s
if [ ! -e "$k8s/node_modules/.package-lock.json" ] || ! cmp -s "$k8s/package-lock.json" "$k8s/node_modules/.anyscan-lock"; then
  (cd "$k8s" && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.anyscan-lock)
fi
echo "install-deps.sh: all build, test and bench dependencies present"
