#!/bin/sh
# The container's entry point: the AF_XDP verdict must be the node's kernel's, not the image
# build machine's, so the package's probe runs first and writes it to /run/anyscan (a tmpfs
# or emptyDir: the root filesystem may be read-only); then the launcher picks the engine
# (downgrading to af_packet with a logged reason) and execs the scanner with "$@".
set -eu
mkdir -p /run/anyscan
/usr/libexec/anyscan/anyscan-probe --quiet --env-file /run/anyscan/runtime.env ||
  echo "anyscan-entrypoint: the AF_XDP probe failed; the launcher will use af_packet" >&2
exec /usr/libexec/anyscan/anyscan-launcher --runtime-env /run/anyscan/runtime.env "$@"
