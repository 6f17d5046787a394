#!/bin/sh
# Builds the Debian package from the tracked files of this checkout (as a clean checkout
# would), with dpkg-buildpackage -us -uc -b, and puts the .debs into OUTDIR.
set -eu
out=${1:?usage: build-deb.sh OUTDIR}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/anyscan" "$out"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$work/anyscan"
(cd "$work/anyscan" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || { tail -n 60 "$work/build.log"; exit 1; }
grep -E '^[0-9]+% tests passed' "$work/build.log" || true
mv "$work"/*.deb "$out"/
