# Sourced by bench scripts: make_pair SCANNER_NS TARGET_NS makes two namespaces joined by a
# veth (SCANNER_NSv 198.18.0.1/24, TARGET_NSv 198.18.0.2/24), lo up in both, no route
# beyond the /24; delete_pair removes them. Nothing here touches the host's namespace.
make_pair() {
  ip netns add "$1" && ip netns add "$2" || return 1
  ip link add "${1}v" type veth peer name "${2}v" || return 1
  ip link set "${1}v" netns "$1"
  ip link set "${2}v" netns "$2"
  ip -n "$1" addr add 198.18.0.1/24 dev "${1}v"
  ip -n "$2" addr add 198.18.0.2/24 dev "${2}v"
  for ns in "$1" "$2"; do ip -n "$ns" link set lo up; done
  ip -n "$1" link set "${1}v" up
  ip -n "$2" link set "${2}v" up
}

delete_pair() {
  ip netns del "$1" 2>/dev/null
  ip netns del "$2" 2>/dev/null
}
