#include "net/frame_header.h"

#include <cstring>

#include "net/checksum.h"
#include "net/frame_layout.h"

namespace anyscan {

using namespace frame;

uint16_t write_frame_header(uint8_t* f, const FrameHeaderSpec& spec, uint16_t l4_bytes) {
  std::memcpy(f + kEthDst, spec.destination_mac.bytes.data(), 6);
  std::memcpy(f + kEthSrc, spec.source_mac.bytes.data(), 6);
  if (spec.family == IpFamily::kIpv6) {
    // RFC 8200 section 3: version 6, traffic class and flow label 0, payload length, next
    // header, hop limit; the addresses follow at kIp + 8 and kIp + 24.
    store_be16(f + kEthType, kEthTypeIpv6);
    std::memset(f + kIp, 0, kIpv6HeaderBytes);
    f[kIp] = 0x60;
    store_be16(f + kIp + 4, l4_bytes);
    f[kIp + 6] = spec.protocol;
    f[kIp + 7] = spec.ttl;
    return 0;
  }
  store_be16(f + kEthType, kEthTypeIpv4);
  std::memset(f + kIp, 0, kIpMinHeaderBytes);
  f[kIpVersionIhl] = 0x45;
  store_be16(f + kIpTotalLength, static_cast<uint16_t>(kIpMinHeaderBytes + l4_bytes));
  store_be16(f + kIpId, spec.ip_id);
  f[kIpTtl] = spec.ttl;
  f[kIpProtocol] = spec.protocol;
  const uint16_t sum = checksum(f + kIp, kIpMinHeaderBytes);
  store_be16(f + kIpChecksum, sum);
  return sum;
}

void set_ipv4_addresses(uint8_t* f, uint32_t saddr, uint32_t daddr,
                        uint16_t zero_address_checksum) {
  store_be32(f + kIpSrc, saddr);
  store_be32(f + kIpDst, daddr);
  store_be16(f + kIpChecksum,
             checksum_adjust32(checksum_adjust32(zero_address_checksum, 0, saddr), 0, daddr));
}

}  // namespace anyscan
