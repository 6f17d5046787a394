#pragma once

#include <cstddef>
#include <cstdint>

#include "net/mac_address.h"

namespace anyscan {

// The address family of a frame's network layer.
enum class IpFamily : uint8_t { kIpv4 = 4, kIpv6 = 6 };

// The link and network headers every probe frame starts with: Ethernet II, then IPv4
// without options or IPv6 without extension headers. Every probe module writes them here,
// once, into its template; per target it patches only the addresses (and what its L4
// header carries).
struct FrameHeaderSpec {
  MacAddress source_mac;
  MacAddress destination_mac;  // the gateway's, or the on-link target's
  IpFamily family = IpFamily::kIpv4;
  uint8_t protocol = 0;  // IPv4 protocol, IPv6 next header
  uint8_t ttl = 64;      // IPv4 TTL, IPv6 hop limit
  uint16_t ip_id = 0;    // IPv4 identification (IPv6 has none)
};

// Bytes of the headers write_frame_header() writes: where the L4 header starts.
constexpr size_t frame_header_bytes(IpFamily family) {
  return family == IpFamily::kIpv4 ? 14 + 20 : 14 + 40;
}

// Writes the headers for an L4 part (header and payload) of l4_bytes, with both addresses
// zero. Returns the IPv4 header checksum over those zero addresses (stored in the frame
// too), which the per-target patch updates incrementally; 0 for IPv6, which has none.
uint16_t write_frame_header(uint8_t* frame, const FrameHeaderSpec& spec, uint16_t l4_bytes);

// Sets the addresses of an IPv4 frame write_frame_header() wrote, and its header checksum
// from the one over zero addresses (RFC 1624 incremental update).
void set_ipv4_addresses(uint8_t* frame, uint32_t saddr, uint32_t daddr,
                        uint16_t zero_address_checksum);

}  // namespace anyscan
