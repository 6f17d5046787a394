#include "net/ipv4_frame.h"

#include <algorithm>

#include "net/frame_layout.h"

namespace anyscan {

std::optional<Ipv4Frame> parse_ipv4_frame(const uint8_t* frame, size_t length) {
  using namespace frame;
  if (length < kIp + kIpMinHeaderBytes) return std::nullopt;
  if (load_be16(frame + kEthType) != kEthTypeIpv4) return std::nullopt;
  const uint8_t version_ihl = frame[kIpVersionIhl];
  if ((version_ihl >> 4) != 4) return std::nullopt;
  const size_t header_bytes = size_t{version_ihl & 0x0fu} * 4;
  if (header_bytes < kIpMinHeaderBytes || kIp + header_bytes > length) return std::nullopt;
  const size_t total = load_be16(frame + kIpTotalLength);
  if (total < header_bytes) return std::nullopt;
  if ((load_be16(frame + kIpFragment) & 0x1fff) != 0) return std::nullopt;
  Ipv4Frame out;
  out.saddr = load_be32(frame + kIpSrc);
  out.daddr = load_be32(frame + kIpDst);
  out.protocol = frame[kIpProtocol];
  out.ttl = frame[kIpTtl];
  out.ipid = load_be16(frame + kIpId);
  out.l4_offset = kIp + header_bytes;
  out.l4_bytes = std::min(total - header_bytes, length - out.l4_offset);
  return out;
}

}  // namespace anyscan
