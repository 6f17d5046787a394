#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "net/frame_layout.h"
#include "probe/probe_module.h"

namespace anyscan::testing_support {

// What the unit tests of probe frames share: one set of probe parameters (198.18.0.1,
// source ports 40000-40999, two probes per target, a fixed key) and readable hex.

ProbeParams test_probe_params();

// Lower-case hex, two digits per byte, no separators.
std::string hex(const uint8_t* data, size_t bytes);
inline std::string hex(const std::vector<uint8_t>& bytes) {
  return hex(bytes.data(), bytes.size());
}
// The bytes of an even-length hex string (as hex() writes them).
std::vector<uint8_t> unhex(const std::string& text);

// IPv6 packets as a peer would send them (no Ethernet header), for forged and hand-made
// replies. `chain` lists extension headers in order (kProtoHopByHop, kProtoRouting,
// kProtoDestinationOptions: 8 bytes of PadN each; kProtoFragment: 8 bytes with `offset`),
// then the upper layer with protocol `protocol` and bytes `upper`.
struct Ipv6Chain {
  std::vector<uint8_t> headers;
  uint16_t fragment_offset = 0;  // in 8-byte units, for a kProtoFragment header
};
std::vector<uint8_t> ipv6_packet(const std::string& src, const std::string& dst, uint8_t protocol,
                                 const std::vector<uint8_t>& upper, const Ipv6Chain& chain = {});
// A TCP header (20 bytes, no options) with its checksum over the IPv6 pseudo-header.
std::vector<uint8_t> tcp6_segment(const std::string& src, const std::string& dst, uint16_t sport,
                                  uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags);

}  // namespace anyscan::testing_support
