// Frames built from the template, byte for byte, with checksums verified independently of
// the incremental update; and reply validation against genuine and forged replies.
#include <gtest/gtest.h>

#include <map>

#include <string>
#include <vector>

#include "net/checksum.h"
#include "net/frame_layout.h"
#include "probe/icmp_echo_probe.h"
#include "probe/tcp_syn_probe.h"
#include "probe/validation_cookie.h"
#include "support/test_frames.h"

namespace anyscan {
namespace {

using namespace frame;

using testing_support::hex;
using testing_support::unhex;

ProbeParams test_params() { return testing_support::test_probe_params(); }

// Full recomputation, as a receiver checks: IP header sums to 0xffff; TCP/ICMP over
// pseudo-header (TCP) and segment sums to 0xffff.
void expect_checksums_valid(const std::vector<uint8_t>& f) {
  EXPECT_EQ(checksum_fold(checksum_partial(f.data() + kIp, 20)), 0xffff) << "IP header checksum";
  const uint16_t l4_bytes = static_cast<uint16_t>(load_be16(f.data() + kIpTotalLength) - 20);
  uint32_t sum = 0;
  if (f[kIpProtocol] == kProtoTcp)
    sum = pseudo_header_sum(load_be32(f.data() + kIpSrc), load_be32(f.data() + kIpDst), kProtoTcp,
                            l4_bytes);
  EXPECT_EQ(checksum_fold(checksum_partial(f.data() + kIp + 20, l4_bytes, sum)), 0xffff)
      << "L4 checksum";
}

TEST(ValidationCookie, MatchesSipHashReferenceVector) {
  // Reference vector for 10 bytes 00..09 with key 00..0f (SipHash paper, vectors.h).
  const CookieKey key{{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL}};
  EXPECT_EQ(validation_cookie(key, 0x03020100u, 0x07060504u, 0x0908), 0x7a5dbbc594ddb9f3ULL);
}

TEST(ValidationCookie, SeedDerivedKeyIsStableAndSeedDependent) {
  EXPECT_EQ(cookie_key_from_seed(5).words, cookie_key_from_seed(5).words);
  EXPECT_NE(cookie_key_from_seed(5).words, cookie_key_from_seed(6).words);
}

TEST(TcpSynProbe, FrameMatchesGoldenBytes) {
  TcpSynProbe probe(test_params());
  const ProbeTarget targets[] = {{IpAddress::v4(parse_ipv4("198.18.0.5")->value), 80, 0},
                                 {IpAddress::v4(parse_ipv4("198.18.3.200")->value), 65535, 1}};
  uint8_t buffers[2][128] = {};
  FrameSlot slots[2] = {{buffers[0], 0}, {buffers[1], 0}};
  probe.build(targets, 2, slots);
  ASSERT_EQ(slots[0].length, 58u);
  // eth dst | eth src | type | IPv4 20 bytes (id 54321, TTL 255, TCP) | TCP 24 bytes with MSS 1460
  const std::string golden0 =
      "020000000002"
      "020000000001"
      "0800"
      "4500002cd4310000ff06"
      "5b6f"
      "c6120001"
      "c6120005"
      "9d3e"
      "0050"
      "e0b8f91e"
      "00000000"
      "6002ffff"
      "9495"
      "0000"
      "020405b4";
  const std::string golden1 =
      "020000000002"
      "020000000001"
      "0800"
      "4500002cd4310000ff06"
      "57ac"
      "c6120001"
      "c61203c8"
      "9cfe"
      "ffff"
      "c57971d6"
      "00000000"
      "6002ffff"
      "33ea"
      "0000"
      "020405b4";
  EXPECT_EQ(hex(buffers[0], slots[0].length), golden0);
  EXPECT_EQ(hex(buffers[1], slots[1].length), golden1);
  for (const std::string& golden : {golden0, golden1}) {
    SCOPED_TRACE(golden);
    expect_checksums_valid(unhex(golden));
  }
  // The validation fields are the cookie's, as documented.
  EXPECT_EQ(load_be32(buffers[0] + kIp + 20 + kTcpSeq), probe.sequence_for(targets[0].daddr, 80));
  EXPECT_EQ(load_be16(buffers[0] + kIp + 20 + kTcpSrcPort),
            probe.source_port_for(targets[0].daddr, 80, 0));
  EXPECT_EQ(load_be16(buffers[1] + kIp + 20 + kTcpSrcPort),
            probe.source_port_for(targets[1].daddr, 65535, 1));
}

TEST(TcpSynProbe, ChecksumsHoldForManyTargets) {
  TcpSynProbe probe(test_params());
  for (uint32_t i = 0; i < 5000; ++i) {
    const ProbeTarget target{IpAddress::v4(0xc6120000u + i * 7919u),
                             static_cast<uint16_t>(1 + i * 13), static_cast<uint16_t>(i % 2)};
    uint8_t buffer[128];
    FrameSlot slot{buffer, 0};
    probe.build(&target, 1, &slot);
    SCOPED_TRACE(i);
    expect_checksums_valid(std::vector<uint8_t>(buffer, buffer + slot.length));
  }
}

// A reply as the target's kernel would send it, built independently of the module.
std::vector<uint8_t> tcp_reply(uint32_t from, uint16_t from_port, uint32_t to, uint16_t to_port,
                               uint32_t ack, uint8_t flags, size_t truncate_to = 0) {
  std::vector<uint8_t> f(14 + 20 + 20, 0);
  store_be16(f.data() + kEthType, kEthTypeIpv4);
  f[kIpVersionIhl] = 0x45;
  store_be16(f.data() + kIpTotalLength, 40);
  f[kIpTtl] = 64;
  f[kIpProtocol] = kProtoTcp;
  store_be32(f.data() + kIpSrc, from);
  store_be32(f.data() + kIpDst, to);
  uint8_t* t = f.data() + 34;
  store_be16(t + kTcpSrcPort, from_port);
  store_be16(t + kTcpDstPort, to_port);
  store_be32(t + kTcpSeq, 12345);
  store_be32(t + kTcpAck, ack);
  t[kTcpDataOffset] = 0x50;
  t[kTcpFlags] = flags;
  if (truncate_to) f.resize(truncate_to);
  return f;
}

ReplyVerdict classify(const ProbeModule& probe, const std::vector<uint8_t>& f, Reply* reply) {
  FrameView view{f.data(), static_cast<uint32_t>(f.size())};
  ReplyVerdict verdict;
  probe.classify(&view, 1, &verdict, reply);
  return verdict;
}

TEST(TcpSynProbe, AcceptsGenuineRepliesAndRejectsForgedOnes) {
  const ProbeParams params = test_params();
  TcpSynProbe probe(params);
  const uint32_t us = params.source_ips[0].ipv4();
  const uint32_t target = parse_ipv4("198.18.0.5")->value;
  const uint32_t seq = probe.sequence_for(IpAddress::v4(target), 443);
  const uint16_t port0 = probe.source_port_for(IpAddress::v4(target), 443, 0);
  const uint16_t port1 = probe.source_port_for(IpAddress::v4(target), 443, 1);
  const uint16_t not_ours =
      probe.source_port_for(IpAddress::v4(target), 443, 2);  // probe 2 of 2 was never sent
  const uint8_t synack = kTcpSyn | kTcpAckFlag, rst = kTcpRst | kTcpAckFlag;
  struct Case {
    const char* name;
    std::vector<uint8_t> frame;
    ReplyVerdict verdict;
    Classification classification;
  };
  const Case cases[] = {
      {"synack", tcp_reply(target, 443, us, port0, seq + 1, synack), ReplyVerdict::kValid,
       Classification::kSynAck},
      {"rst", tcp_reply(target, 443, us, port0, seq + 1, rst), ReplyVerdict::kValid,
       Classification::kRst},
      {"second probe's port", tcp_reply(target, 443, us, port1, seq + 1, synack),
       ReplyVerdict::kValid, Classification::kSynAck},
      {"wrong ack", tcp_reply(target, 443, us, port0, seq + 2, synack), ReplyVerdict::kInvalid, {}},
      {"ack = seq", tcp_reply(target, 443, us, port0, seq, synack), ReplyVerdict::kInvalid, {}},
      {"wrong target port",
       tcp_reply(target, 444, us, port0, seq + 1, synack),
       ReplyVerdict::kInvalid,
       {}},
      {"wrong target address",
       tcp_reply(target + 1, 443, us, port0, seq + 1, synack),
       ReplyVerdict::kInvalid,
       {}},
      {"port of a probe not sent",
       tcp_reply(target, 443, us, not_ours, seq + 1, synack),
       ReplyVerdict::kInvalid,
       {}},
      {"bare SYN", tcp_reply(target, 443, us, port0, seq + 1, kTcpSyn), ReplyVerdict::kInvalid, {}},
      {"bare ACK",
       tcp_reply(target, 443, us, port0, seq + 1, kTcpAckFlag),
       ReplyVerdict::kInvalid,
       {}},
      {"not to us",
       tcp_reply(target, 443, us + 1, port0, seq + 1, synack),
       ReplyVerdict::kUnrelated,
       {}},
      {"outside source ports",
       tcp_reply(target, 443, us, 39999, seq + 1, synack),
       ReplyVerdict::kUnrelated,
       {}},
      {"truncated TCP header",
       tcp_reply(target, 443, us, port0, seq + 1, synack, 14 + 20 + 10),
       ReplyVerdict::kInvalid,
       {}},
      {"truncated IP header",
       tcp_reply(target, 443, us, port0, seq + 1, synack, 14 + 12),
       ReplyVerdict::kUnrelated,
       {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Reply reply;
    EXPECT_EQ(classify(probe, c.frame, &reply), c.verdict);
    if (c.verdict == ReplyVerdict::kValid) {
      EXPECT_EQ(reply.classification, c.classification);
      EXPECT_EQ(reply.saddr, IpAddress::v4(target));
      EXPECT_EQ(reply.sport, 443);
      EXPECT_EQ(reply.ttl, 64);
    }
  }
}

TEST(TcpSynProbe, ReplyFromAnotherScanKeyIsRejected) {
  ProbeParams other = test_params();
  other.key.words[0] ^= 1;
  TcpSynProbe ours(test_params()), theirs(other);
  const uint32_t target = parse_ipv4("198.18.0.5")->value;
  auto f = tcp_reply(target, 80, test_params().source_ips[0].ipv4(),
                     theirs.source_port_for(IpAddress::v4(target), 80, 0),
                     theirs.sequence_for(IpAddress::v4(target), 80) + 1, kTcpSyn | kTcpAckFlag);
  Reply reply;
  EXPECT_NE(classify(ours, f, &reply), ReplyVerdict::kValid);
}

TEST(IcmpEchoProbe, BuildsValidEchoRequestsAndValidatesReplies) {
  const ProbeParams params = test_params();
  IcmpEchoProbe probe(params);
  const uint32_t target = parse_ipv4("198.18.0.9")->value;
  const ProbeTarget t{IpAddress::v4(target), 0, 1};
  uint8_t buffer[128];
  FrameSlot slot{buffer, 0};
  probe.build(&t, 1, &slot);
  ASSERT_EQ(slot.length, 42u);
  std::vector<uint8_t> request(buffer, buffer + slot.length);
  expect_checksums_valid(request);
  EXPECT_EQ(request[kIp + 20 + kIcmpType], kIcmpEchoRequest);

  // Echo reply: swap addresses, type 0, same id/seq.
  std::vector<uint8_t> reply_frame = request;
  store_be32(reply_frame.data() + kIpSrc, target);
  store_be32(reply_frame.data() + kIpDst, params.source_ips[0].ipv4());
  reply_frame[kIp + 20 + kIcmpType] = kIcmpEchoReply;
  Reply reply;
  EXPECT_EQ(classify(probe, reply_frame, &reply), ReplyVerdict::kValid);
  EXPECT_EQ(reply.classification, Classification::kEchoReply);
  EXPECT_EQ(reply.saddr, IpAddress::v4(target));

  std::vector<uint8_t> forged = reply_frame;
  forged[kIp + 20 + kIcmpId] ^= 0x01;
  EXPECT_EQ(classify(probe, forged, &reply), ReplyVerdict::kInvalid);
  std::vector<uint8_t> other_host = reply_frame;
  store_be32(other_host.data() + kIpSrc, target + 1);
  EXPECT_EQ(classify(probe, other_host, &reply), ReplyVerdict::kInvalid);

  // Unreachable from a router quoting our request: reported for the quoted target.
  std::vector<uint8_t> unreach(14 + 20 + 8 + 28, 0);
  std::copy(request.begin(), request.begin() + 14, unreach.begin());
  unreach[kIpVersionIhl] = 0x45;
  store_be16(unreach.data() + kIpTotalLength, 20 + 8 + 28);
  unreach[kIpProtocol] = kProtoIcmp;
  store_be32(unreach.data() + kIpSrc, parse_ipv4("198.18.0.254")->value);
  store_be32(unreach.data() + kIpDst, params.source_ips[0].ipv4());
  unreach[kIp + 20 + kIcmpType] = kIcmpUnreachable;
  std::copy(request.begin() + kIp, request.end(), unreach.begin() + kIp + 28);
  EXPECT_EQ(classify(probe, unreach, &reply), ReplyVerdict::kValid);
  EXPECT_EQ(reply.classification, Classification::kUnreachable);
  EXPECT_EQ(reply.saddr, IpAddress::v4(target));
  unreach.resize(unreach.size() - 4);  // quote cut short
  EXPECT_EQ(classify(probe, unreach, &reply), ReplyVerdict::kInvalid);
}

// -S 198.18.0.200-198.18.0.203: every target is probed from one of the four, always the same
// one, all four are used, checksums hold, and a reply is valid only to the address its
// target was probed from.
TEST(SeveralSourceAddresses, EachTargetHasOneAndRepliesMustComeBackToIt) {
  ProbeParams params = test_params();
  const uint32_t first = parse_ipv4("198.18.0.200")->value;
  params.source_ips = {IpAddress::v4(first + 3), IpAddress::v4(first), IpAddress::v4(first + 1),
                       IpAddress::v4(first + 2)};  // any order
  TcpSynProbe probe(params);
  EXPECT_EQ(probe.reply_filter().local_first.value, first);
  EXPECT_EQ(probe.reply_filter().local_last.value, first + 3);
  std::map<uint32_t, int> used;
  for (uint32_t i = 0; i < 400; ++i) {
    const uint32_t target = parse_ipv4("198.19.0.0")->value + i;
    uint32_t source = 0;
    for (uint16_t port : {22, 80, 443})
      for (uint16_t probe_number : {0, 1}) {
        const ProbeTarget t{IpAddress::v4(target), port, probe_number};
        uint8_t buffer[128];
        FrameSlot slot{buffer, 0};
        probe.build(&t, 1, &slot);
        std::vector<uint8_t> frame(buffer, buffer + slot.length);
        expect_checksums_valid(frame);
        const uint32_t saddr = load_be32(frame.data() + kIpSrc);
        if (source == 0) source = saddr;
        ASSERT_EQ(saddr, source) << "a target is always probed from the same address";
      }
    ASSERT_GE(source, first);
    ASSERT_LE(source, first + 3);
    ++used[source];
    // Its reply: valid to that address, invalid to another of ours, unrelated elsewhere.
    const uint32_t ack = probe.sequence_for(IpAddress::v4(target), 80) + 1;
    const uint16_t port = probe.source_port_for(IpAddress::v4(target), 80, 0);
    Reply reply;
    const uint8_t synack = kTcpSyn | kTcpAckFlag;
    ASSERT_EQ(classify(probe, tcp_reply(target, 80, source, port, ack, synack), &reply),
              ReplyVerdict::kValid);
    EXPECT_EQ(reply.daddr.ipv4(), source);
    const uint32_t other = source == first ? first + 1 : first;
    EXPECT_EQ(classify(probe, tcp_reply(target, 80, other, port, ack, synack), &reply),
              ReplyVerdict::kInvalid);
    EXPECT_EQ(classify(probe, tcp_reply(target, 80, first + 4, port, ack, synack), &reply),
              ReplyVerdict::kUnrelated);
  }
  EXPECT_EQ(used.size(), 4u);
  for (const auto& [source, count] : used) EXPECT_GT(count, 50) << source;

  IcmpEchoProbe icmp(params);
  const uint32_t target = parse_ipv4("198.19.0.9")->value;
  const ProbeTarget t{IpAddress::v4(target), 0, 0};
  uint8_t buffer[128];
  FrameSlot slot{buffer, 0};
  icmp.build(&t, 1, &slot);
  std::vector<uint8_t> request(buffer, buffer + slot.length);
  expect_checksums_valid(request);
  std::vector<uint8_t> echo = request;
  const uint32_t source = load_be32(request.data() + kIpSrc);
  store_be32(echo.data() + kIpSrc, target);
  store_be32(echo.data() + kIpDst, source);
  echo[kIp + 20 + kIcmpType] = kIcmpEchoReply;
  Reply reply;
  EXPECT_EQ(classify(icmp, echo, &reply), ReplyVerdict::kValid);
  store_be32(echo.data() + kIpDst, source == first ? first + 1 : first);
  EXPECT_EQ(classify(icmp, echo, &reply), ReplyVerdict::kInvalid);
}

TEST(ProbeRegistry, KnowsBothModulesAndRejectsOthers) {
  EXPECT_TRUE(make_probe_module("tcp_synscan", test_params()));
  EXPECT_TRUE(make_probe_module("icmp_echoscan", test_params()));
  auto bad = make_probe_module("udp_magic", test_params());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "unknown probe module 'udp_magic' (known: tcp_synscan, icmp_echoscan, udp)");
}

}  // namespace
}  // namespace anyscan
