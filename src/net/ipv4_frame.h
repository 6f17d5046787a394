#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace anyscan {

// The parts of a received Ethernet/IPv4 frame that reply classification needs, after the
// bounds and sanity checks every module would otherwise repeat.
struct Ipv4Frame {
  uint32_t saddr;
  uint32_t daddr;
  uint8_t protocol;
  uint8_t ttl;
  uint16_t ipid;
  size_t l4_offset;  // from the start of the frame
  size_t l4_bytes;   // bytes of L4 header+payload present (bounded by both IP length and capture)
};

// nullopt unless: Ethernet type IPv4, version 4, IHL >= 5, header inside the capture,
// total length >= header, and not a non-first fragment.
std::optional<Ipv4Frame> parse_ipv4_frame(const uint8_t* frame, size_t length);

}  // namespace anyscan
