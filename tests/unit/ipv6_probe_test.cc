// IPv6 in the probe layer: the extension-header walk of received frames, SYN and ICMPv6
// echo frames (checksums recomputed independently of the incremental update), genuine and
// forged replies, SipHash against the paper's vectors, and the classic BPF filter's IPv6
// branch. (tests/unit/ipv6_frames_decode_test.py decodes the frames with scapy.)
#include <gtest/gtest.h>

#include "base/siphash.h"
#include "net/checksum.h"
#include "net/frame_layout.h"
#include "net/ip_frame.h"
#include "probe/icmp_echo_probe.h"
#include "probe/tcp_syn_probe.h"
#include "probe/validation_cookie.h"
#include "support/test_frames.h"

namespace anyscan {
namespace {

using namespace frame;
using testing_support::ipv6_packet;
using testing_support::Ipv6Chain;
using testing_support::tcp6_segment;

constexpr const char* kUs = "2001:2::1";
constexpr const char* kTarget = "2001:2::5";

std::vector<uint8_t> ethernet(const std::vector<uint8_t>& packet) {
  std::vector<uint8_t> f(14 + packet.size(), 0);
  store_be16(f.data() + kEthType, (packet[0] >> 4) == 6 ? kEthTypeIpv6 : kEthTypeIpv4);
  std::copy(packet.begin(), packet.end(), f.begin() + 14);
  return f;
}

// What `probe` makes of an IP packet arriving in an Ethernet frame.
ReplyVerdict classify_packet(const ProbeModule& probe, const std::vector<uint8_t>& packet,
                             Reply* reply) {
  const auto frame = ethernet(packet);
  const FrameView view{frame.data(), static_cast<uint32_t>(frame.size()), 0};
  ReplyVerdict verdict;
  probe.classify(&view, 1, &verdict, reply);
  return verdict;
}

ProbeParams params6() {
  ProbeParams p = testing_support::test_probe_params();
  p.source_ips = {*parse_ip(kUs), *parse_ip("198.18.0.1")};
  return p;
}

TEST(Ipv6Frame, WalksExtensionHeadersToTheUpperLayer) {
  const auto tcp = tcp6_segment(kTarget, kUs, 80, 40000, 1, 2, kTcpSyn | kTcpAckFlag);
  struct Case {
    const char* name;
    Ipv6Chain chain;
    FrameStatus status;
    uint8_t walked;
  };
  const Case cases[] = {
      {"none", {}, FrameStatus::kOk, 0},
      {"hop-by-hop, destination options",
       {{kProtoHopByHop, kProtoDestinationOptions}},
       FrameStatus::kOk,
       2},
      {"routing, first fragment", {{kProtoRouting, kProtoFragment}, 0}, FrameStatus::kOk, 2},
      {"eight destination options",
       {std::vector<uint8_t>(8, kProtoDestinationOptions)},
       FrameStatus::kOk,
       8},
      {"nine: past the bound",
       {std::vector<uint8_t>(9, kProtoDestinationOptions)},
       FrameStatus::kHeaderChain,
       8},
      {"hop-by-hop second",
       {{kProtoDestinationOptions, kProtoHopByHop}},
       FrameStatus::kHeaderChain,
       1},
      {"a later fragment", {{kProtoFragment}, 1}, FrameStatus::kNonFirstFragment, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto f = ethernet(ipv6_packet(kTarget, kUs, kProtoTcp, tcp, c.chain));
    IpFrame ip;
    ASSERT_EQ(parse_ip_frame(f.data(), f.size(), &ip), c.status);
    EXPECT_EQ(ip.family, IpFamily::kIpv6);
    EXPECT_EQ(to_string(ip.saddr), kTarget);
    EXPECT_EQ(to_string(ip.daddr), kUs);
    EXPECT_EQ(ip.extension_headers, c.walked);
    if (c.status == FrameStatus::kOk) {
      EXPECT_EQ(ip.protocol, kProtoTcp);
      EXPECT_EQ(ip.l4_offset, 14 + 40 + 8u * c.walked);
      EXPECT_EQ(ip.l4_bytes, 20u);
    }
  }
  // Every cut of a packet with a chain: never read past the end, never kOk with a header
  // the capture does not hold.
  const auto whole = ethernet(ipv6_packet(
      kTarget, kUs, kProtoTcp, tcp, {{kProtoHopByHop, kProtoRouting, kProtoDestinationOptions}}));
  for (size_t length = 0; length < whole.size(); ++length) {
    std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(length));
    IpFrame ip;
    const FrameStatus status = parse_ip_frame(cut.data(), cut.size(), &ip);
    if (status == FrameStatus::kOk) {
      EXPECT_LE(ip.l4_offset + ip.l4_bytes, length);
    }
    if (length < 14 + 40 + 24) {
      EXPECT_NE(status, FrameStatus::kOk) << length;
    }
  }
  // The payload length bounds the chain, whatever the capture holds.
  auto short_payload = ethernet(ipv6_packet(kTarget, kUs, kProtoTcp, tcp, {{kProtoRouting}}));
  store_be16(short_payload.data() + 14 + 4, 6);
  IpFrame ip;
  EXPECT_EQ(parse_ip_frame(short_payload.data(), short_payload.size(), &ip),
            FrameStatus::kHeaderChain);
}

TEST(SipHash, MatchesThePapersVectors) {
  // Aumasson & Bernstein, SipHash-2-4: key 00..0f, message 00..n-1.
  const CookieKey key{{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL}};
  uint8_t message[16];
  for (int i = 0; i < 16; ++i) message[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(siphash24(key.words[0], key.words[1], message, 0), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(siphash24(key.words[0], key.words[1], message, 1), 0x74f839c593dc67fdULL);
  EXPECT_EQ(siphash24(key.words[0], key.words[1], message, 15), 0xa129ca6149be45e5ULL);
  // The IPv4 cookie is the same function over saddr | daddr | port (little-endian), so the
  // two code paths agree.
  const uint32_t s = 0xc6120001u, d = 0xc6120005u;
  const uint16_t port = 443;
  uint8_t v4[10];
  for (int i = 0; i < 4; ++i) {
    v4[i] = static_cast<uint8_t>(s >> (8 * i));
    v4[4 + i] = static_cast<uint8_t>(d >> (8 * i));
  }
  v4[8] = static_cast<uint8_t>(port);
  v4[9] = static_cast<uint8_t>(port >> 8);
  EXPECT_EQ(validation_cookie(key, s, d, port), siphash24(key.words[0], key.words[1], v4, 10));
  EXPECT_EQ(validation_cookie(key, IpAddress::v4(s), IpAddress::v4(d), port),
            validation_cookie(key, s, d, port));
  // IPv6: the documented 34-byte message (little-endian words of the address halves, then
  // the port), the same function.
  const IpAddress a = *parse_ip(kUs), b = *parse_ip(kTarget);
  uint8_t v6[34];
  const uint64_t words[] = {a.high64(), a.low64(), b.high64(), b.low64()};
  for (int w = 0; w < 4; ++w)
    for (int i = 0; i < 8; ++i) v6[8 * w + i] = static_cast<uint8_t>(words[w] >> (8 * i));
  v6[32] = static_cast<uint8_t>(port);
  v6[33] = static_cast<uint8_t>(port >> 8);
  EXPECT_EQ(validation_cookie(key, a, b, port),
            siphash24(key.words[0], key.words[1], v6, sizeof v6));
  // Every bit of both addresses and of the port counts.
  const uint64_t base = validation_cookie(key, a, b, port);
  for (int bit = 0; bit < 128; ++bit) {
    EXPECT_NE(validation_cookie(key, IpAddress{a.value ^ (uint128_t{1} << bit)}, b, port), base);
    EXPECT_NE(validation_cookie(key, a, IpAddress{b.value ^ (uint128_t{1} << bit)}, port), base);
  }
  EXPECT_NE(validation_cookie(key, a, b, port + 1), base);
}

// The whole TCP (or ICMPv6) segment of an IPv6 frame sums to 0xffff with its pseudo-header.
void expect_ipv6_checksum(const std::vector<uint8_t>& f) {
  const uint16_t length = load_be16(f.data() + 14 + 4);
  const uint32_t pseudo =
      pseudo_header_sum6(f.data() + 14 + 8, f.data() + 14 + 24, f[14 + 6], length);
  EXPECT_EQ(checksum_fold(checksum_partial(f.data() + 54, length, pseudo)), 0xffff);
}

TEST(TcpSynProbe, Ipv6FramesAndTheirReplies) {
  const ProbeParams params = params6();
  TcpSynProbe probe(params);
  EXPECT_EQ(probe.frame_bytes(), 78u);
  const IpAddress target = *parse_ip(kTarget);
  uint8_t buffer[128];
  FrameSlot slot{buffer, 0};
  const ProbeTarget t{target, 443, 1};
  probe.build(&t, 1, &slot);
  ASSERT_EQ(slot.length, 78u);
  std::vector<uint8_t> f(buffer, buffer + slot.length);
  expect_ipv6_checksum(f);
  EXPECT_EQ(to_string(IpAddress::from_bytes(f.data() + 14 + 8)), kUs);
  EXPECT_EQ(to_string(IpAddress::from_bytes(f.data() + 14 + 24)), kTarget);
  const uint16_t sport = load_be16(f.data() + 54);
  EXPECT_EQ(sport, probe.source_port_for(target, 443, 1));
  EXPECT_EQ(load_be32(f.data() + 54 + kTcpSeq), probe.sequence_for(target, 443));

  const uint32_t ack = probe.sequence_for(target, 443) + 1;
  auto classify = [&](const std::vector<uint8_t>& packet, Reply* reply) {
    return classify_packet(probe, packet, reply);
  };
  auto reply_from = [&](const char* from, const char* to, uint16_t port, uint16_t our_port,
                        uint32_t acknowledged, uint8_t flags, const Ipv6Chain& chain = {}) {
    return ipv6_packet(from, to, kProtoTcp,
                       tcp6_segment(from, to, port, our_port, 9, acknowledged, flags), chain);
  };
  const uint8_t synack = kTcpSyn | kTcpAckFlag;
  Reply reply;
  ASSERT_EQ(classify(reply_from(kTarget, kUs, 443, sport, ack, synack), &reply),
            ReplyVerdict::kValid);
  EXPECT_EQ(reply.saddr, target);
  EXPECT_EQ(reply.classification, Classification::kSynAck);
  EXPECT_EQ(reply.ttl, 64);
  EXPECT_EQ(classify(reply_from(kTarget, kUs, 443, sport, ack, kTcpRst | kTcpAckFlag,
                                {{kProtoHopByHop, kProtoDestinationOptions}}),
                     &reply),
            ReplyVerdict::kValid);
  EXPECT_EQ(reply.classification, Classification::kRst);
  // Forged: the wrong ack, another target port, another target, to another address of ours
  // (2001:2::2 is not ours: unrelated), through an unwalkable chain.
  EXPECT_EQ(classify(reply_from(kTarget, kUs, 443, sport, ack + 1, synack), &reply),
            ReplyVerdict::kInvalid);
  EXPECT_EQ(classify(reply_from(kTarget, kUs, 444, sport, ack, synack), &reply),
            ReplyVerdict::kInvalid);
  EXPECT_EQ(classify(reply_from("2001:2::6", kUs, 443, sport, ack, synack), &reply),
            ReplyVerdict::kInvalid);
  EXPECT_EQ(classify(reply_from(kTarget, "2001:2::2", 443, sport, ack, synack), &reply),
            ReplyVerdict::kUnrelated);
  EXPECT_EQ(classify(reply_from(kTarget, kUs, 443, sport, ack, synack,
                                {std::vector<uint8_t>(9, kProtoDestinationOptions)}),
                     &reply),
            ReplyVerdict::kInvalid);
  EXPECT_EQ(reply.invalid_reason, InvalidReason::kHeaderChain);
  EXPECT_EQ(
      classify(reply_from(kTarget, kUs, 443, sport, ack, synack, {{kProtoFragment}, 3}), &reply),
      ReplyVerdict::kInvalid);
  EXPECT_EQ(reply.invalid_reason, InvalidReason::kNonFirstFragment);
}

TEST(IcmpEchoProbe, Ipv6EchoRequestsRepliesAndUnreachables) {
  const ProbeParams params = params6();
  IcmpEchoProbe probe(params);
  uint8_t buffer[128];
  FrameSlot slot{buffer, 0};
  const ProbeTarget t{*parse_ip(kTarget), 0, 0};
  probe.build(&t, 1, &slot);
  ASSERT_EQ(slot.length, 70u);
  std::vector<uint8_t> request(buffer, buffer + slot.length);
  expect_ipv6_checksum(request);
  EXPECT_EQ(request[54], kIcmp6EchoRequest);
  // The reply echoes id, sequence and payload (RFC 4443 4.2).
  std::vector<uint8_t> echo(request.begin() + 54, request.end());
  echo[0] = kIcmp6EchoReply;
  auto classify = [&](const std::vector<uint8_t>& packet, Reply* reply) {
    return classify_packet(probe, packet, reply);
  };
  Reply reply;
  EXPECT_EQ(classify(ipv6_packet(kTarget, kUs, kProtoIcmpv6, echo), &reply), ReplyVerdict::kValid);
  EXPECT_EQ(reply.classification, Classification::kEchoReply);
  EXPECT_EQ(to_string(reply.saddr), kTarget);
  auto altered = echo;
  altered[12] ^= 1;  // the payload's cookie
  EXPECT_EQ(classify(ipv6_packet(kTarget, kUs, kProtoIcmpv6, altered), &reply),
            ReplyVerdict::kInvalid);
  EXPECT_EQ(classify(ipv6_packet("2001:2::6", kUs, kProtoIcmpv6, echo), &reply),
            ReplyVerdict::kInvalid);
  // Neighbour discovery to us: not a reply shape of this module.
  std::vector<uint8_t> advert(24, 0);
  advert[0] = 136;
  EXPECT_EQ(classify(ipv6_packet(kTarget, kUs, kProtoIcmpv6, advert), &reply),
            ReplyVerdict::kUnrelated);
  // A router's unreachable quoting our request: reported for the quoted target.
  std::vector<uint8_t> unreachable(8 + request.size() - 14, 0);
  unreachable[0] = kIcmp6Unreachable;
  unreachable[1] = 3;
  std::copy(request.begin() + 14, request.end(), unreachable.begin() + 8);
  EXPECT_EQ(classify(ipv6_packet("2001:2::fe", kUs, kProtoIcmpv6, unreachable), &reply),
            ReplyVerdict::kValid);
  EXPECT_EQ(reply.classification, Classification::kUnreachable);
  EXPECT_EQ(to_string(reply.saddr), kTarget);
  unreachable.back() ^= 1;
  EXPECT_EQ(classify(ipv6_packet("2001:2::fe", kUs, kProtoIcmpv6, unreachable), &reply),
            ReplyVerdict::kInvalid);
}

}  // namespace
}  // namespace anyscan
