#!/bin/sh
# Fails (exit 1, one line per offence) when a file includes a project header from a layer
# it may not use, or a pure layer includes a socket or BPF header. Run by every build
# (target anyscan_layer_check) and by ctest (LayerCheck.*). Usage: check_layers.sh SRCROOT
#   base -> nothing; net -> base; target, probe, host, engine, output -> net, base;
#   cli -> those; store -> cli and those; scan -> all of them but fleet;
#   fleet -> output, net, base; identify -> host, output, target, net, base and the checkpoint records
#   (store/checkpoint.h, store/checkpoint_file.h, store/scan_totals.h: base only, their own
#   library); launcher -> base and the header-only engine/engine_kind.h, which
#   itself includes no project header.
set -u
root=${1:?usage: check_layers.sh SOURCE_ROOT}
cd "$root" || exit 2
offences=$(
  grep -rnE --include='*.h' --include='*.cc' --include='*.c' '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' src launcher |
  awk '
    BEGIN {
      ok["base"] = " base "; ok["net"] = " base net "
      split("target probe host engine output", mid, " ")
      for (i in mid) ok[mid[i]] = " base net " mid[i] " "
      ok["cli"] = " base net target probe host engine output cli "
      ok["store"] = " base net target probe host engine output cli store "
      ok["scan"] = " base net target probe host engine output cli store scan "
      ok["fleet"] = " base net output fleet "
      ok["identify"] = " base net host output target identify "
      also["identify"] = " store/checkpoint.h store/checkpoint_file.h store/scan_totals.h "
    }
    {
      split($0, part, ":"); file = part[1]; line = part[2]
      text = substr($0, length(file) + length(line) + 3)
      n = split(file, dirs, "/")
      layer = (dirs[1] == "launcher") ? "launcher" : dirs[2]
      if (match(text, /"[^"]*"/)) {
        header = substr(text, RSTART + 1, RLENGTH - 2)
        if (index(header, "/") == 0) next   # same directory (the generated skeleton)
        top = substr(header, 1, index(header, "/") - 1)
        if (file == "src/engine/engine_kind.h") {
          print file ":" line ": must include no project header (the launcher uses it)"
        } else if (layer == "launcher") {
          if (top != "base" && top != "launcher" && header != "engine/engine_kind.h")
            print file ":" line ": the launcher may not include " header " (only base/ and engine/engine_kind.h)"
        } else if (layer in ok && index(ok[layer], " " top " ") == 0 &&
                   !(layer in also && index(also[layer], " " header " ") != 0)) {
          print file ":" line ": " layer " may not include " header
        }
      } else if (layer == "net" || layer == "target" || layer == "probe" || layer == "output" || layer == "fleet") {
        if (text ~ /<(sys\/socket\.h|linux\/bpf\.h|linux\/if_packet\.h|linux\/if_xdp\.h|bpf\/|xdp\/)/)
          print file ":" line ": pure layer " layer " may not have " text
      }
    }')
if [ -n "$offences" ]; then
  printf '%s\n' "$offences" | sed 's/^/layer check: /' >&2
  exit 1
fi
exit 0
