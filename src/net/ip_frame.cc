#include "net/ip_frame.h"

#include <algorithm>

#include "net/frame_layout.h"

namespace anyscan {
namespace {

using namespace frame;

FrameStatus parse_ipv4(const uint8_t* frame, size_t length, IpFrame* out) {
  if (length < kIp + kIpMinHeaderBytes) return FrameStatus::kNotIp;
  const uint8_t version_ihl = frame[kIpVersionIhl];
  if ((version_ihl >> 4) != 4) return FrameStatus::kNotIp;
  const size_t header_bytes = size_t{version_ihl & 0x0fu} * 4;
  if (header_bytes < kIpMinHeaderBytes || kIp + header_bytes > length) return FrameStatus::kNotIp;
  const size_t total = load_be16(frame + kIpTotalLength);
  if (total < header_bytes) return FrameStatus::kNotIp;
  out->family = IpFamily::kIpv4;
  out->saddr = IpAddress::v4(load_be32(frame + kIpSrc));
  out->daddr = IpAddress::v4(load_be32(frame + kIpDst));
  out->protocol = frame[kIpProtocol];
  out->ttl = frame[kIpTtl];
  out->ipid = load_be16(frame + kIpId);
  out->extension_headers = 0;
  if ((load_be16(frame + kIpFragment) & 0x1fff) != 0) return FrameStatus::kNonFirstFragment;
  out->l4_offset = kIp + header_bytes;
  out->l4_bytes = std::min(total - header_bytes, length - out->l4_offset);
  return FrameStatus::kOk;
}

FrameStatus parse_ipv6(const uint8_t* frame, size_t length, IpFrame* out) {
  if (length < kIp + kIpv6HeaderBytes || (frame[kIp] >> 4) != 6) return FrameStatus::kNotIp;
  out->family = IpFamily::kIpv6;
  out->saddr = IpAddress::from_bytes(frame + kIp + kIpv6Src);
  out->daddr = IpAddress::from_bytes(frame + kIp + kIpv6Dst);
  out->ttl = frame[kIp + kIpv6HopLimit];
  out->ipid = 0;
  out->extension_headers = 0;
  // Where the payload (chain and upper layer) ends: the payload length, cut to the capture.
  const size_t end = std::min(length, kIp + kIpv6HeaderBytes + load_be16(frame + kIp + 4));
  uint8_t next = frame[kIp + kIpv6NextHeader];
  size_t at = kIp + kIpv6HeaderBytes;
  for (int walked = 0;; ++walked) {
    size_t bytes = 0;
    switch (next) {
      case kProtoHopByHop:
        if (walked != 0) return FrameStatus::kHeaderChain;  // RFC 8200 4.3: first only
        [[fallthrough]];
      case kProtoRouting:
      case kProtoDestinationOptions:
        if (at + 2 > end) return FrameStatus::kHeaderChain;
        bytes = (size_t{frame[at + 1]} + 1) * 8;
        break;
      case kProtoFragment:
        if (at + 8 > end) return FrameStatus::kHeaderChain;
        if ((load_be16(frame + at + 2) & 0xfff8) != 0) {
          out->protocol = frame[at];
          return FrameStatus::kNonFirstFragment;
        }
        bytes = 8;
        break;
      case kProtoAuthentication:  // RFC 4302: length in 4-byte units, minus 2
        if (at + 2 > end) return FrameStatus::kHeaderChain;
        bytes = (size_t{frame[at + 1]} + 2) * 4;
        break;
      default:
        out->protocol = next;
        out->l4_offset = at;
        out->l4_bytes = end - at;
        return FrameStatus::kOk;
    }
    if (walked == kMaxExtensionHeaders || at + bytes > end) return FrameStatus::kHeaderChain;
    next = frame[at];
    at += bytes;
    out->extension_headers = static_cast<uint8_t>(walked + 1);
  }
}

}  // namespace

FrameStatus parse_ip_frame(const uint8_t* frame, size_t length, IpFrame* out) {
  if (length < kEthHeaderBytes) return FrameStatus::kNotIp;
  switch (load_be16(frame + kEthType)) {
    case kEthTypeIpv4:
      return parse_ipv4(frame, length, out);
    case kEthTypeIpv6:
      return parse_ipv6(frame, length, out);
    default:
      return FrameStatus::kNotIp;
  }
}

}  // namespace anyscan
