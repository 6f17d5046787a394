#pragma once
// Pre-built SYN frames for the bare ceiling senders: the probes anyscan sends (58 bytes, an
// MSS option, valid checksums), to consecutive addresses of 198.18.0.0/15 and port 1000. The
// senders only ever re-send these: no per-probe work at all, which is the point.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "net/checksum.h"
#include "net/frame_layout.h"
#include "net/mac_address.h"

namespace anyscan::bench {

inline constexpr size_t kSynFrameBytes = 58;

inline std::vector<uint8_t> syn_frames(size_t count, const MacAddress& source,
                                       const MacAddress& gateway) {
  using namespace frame;
  std::vector<uint8_t> out(count * kSynFrameBytes, 0);
  for (size_t i = 0; i < count; ++i) {
    uint8_t* f = out.data() + i * kSynFrameBytes;
    std::memcpy(f + kEthDst, gateway.bytes.data(), 6);
    std::memcpy(f + kEthSrc, source.bytes.data(), 6);
    store_be16(f + kEthType, kEthTypeIpv4);
    f[kIpVersionIhl] = 0x45;
    store_be16(f + kIpTotalLength, 44);
    store_be16(f + kIpId, 54321);
    f[kIpTtl] = 255;
    f[kIpProtocol] = kProtoTcp;
    store_be32(f + kIpSrc, 0xc6120001u);
    store_be32(f + kIpDst, 0xc6120000u + 2 + static_cast<uint32_t>(i));
    store_be16(f + kIpChecksum, checksum(f + kIp, 20));
    uint8_t* t = f + kIp + 20;
    store_be16(t + kTcpSrcPort, static_cast<uint16_t>(40000 + i));
    store_be16(t + kTcpDstPort, 1000);
    store_be32(t + kTcpSeq, 0x01020304u * static_cast<uint32_t>(i + 1));
    t[kTcpDataOffset] = 6 << 4;
    t[kTcpFlags] = kTcpSyn;
    store_be16(t + kTcpWindow, 65535);
    t[20] = 2;
    t[21] = 4;
    store_be16(t + 22, 1460);
    const uint32_t pseudo = pseudo_header_sum(0xc6120001u, load_be32(f + kIpDst), kProtoTcp, 24);
    store_be16(t + kTcpChecksum,
               static_cast<uint16_t>(~checksum_fold(checksum_partial(t, 24, pseudo))));
  }
  return out;
}

// "bare_X IFNAME GATEWAY_MAC FRAMES": the arguments both senders take.
struct Args {
  std::string interface;
  MacAddress gateway;
  uint64_t frames = 0;
};

}  // namespace anyscan::bench
