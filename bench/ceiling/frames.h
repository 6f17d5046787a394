#pragma once
// Pre-built SYN frames for the bare ceiling senders: the probes anyscan sends (58 bytes, or 78
// over IPv6; an MSS option, valid checksums), to consecutive addresses and port 1000. The
// senders only ever re-send these: no per-probe work at all, which is the point.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "net/checksum.h"
#include "net/frame_header.h"
#include "net/frame_layout.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace anyscan::bench {

inline constexpr size_t kSynFrameBytes = 58;
inline constexpr size_t kSyn6FrameBytes = 78;  // IPv6: a 40-byte header for IPv4's 20
inline size_t syn_frame_bytes(bool ipv6) { return ipv6 ? kSyn6FrameBytes : kSynFrameBytes; }

// `count` SYNs as anyscan builds them (the one header writer), to consecutive addresses of
// 198.18.0.0/15 or 2001:2::/64, from 198.18.0.1 or 2001:2::1, port 1000.
inline std::vector<uint8_t> syn_frames(size_t count, const MacAddress& source,
                                       const MacAddress& gateway, bool ipv6 = false) {
  using namespace frame;
  const size_t bytes = syn_frame_bytes(ipv6);
  std::vector<uint8_t> out(count * bytes, 0);
  for (size_t i = 0; i < count; ++i) {
    uint8_t* f = out.data() + i * bytes;
    write_frame_header(
        f, {source, gateway, ipv6 ? IpFamily::kIpv6 : IpFamily::kIpv4, kProtoTcp, 255, 54321}, 24);
    const IpAddress saddr =
        ipv6 ? IpAddress::v6(0x2001000200000000ULL, 1) : IpAddress::v4(0xc6120001u);
    const IpAddress daddr = ipv6 ? IpAddress::v6(0x2001000200000000ULL, 2 + i)
                                 : IpAddress::v4(0xc6120000u + 2 + static_cast<uint32_t>(i));
    uint8_t s[16], d[16];
    saddr.to_bytes(s);
    daddr.to_bytes(d);
    uint32_t pseudo = 0;
    if (ipv6) {
      std::memcpy(f + kIp + kIpv6Src, s, 16);
      std::memcpy(f + kIp + kIpv6Dst, d, 16);
      pseudo = pseudo_header_sum6(s, d, kProtoTcp, 24);
    } else {
      set_ipv4_addresses(f, saddr.ipv4(), daddr.ipv4(), load_be16(f + kIpChecksum));
      pseudo = pseudo_header_sum(saddr.ipv4(), daddr.ipv4(), kProtoTcp, 24);
    }
    uint8_t* t = f + (ipv6 ? kIp + kIpv6HeaderBytes : kIp + kIpMinHeaderBytes);
    store_be16(t + kTcpSrcPort, static_cast<uint16_t>(40000 + i));
    store_be16(t + kTcpDstPort, 1000);
    store_be32(t + kTcpSeq, 0x01020304u * static_cast<uint32_t>(i + 1));
    t[kTcpDataOffset] = 6 << 4;
    t[kTcpFlags] = kTcpSyn;
    store_be16(t + kTcpWindow, 65535);
    t[20] = 2;
    t[21] = 4;
    store_be16(t + 22, ipv6 ? 1440 : 1460);
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
