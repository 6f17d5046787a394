#!/bin/sh
# The layer checker must fail on each kind of offence it knows, one copy of the tree each:
# an upward include, a socket header in a pure layer, a scanner header in the launcher.
set -u
root=${1:?usage: layer_check_test.sh SOURCE_ROOT}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
try() {  # try NAME FILE LINE: the checker must reject the tree with LINE appended to FILE
  rm -rf "$work/tree" && mkdir "$work/tree" && cp -r "$root/src" "$root/launcher" "$root/cmake" "$work/tree/"
  echo "$3" >>"$work/tree/$2"
  if "$root/cmake/check_layers.sh" "$work/tree" 2>"$work/err"; then
    echo "FAIL $1: not caught"; fails=$((fails + 1))
  elif ! grep -q "$2" "$work/err"; then
    echo "FAIL $1: message does not name $2: $(cat "$work/err")"; fails=$((fails + 1))
  else
    echo "ok $1"
  fi
}
try upward-include src/engine/packet_sink.h '#include "probe/probe_module.h"'
try sibling-include src/output/result_sink.h '#include "probe/reply.h"'
try socket-in-pure-layer src/target/port_set.h '#include <sys/socket.h>'
try store-includes-the-running-scan src/store/checkpoint.h '#include "scan/scan_plan.h"'
try cli-includes-store src/cli/scan_options.h '#include "store/run_directory.h"'
try fleet-includes-a-scan src/fleet/shard_merge.h '#include "cli/scan_config.h"'
try scanner-in-launcher launcher/engine_plan.h '#include "scan/scan_plan.h"'
"$root/cmake/check_layers.sh" "$root" || { echo "FAIL: the real tree does not pass"; fails=$((fails + 1)); }
[ "$fails" -eq 0 ]
