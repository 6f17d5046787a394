#pragma once

#include <cstddef>
#include <cstdint>

#include "net/ip_address.h"

namespace anyscan {

// What parse_ip_frame() found in a received frame.
enum class FrameStatus : uint8_t {
  kOk,
  kNotIp,             // not IPv4 or IPv6, or a header that is not one (bad version, IHL, ...)
  kNonFirstFragment,  // a later fragment: no L4 header in it
  // IPv6 only: an extension-header chain that could not be walked (truncated, longer than
  // kMaxExtensionHeaders, a hop-by-hop header not first, or beyond the payload length).
  kHeaderChain,
};

// The parts of a received Ethernet frame's IP layer that reply classification needs, after
// the bounds and sanity checks every module would otherwise repeat.
struct IpFrame {
  IpFamily family = IpFamily::kIpv4;
  IpAddress saddr;
  IpAddress daddr;
  uint8_t protocol = 0;           // IPv4 protocol; IPv6: the upper-layer header after the chain
  uint8_t ttl = 0;                // IPv4 TTL, IPv6 hop limit
  uint16_t ipid = 0;              // IPv4 identification (IPv6: 0)
  uint8_t extension_headers = 0;  // IPv6 extension headers walked
  size_t l4_offset = 0;           // from the start of the frame
  size_t l4_bytes = 0;  // L4 header+payload present (bounded by the IP length and capture)
};

// IPv6 chains longer than this are not walked (RFC 8200 section 4.1 expects few; a bound
// keeps a hostile chain from costing more than a fixed amount).
inline constexpr int kMaxExtensionHeaders = 8;

// IPv4: Ethernet type 0x0800, version 4, IHL >= 5, header inside the capture, total length
// >= header; a non-first fragment is kNonFirstFragment. IPv6: type 0x86dd, version 6, the
// fixed header inside the capture, then hop-by-hop (first only), routing, destination
// options, fragment and AH headers walked to the upper layer (RFC 8200 section 4). `out`
// holds what was found: on kNonFirstFragment and kHeaderChain its addresses are set (so
// the caller can tell whether the frame was for us).
FrameStatus parse_ip_frame(const uint8_t* frame, size_t length, IpFrame* out);

}  // namespace anyscan
