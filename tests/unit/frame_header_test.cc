// The one writer of every probe frame's link and network headers: IPv4 and IPv6 byte for
// byte, the IPv4 checksum over zero addresses and its incremental update per target.
#include <gtest/gtest.h>

#include <array>

#include "net/checksum.h"
#include "net/frame_header.h"
#include "net/frame_layout.h"
#include "support/test_frames.h"

namespace anyscan {
namespace {

using testing_support::hex;

FrameHeaderSpec spec(IpFamily family, uint8_t protocol) {
  return {*parse_mac("02:00:00:00:00:01"),
          *parse_mac("02:00:00:00:00:02"),
          family,
          protocol,
          64,
          54321};
}

TEST(FrameHeader, WritesEthernetAndIpv4WithZeroAddresses) {
  std::array<uint8_t, 34> f{};
  const uint16_t sum = write_frame_header(f.data(), spec(IpFamily::kIpv4, frame::kProtoTcp), 24);
  EXPECT_EQ(hex(f.data(), f.size()),
            "020000000002"
            "020000000001"
            "0800"
            "4500002cd4310000"
            "4006"
            "a69b"
            "00000000"
            "00000000");
  EXPECT_EQ(sum, 0xa69b);  // ~(4500 + 002c + d431 + 4006), folded
  EXPECT_EQ(checksum(f.data() + frame::kIp, 20), 0) << "the stored checksum is the header's";
  EXPECT_EQ(frame_header_bytes(IpFamily::kIpv4), 34u);
}

TEST(FrameHeader, Ipv4AddressesKeepTheChecksumValid) {
  std::array<uint8_t, 34> f{};
  const uint16_t sum = write_frame_header(f.data(), spec(IpFamily::kIpv4, frame::kProtoUdp), 100);
  for (uint32_t daddr : {0xc6120002u, 0xc613ffffu, 0xffffffffu, 1u}) {
    SCOPED_TRACE(daddr);
    set_ipv4_addresses(f.data(), 0xc6120001, daddr, sum);
    EXPECT_EQ(load_be32(f.data() + frame::kIpSrc), 0xc6120001u);
    EXPECT_EQ(load_be32(f.data() + frame::kIpDst), daddr);
    EXPECT_EQ(checksum_fold(checksum_partial(f.data() + frame::kIp, 20)), 0xffff);
  }
}

TEST(FrameHeader, WritesEthernetAndIpv6AsTheSecondCase) {
  std::array<uint8_t, 54> f;
  f.fill(0xee);  // every byte is written
  EXPECT_EQ(write_frame_header(f.data(), spec(IpFamily::kIpv6, frame::kProtoTcp), 24), 0);
  // RFC 8200: version 6, class and flow 0, payload length 24, next header 6, hop limit 64.
  EXPECT_EQ(hex(f.data(), f.size()),
            "020000000002"
            "020000000001"
            "86dd"
            "60000000"
            "0018"
            "06"
            "40" +
                std::string(64, '0'));
  EXPECT_EQ(frame_header_bytes(IpFamily::kIpv6), 54u);
}

}  // namespace
}  // namespace anyscan
