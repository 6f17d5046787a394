#pragma once

#include <cstdint>
#include <vector>

#include "net/ipv4_address.h"

namespace anyscan {

// Which received frames can be replies to a scan, as the probe module states it and both
// kernel filters (the AF_PACKET classic BPF program and the AF_XDP XDP program) enforce:
// IPv4, not a later fragment, to one of our source addresses, and matching one rule. A
// superset of what validation accepts: the filters only keep the host's other traffic out
// of user space; the probe module still checks every frame.
struct ReplyFilterRule {
  uint8_t ip_protocol = 0;  // frame::kProtoTcp, kProtoUdp or kProtoIcmp
  // TCP/UDP: destination port range (our source ports). ICMP: when not 0, the source port of
  // the datagram an error quotes must be in it (the XDP program checks; the classic BPF
  // filter admits the superset, every error of the types).
  uint16_t port_first = 0;
  uint16_t port_last = 65535;
  // ICMP: bit t set = ICMP type t (0-31) is admitted. Unused for TCP/UDP.
  uint32_t icmp_types = 0;

  bool operator==(const ReplyFilterRule&) const = default;
};

struct ReplyFilterSpec {
  // Our source addresses, as an inclusive range (one address: first == last).
  Ipv4Address local_first;
  Ipv4Address local_last;
  std::vector<ReplyFilterRule> rules;  // a frame passes if any rule matches

  // The XDP program has room for this many rules (its config is fixed-size read-only data).
  static constexpr size_t kMaxRules = 4;
};

inline constexpr uint32_t icmp_type_bit(uint8_t type) {
  return type < 32 ? uint32_t{1} << type : 0;
}

}  // namespace anyscan
