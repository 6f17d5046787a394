#pragma once

#include <cstdint>
#include <vector>

#include "net/frame_header.h"
#include "net/ip_address.h"

namespace anyscan {

// Which received frames can be replies to a scan, as the probe module states it for each
// family and both kernel filters (the AF_PACKET classic BPF program and the AF_XDP XDP
// program) enforce: IPv4 (not a later fragment) or IPv6, to one of our source addresses of
// that family, and matching one rule of that family. A superset of what validation accepts:
// the filters only keep the host's other traffic out of user space; the probe module still
// checks every frame. IPv6 frames whose next header is an extension header are admitted
// by address alone (neither filter walks the chain: classic BPF has no loops, and the XDP
// verifier without CAP_PERFMON refuses variable packet offsets); user space walks it. A
// later fragment goes to the kernel (XDP) and is counted, never parsed (both).
struct ReplyFilterRule {
  IpFamily family = IpFamily::kIpv4;
  uint8_t ip_protocol = 0;  // kProtoTcp, kProtoUdp, kProtoIcmp; IPv6: kProtoIcmpv6 too
  // TCP/UDP: destination port range (our source ports). ICMP: when not 0, the source port of
  // the datagram an error quotes must be in it (the XDP program checks; the classic BPF
  // filter admits the superset, every error of the types).
  uint16_t port_first = 0;
  uint16_t port_last = 65535;
  // ICMP: bit t set = ICMP type t (0-31) is admitted; ICMPv6: bit icmp6_type_bit(t).
  // Unused for TCP/UDP.
  uint32_t icmp_types = 0;

  bool operator==(const ReplyFilterRule&) const = default;
};

struct ReplyFilterSpec {
  // Our IPv4 source addresses, as an inclusive range (one address: first == last); none
  // when the scan has no IPv4 targets (has_ipv4 false).
  bool has_ipv4 = true;
  Ipv4Address local_first;
  Ipv4Address local_last;
  // Our IPv6 source addresses: an inclusive range within one /96 (the filters compare the
  // first 96 bits for equality and the last 32 as a range).
  bool has_ipv6 = false;
  IpAddress local6_first;
  IpAddress local6_last;
  std::vector<ReplyFilterRule> rules;  // a frame passes if any rule of its family matches

  // The XDP program has room for this many rules (its config is fixed-size read-only data).
  static constexpr size_t kMaxRules = 8;
};

inline constexpr uint32_t icmp_type_bit(uint8_t type) {
  return type < 32 ? uint32_t{1} << type : 0;
}
// ICMPv6 types in a 32-bit set: errors 0-15 as bits 0-15, informational 128-143 (echo,
// MLD, router and neighbour discovery) as bits 16-31; other types have no bit.
inline constexpr int icmp6_type_index(uint8_t type) {
  return type < 16 ? type : (type >= 128 && type < 144 ? type - 112 : -1);
}
inline constexpr uint32_t icmp6_type_bit(uint8_t type) {
  return icmp6_type_index(type) < 0 ? 0 : uint32_t{1} << icmp6_type_index(type);
}

}  // namespace anyscan
