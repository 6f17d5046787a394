#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace anyscan {

// Byte offsets in an untagged Ethernet II frame carrying IPv4 without options. Frames are
// read and written with these offsets and big-endian loads/stores rather than through
// packed structs, so unaligned receive buffers are safe and nothing needs <netinet/*.h>.
namespace frame {

inline constexpr size_t kEthHeaderBytes = 14;
inline constexpr size_t kEthDst = 0;
inline constexpr size_t kEthSrc = 6;
inline constexpr size_t kEthType = 12;
inline constexpr uint16_t kEthTypeIpv4 = 0x0800;
inline constexpr uint16_t kEthTypeIpv6 = 0x86dd;

inline constexpr size_t kIp = kEthHeaderBytes;
inline constexpr size_t kIpMinHeaderBytes = 20;
inline constexpr size_t kIpVersionIhl = kIp + 0;
inline constexpr size_t kIpTotalLength = kIp + 2;
inline constexpr size_t kIpId = kIp + 4;
inline constexpr size_t kIpFragment = kIp + 6;
inline constexpr size_t kIpTtl = kIp + 8;
inline constexpr size_t kIpProtocol = kIp + 9;
inline constexpr size_t kIpChecksum = kIp + 10;
inline constexpr size_t kIpSrc = kIp + 12;
inline constexpr size_t kIpDst = kIp + 16;

inline constexpr size_t kIpv6HeaderBytes = 40;
// Offsets relative to the start of the IPv6 header (RFC 8200 section 3).
inline constexpr size_t kIpv6PayloadLength = 4;
inline constexpr size_t kIpv6NextHeader = 6;
inline constexpr size_t kIpv6HopLimit = 7;
inline constexpr size_t kIpv6Src = 8;
inline constexpr size_t kIpv6Dst = 24;

inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmpv6 = 58;
// IPv6 extension headers (RFC 8200 section 4; AH: RFC 4302).
inline constexpr uint8_t kProtoHopByHop = 0;
inline constexpr uint8_t kProtoRouting = 43;
inline constexpr uint8_t kProtoFragment = 44;
inline constexpr uint8_t kProtoAuthentication = 51;
inline constexpr uint8_t kProtoDestinationOptions = 60;

// Offsets relative to the start of the L4 header.
inline constexpr size_t kTcpSrcPort = 0;
inline constexpr size_t kTcpDstPort = 2;
inline constexpr size_t kTcpSeq = 4;
inline constexpr size_t kTcpAck = 8;
inline constexpr size_t kTcpDataOffset = 12;
inline constexpr size_t kTcpFlags = 13;
inline constexpr size_t kTcpWindow = 14;
inline constexpr size_t kTcpChecksum = 16;
inline constexpr size_t kTcpMinHeaderBytes = 20;
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAckFlag = 0x10;

inline constexpr size_t kIcmpType = 0;
inline constexpr size_t kIcmpCode = 1;
inline constexpr size_t kIcmpChecksum = 2;
inline constexpr size_t kIcmpId = 4;
inline constexpr size_t kIcmpSeq = 6;
inline constexpr size_t kIcmpHeaderBytes = 8;
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpUnreachable = 3;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
// ICMPv6 (RFC 4443): the same header layout as ICMP's first 8 bytes.
inline constexpr uint8_t kIcmp6Unreachable = 1;
inline constexpr uint8_t kIcmp6EchoRequest = 128;
inline constexpr uint8_t kIcmp6EchoReply = 129;

}  // namespace frame

inline uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t load_be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace anyscan
