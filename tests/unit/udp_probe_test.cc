// The udp module: its frames byte for byte (golden, one per built-in payload) with checksums
// recomputed in full; replies echoing the identifier accepted, forged ones rejected; ICMP
// unreachables matched by the datagram they quote; the payload table, --probe-args and the
// payload file. tests/unit/udp_payloads_decode_test.py decodes the same payloads with
// independent parsers (dnspython, pysnmp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "net/checksum.h"
#include "net/frame_layout.h"
#include "probe/udp_payloads.h"
#include "probe/udp_probe.h"
#include "probe/validation_cookie.h"
#include "support/test_frames.h"

namespace anyscan {
namespace {

using namespace frame;

constexpr uint32_t kUs = 0xc6120001;      // 198.18.0.1
constexpr uint32_t kTarget = 0xc6120005;  // 198.18.0.5

using testing_support::hex;

ProbeParams test_params() { return testing_support::test_probe_params(); }

std::vector<uint8_t> build(const UdpProbe& probe, uint32_t daddr, uint16_t dport,
                           uint16_t probe_number = 0) {
  std::vector<uint8_t> buffer(2048);
  FrameSlot slot{buffer.data(), 0};
  const ProbeTarget target{IpAddress::v4(daddr), dport, probe_number};
  probe.build(&target, 1, &slot);
  buffer.resize(slot.length);
  return buffer;
}

// Full recomputation, as the target's kernel checks: the IP header and the UDP datagram
// with its pseudo-header each sum to 0xffff, and the lengths agree with the frame.
void expect_valid_udp(const std::vector<uint8_t>& f) {
  ASSERT_GE(f.size(), 42u);
  EXPECT_EQ(load_be16(f.data() + kIpTotalLength), f.size() - kIp);
  EXPECT_EQ(checksum_fold(checksum_partial(f.data() + kIp, 20)), 0xffff) << "IP header checksum";
  const auto udp_bytes = static_cast<uint16_t>(f.size() - 34);
  EXPECT_EQ(load_be16(f.data() + 34 + 4), udp_bytes);
  EXPECT_NE(load_be16(f.data() + 34 + 6), 0) << "a UDP checksum of 0 means none";
  const uint32_t pseudo = pseudo_header_sum(load_be32(f.data() + kIpSrc),
                                            load_be32(f.data() + kIpDst), kProtoUdp, udp_bytes);
  EXPECT_EQ(checksum_fold(checksum_partial(f.data() + 34, udp_bytes, pseudo)), 0xffff)
      << "UDP checksum";
}

// An Ethernet/IPv4/UDP frame from (saddr, sport) to (daddr, dport), checksums left 0.
std::vector<uint8_t> udp_frame(uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport,
                               const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> f(42 + payload.size(), 0);
  store_be16(f.data() + kEthType, kEthTypeIpv4);
  f[kIpVersionIhl] = 0x45;
  store_be16(f.data() + kIpTotalLength, static_cast<uint16_t>(28 + payload.size()));
  f[kIpTtl] = 61;
  f[kIpProtocol] = kProtoUdp;
  store_be32(f.data() + kIpSrc, saddr);
  store_be32(f.data() + kIpDst, daddr);
  store_be16(f.data() + 34, sport);
  store_be16(f.data() + 36, dport);
  store_be16(f.data() + 38, static_cast<uint16_t>(8 + payload.size()));
  std::copy(payload.begin(), payload.end(), f.begin() + 42);
  return f;
}

// An ICMP destination unreachable from `responder` to us quoting `probe` (its IP header
// and the first `quoted_payload` bytes past it).
std::vector<uint8_t> icmp_unreachable(uint32_t responder, uint8_t code,
                                      const std::vector<uint8_t>& probe, size_t quoted = 28) {
  std::vector<uint8_t> f(34 + 8, 0);
  store_be16(f.data() + kEthType, kEthTypeIpv4);
  f[kIpVersionIhl] = 0x45;
  f[kIpTtl] = 60;
  f[kIpProtocol] = kProtoIcmp;
  store_be32(f.data() + kIpSrc, responder);
  store_be32(f.data() + kIpDst, load_be32(probe.data() + kIpSrc));
  f[34] = kIcmpUnreachable;
  f[35] = code;
  f.insert(f.end(), probe.begin() + kIp,
           probe.begin() + kIp + std::min(quoted, probe.size() - kIp));
  store_be16(f.data() + kIpTotalLength, static_cast<uint16_t>(f.size() - kIp));
  return f;
}

struct Verdict {
  ReplyVerdict verdict;
  Reply reply;
};
Verdict classify(const UdpProbe& probe, const std::vector<uint8_t>& f) {
  Verdict v{};
  const FrameView view{f.data(), static_cast<uint32_t>(f.size())};
  probe.classify(&view, 1, &v.verdict, &v.reply);
  return v;
}

UdpProbe builtin_probe(const ProbeParams& params = test_params()) {
  return UdpProbe(params, std::make_shared<const UdpPayloadTable>(UdpPayloadTable::builtin()));
}

// Golden frames to 198.18.0.5 with the test key: any change to a payload, the cookie
// placement or a checksum shows here byte for byte.
const std::map<uint16_t, std::string>& golden() {
  static const std::map<uint16_t, std::string> frames = {
      {53,
       "02000000000202000000000108004500003a35000000ff11fa87c6120001c61200059cb6003500264abd"
       "6a29000000010000000000000776657273696f6e0462696e640000100003"},
      {111,
       "020000000002020000000001080045000044fb630000ff11341ac6120001c61200059cde006f00308d44"
       "fb63c6c70000000000000002000186a0000000020000000000000000000000000000000000000000"},
      {123,
       "02000000000202000000000108004500004c53d90000ff11db9cc6120001c61200059df5007b0038d6ec"
       "2300000000000000000000000000000000000000000000000000000000000000000000000000000078a7"
       "000553d90e70"},
      {137,
       "02000000000202000000000108004500004e05610000ff112a13c6120001c61200059f620089003a1326"
       "82040000000100000000000020434b414141414141414141414141414141414141414141414141414141"
       "4141410000210001"},
      {161,
       "02000000000202000000000108004500004793970000ff119be3c6120001c61200059d8e00a10033aeac"
       "302902010104067075626c6963a01c0204539784c1020100020100300e300c06082b0601020101010005"
       "00"},
      {1900,
       "02000000000202000000000108004500007a7de00000ff11b167c6120001c6120005a01a076c00667fc4"
       "4d2d534541524348202a20485454502f312e310d0a484f53543a203233392e3235352e3235352e323530"
       "3a313930300d0a4d414e3a2022737364703a646973636f766572220d0a4d583a20310d0a53543a207373"
       "64703a616c6c0d0a0d0a"},
      {5060,
       "0200000000020200000000010800450001444c910000ff11e1ecc6120001c61200059d4913c40130f141"
       "4f5054494f4e53207369703a616e797363616e2e696e76616c6964205349502f322e300d0a5669613a20"
       "5349502f322e302f55445020616e797363616e2e696e76616c69643a353036303b6272616e63683d7a39"
       "684734624b2d616e797363616e3b72706f72740d0a4d61782d466f7277617264733a2037300d0a46726f"
       "6d3a203c7369703a616e797363616e40616e797363616e2e696e76616c69643e3b7461673d616e797363"
       "616e0d0a546f3a203c7369703a616e797363616e2e696e76616c69643e0d0a43616c6c2d49443a20616e"
       "797363616e40616e797363616e2e696e76616c69640d0a435365713a2031204f5054494f4e530d0a4163"
       "636570743a206170706c69636174696f6e2f7364700d0a436f6e74656e742d4c656e6774683a20300d0a"
       "0d0a"},
      {5683,
       "020000000002020000000001080045000031481b0000ff11e775c6120001c61200059e3a1633001df73f"
       "4001fcbabb2e77656c6c2d6b6e6f776e04636f7265"},
      {11211,
       "02000000000202000000000108004500002ded240000ff114270c6120001c61200059d6a2bcb00195d52"
       "82b200000001000076657273696f6e0d0a"},
      {9, "02000000000202000000000108004500001c1c620000ff111344c6120001c61200059fcf00090008d3da"},
  };
  return frames;
}

TEST(UdpProbe, FramesMatchGoldenBytesWithValidChecksums) {
  const UdpProbe probe = builtin_probe();
  std::string actual;
  for (uint16_t port : {53, 111, 123, 137, 161, 1900, 5060, 5683, 11211, 9}) {
    SCOPED_TRACE(port);
    const auto f = build(probe, kTarget, port);
    expect_valid_udp(f);
    EXPECT_EQ(f.size(), 42 + probe.payloads().for_port(port).bytes.size());
    actual += "{" + std::to_string(port) + ", \"" + hex(f.data(), f.size()) + "\"},\n";
    const auto it = golden().find(port);
    if (it != golden().end()) {
      EXPECT_EQ(hex(f.data(), f.size()), it->second);
    }
  }
  EXPECT_EQ(golden().size(), 10u) << actual;
}

TEST(UdpProbe, ChecksumsHoldForManyTargetsPortsAndPayloadLengths) {
  std::mt19937 random(7);
  for (size_t length : {0, 1, 2, 3, 17, 100, 1471, 1472}) {
    std::vector<uint8_t> bytes(length);
    for (auto& b : bytes) b = static_cast<uint8_t>(random());
    auto table = UdpPayloadTable::builtin();
    table.assign(1000, 2000, UdpPayload{"hex", bytes, UdpEcho::kNone, 0, "test"});
    const UdpProbe probe(test_params(), std::make_shared<const UdpPayloadTable>(table));
    for (int i = 0; i < 200; ++i) {
      const uint32_t daddr = 0xc6120000u | (random() & 0x1ffff);
      for (uint16_t port : {uint16_t(1000 + random() % 1001), uint16_t(53), uint16_t(161),
                            uint16_t(123), uint16_t(random())})
        expect_valid_udp(build(probe, daddr, port, static_cast<uint16_t>(i % 2)));
    }
  }
}

// A reply as the service would send it: `answer` with the request's identifier copied to
// where the protocol echoes it.
std::vector<uint8_t> reply_to(const std::vector<uint8_t>& probe_frame) {
  const uint16_t sport = load_be16(probe_frame.data() + 34);
  const uint16_t dport = load_be16(probe_frame.data() + 36);
  const std::vector<uint8_t> request(probe_frame.begin() + 42, probe_frame.end());
  std::vector<uint8_t> answer;
  switch (dport) {
    case 53:
    case 137:
    case 11211:
    case 111:
      answer = request;  // same ID/XID in front; the rest does not matter
      answer[2] |= 0x80;
      break;
    case 5683:
      answer = {0x60, 0x45, request[2], request[3]};  // ACK 2.05 with our message ID
      break;
    case 123: {
      answer.assign(48, 0);
      answer[0] = 0x24;  // server mode
      std::copy(request.begin() + 40, request.begin() + 48, answer.begin() + 24);
      break;
    }
    case 161: {
      // GetResponse with a longer community and a long-form message length.
      answer = {0x30, 0x81, 0x00, 0x02, 0x01, 0x01, 0x04, 0x08, 'p',  'u',
                'b',  'l',  'i',  'c',  'x',  'y',  0xa2, 0x0e, 0x02, 0x04};
      answer.insert(answer.end(), request.begin() + 17, request.begin() + 21);
      answer.insert(answer.end(), {0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x00});
      answer[2] = static_cast<uint8_t>(answer.size() - 3);
      break;
    }
    default:
      answer = {'h', 'i'};
  }
  return udp_frame(load_be32(probe_frame.data() + kIpDst), dport,
                   load_be32(probe_frame.data() + kIpSrc), sport, answer);
}

TEST(UdpProbe, AcceptsEveryServiceReplyThatEchoesItsIdentifier) {
  const UdpProbe probe = builtin_probe();
  for (uint16_t port : {53, 111, 123, 137, 161, 1900, 5060, 5683, 11211, 9}) {
    SCOPED_TRACE(port);
    const auto reply = reply_to(build(probe, kTarget, port, 1));
    const Verdict v = classify(probe, reply);
    ASSERT_EQ(v.verdict, ReplyVerdict::kValid);
    EXPECT_EQ(v.reply.classification, Classification::kUdp);
    EXPECT_EQ(v.reply.saddr, IpAddress::v4(kTarget));
    EXPECT_EQ(v.reply.sport, port);
    EXPECT_EQ(v.reply.udp_length, reply.size() - 34);
    EXPECT_EQ(v.reply.data_length, std::min<size_t>(reply.size() - 42, kReplyDataBytes));
    EXPECT_EQ(std::memcmp(v.reply.data, reply.data() + 42, v.reply.data_length), 0);
    EXPECT_EQ(v.reply.ttl, 61);
  }
}

TEST(UdpProbe, RejectsRepliesWithAnotherIdentifierPortOrAddress) {
  const UdpProbe probe = builtin_probe();
  for (uint16_t port : {53, 111, 123, 137, 161, 5683, 11211}) {
    SCOPED_TRACE(port);
    const auto genuine = reply_to(build(probe, kTarget, port));
    // The echoed identifier off by one bit, wherever it is.
    bool any_rejected = false;
    for (size_t at = 42; at < genuine.size(); ++at) {
      auto forged = genuine;
      forged[at] ^= 0x01;
      if (classify(probe, forged).verdict == ReplyVerdict::kInvalid) any_rejected = true;
    }
    EXPECT_TRUE(any_rejected) << "no byte of the payload is checked";
    // The right identifier to the wrong one of our ports.
    auto wrong_port = genuine;
    store_be16(wrong_port.data() + 36, static_cast<uint16_t>(load_be16(genuine.data() + 36) + 2));
    EXPECT_EQ(classify(probe, wrong_port).verdict, ReplyVerdict::kInvalid);
    // From another address (a target not probed with this cookie).
    auto other = genuine;
    store_be32(other.data() + kIpSrc, kTarget + 1);
    EXPECT_EQ(classify(probe, other).verdict, ReplyVerdict::kInvalid);
    // Cut short of the identifier.
    auto cut = genuine;
    cut.resize(42 + 1);
    store_be16(cut.data() + 38, 9);
    store_be16(cut.data() + kIpTotalLength, 29);
    EXPECT_EQ(classify(probe, cut).verdict, ReplyVerdict::kInvalid);
  }
  // Not to our ports, not to our address, not UDP: none of ours.
  auto genuine = reply_to(build(probe, kTarget, 53));
  store_be16(genuine.data() + 36, 39999);
  EXPECT_EQ(classify(probe, genuine).verdict, ReplyVerdict::kUnrelated);
  genuine = reply_to(build(probe, kTarget, 53));
  store_be32(genuine.data() + kIpDst, kUs + 1);
  EXPECT_EQ(classify(probe, genuine).verdict, ReplyVerdict::kUnrelated);
}

TEST(UdpProbe, IcmpUnreachableMatchesTheQuotedProbe) {
  const UdpProbe probe = builtin_probe();
  const auto sent = build(probe, kTarget, 9999);
  // The target's own port unreachable: closed.
  Verdict v = classify(probe, icmp_unreachable(kTarget, 3, sent));
  ASSERT_EQ(v.verdict, ReplyVerdict::kValid);
  EXPECT_EQ(v.reply.classification, Classification::kIcmpUnreach);
  EXPECT_FALSE(classification_success(v.reply.classification));
  EXPECT_EQ(v.reply.saddr, IpAddress::v4(kTarget));
  EXPECT_EQ(v.reply.sport, 9999);
  EXPECT_EQ(v.reply.icmp_type, 3);
  EXPECT_EQ(v.reply.icmp_code, 3);
  EXPECT_EQ(v.reply.icmp_responder, IpAddress::v4(kTarget));
  // A router's host unreachable (filtered): the result is still the target's.
  v = classify(probe, icmp_unreachable(0xc6120101, 1, sent));
  ASSERT_EQ(v.verdict, ReplyVerdict::kValid);
  EXPECT_EQ(v.reply.saddr, IpAddress::v4(kTarget));
  EXPECT_EQ(v.reply.icmp_code, 1);
  EXPECT_EQ(v.reply.icmp_responder, IpAddress::v4(0xc6120101u));
  // With the whole probe quoted (Linux quotes up to 576 bytes).
  EXPECT_EQ(classify(probe, icmp_unreachable(kTarget, 3, sent, 600)).verdict, ReplyVerdict::kValid);
  // Quoting a probe whose source port was changed: forged.
  auto altered = sent;
  store_be16(altered.data() + 34, static_cast<uint16_t>(load_be16(sent.data() + 34) + 3));
  EXPECT_EQ(classify(probe, icmp_unreachable(kTarget, 3, altered)).verdict, ReplyVerdict::kInvalid);
  // Quoting a probe with another IP identification: forged.
  altered = sent;
  store_be16(altered.data() + kIpId, static_cast<uint16_t>(load_be16(sent.data() + kIpId) ^ 1));
  EXPECT_EQ(classify(probe, icmp_unreachable(kTarget, 3, altered)).verdict, ReplyVerdict::kInvalid);
  // Quoting a probe to another target: forged.
  altered = sent;
  store_be32(altered.data() + kIpDst, kTarget + 7);
  EXPECT_EQ(classify(probe, icmp_unreachable(kTarget, 3, altered)).verdict, ReplyVerdict::kInvalid);
  // Quoting too little of it: invalid; quoting someone else's datagram: unrelated.
  EXPECT_EQ(classify(probe, icmp_unreachable(kTarget, 3, sent, 24)).verdict,
            ReplyVerdict::kInvalid);
  altered = sent;
  store_be32(altered.data() + kIpSrc, kUs + 9);
  auto frame = icmp_unreachable(kTarget, 3, altered);
  store_be32(frame.data() + kIpDst, kUs);
  EXPECT_EQ(classify(probe, frame).verdict, ReplyVerdict::kUnrelated);
  altered = sent;
  altered[kIpProtocol] = kProtoTcp;
  EXPECT_EQ(classify(probe, icmp_unreachable(kTarget, 3, altered)).verdict,
            ReplyVerdict::kUnrelated);
  // Other ICMP types are not replies of this module.
  frame = icmp_unreachable(kTarget, 3, sent);
  frame[34] = kIcmpTimeExceeded;
  EXPECT_EQ(classify(probe, frame).verdict, ReplyVerdict::kUnrelated);
}

TEST(UdpProbe, KernelFiltersAdmitOurPortsAndUnreachablesOnly) {
  const UdpProbe probe = builtin_probe();
  const ReplyFilterSpec spec = probe.reply_filter();
  ASSERT_EQ(spec.rules.size(), 2u);
  EXPECT_EQ(spec.rules[0], (ReplyFilterRule{IpFamily::kIpv4, kProtoUdp, 40000, 40999, 0}));
  EXPECT_EQ(spec.rules[1], (ReplyFilterRule{IpFamily::kIpv4, kProtoIcmp, 40000, 40999,
                                            icmp_type_bit(kIcmpUnreachable)}));
  EXPECT_EQ(probe.frame_bytes(), 42 + 296u) << "the SIP payload is the largest built-in";
}

TEST(UdpPayloads, ProbeArgsGiveOnePayloadForEveryPort) {
  auto text = parse_udp_payload("text:GET / HTTP/1.0\\r\\n", false);
  ASSERT_TRUE(text);
  EXPECT_EQ(std::string(text->bytes.begin(), text->bytes.end()), "GET / HTTP/1.0\\r\\n")
      << "zmap's text: is taken as written";
  auto hex_payload = parse_udp_payload("hex:00ffA0", false);
  ASSERT_TRUE(hex_payload);
  EXPECT_EQ(hex_payload->bytes, (std::vector<uint8_t>{0x00, 0xff, 0xa0}));
  for (const char* bad : {"hex:0", "hex:zz", "tex:x", "nothing", "builtin:dns", "file:"})
    EXPECT_FALSE(parse_udp_payload(bad, false)) << bad;
  EXPECT_FALSE(parse_udp_payload("hex:" + std::string(2 * (kMaxUdpPayloadBytes + 1), 'a'), false));
  EXPECT_TRUE(parse_udp_payload("hex:" + std::string(2 * kMaxUdpPayloadBytes, 'a'), false));

  auto table = load_udp_payloads("hex:abcd", "", nullptr);
  ASSERT_TRUE(table);
  for (uint16_t port : {1, 53, 161, 65535})
    EXPECT_EQ(table->for_port(port).bytes, (std::vector<uint8_t>{0xab, 0xcd})) << port;
}

TEST(UdpPayloads, FileExtendsAndOverridesTheTableAndSaysSo) {
  UdpPayloadTable table = UdpPayloadTable::builtin();
  std::vector<std::string> notices;
  ASSERT_TRUE(
      apply_udp_payload_file("# comment\n"
                             "\n"
                             "53 text:hello\\r\\n\\x00\n"
                             "7000-7002 hex:0102\r\n"
                             "  8053\tbuiltin:dns  \n",
                             "p.conf", table, &notices));
  EXPECT_EQ(table.for_port(53).bytes,
            (std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o', '\r', '\n', 0}));
  EXPECT_EQ(table.for_port(53).origin, "p.conf:3");
  EXPECT_EQ(table.for_port(7001).bytes, (std::vector<uint8_t>{1, 2}));
  EXPECT_EQ(table.for_port(8053).echo, UdpEcho::kId16);
  EXPECT_EQ(table.for_port(161).name, "snmp");
  EXPECT_TRUE(table.for_port(7003).bytes.empty());
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0], "p.conf:3: text payload overrides the dns payload from built-in");

  struct Bad {
    std::string_view text;
    const char* message;
  };
  for (const Bad& bad : {Bad{"53\n", "p.conf:1: expected 'PORT[-PORT] PAYLOAD'"},
                         Bad{"0 hex:00\n", "p.conf:1: '0' is not a port"},
                         Bad{"9-8 hex:00\n", "p.conf:1: '9-8' is not a port"},
                         Bad{"70000 hex:00\n", "p.conf:1: '70000' is not a port"},
                         Bad{"\n5 hex:0g\n", "p.conf:2: hex: '0g' is not"},
                         Bad{"5 text:\\q\n", "p.conf:1: text: unknown escape"},
                         Bad{"5 builtin:nope\n", "p.conf:1: builtin:nope: no such built-in"},
                         Bad{"5 hex:00\n1-9 hex:01\n",
                             "p.conf:2: port 5 already has a payload "
                             "from p.conf:1"},
                         Bad{std::string_view("5 hex:00\0", 9), "p.conf: holds a NUL byte"}}) {
    UdpPayloadTable t = UdpPayloadTable::builtin();
    auto applied = apply_udp_payload_file(bad.text, "p.conf", t, nullptr);
    ASSERT_FALSE(applied) << bad.text;
    EXPECT_EQ(applied.error().code, ExitCode::kDataErr) << bad.text;
    EXPECT_EQ(applied.error().message.rfind(bad.message, 0), 0u) << applied.error().message;
  }
}

TEST(UdpPayloads, FilesAreReadWithLimits) {
  const std::string dir = ::testing::TempDir() + "udp-payloads-" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("mkdir -p '" + dir + "'").c_str()), 0);
  std::ofstream(dir + "/payload.bin") << std::string("\x01\x02\x03", 3);
  std::ofstream(dir + "/big.bin") << std::string(kMaxUdpPayloadBytes + 1, 'x');
  std::ofstream(dir + "/payloads.conf") << "9 file:" << dir << "/payload.bin\n";
  auto table = load_udp_payloads("", dir + "/payloads.conf", nullptr);
  ASSERT_TRUE(table) << table.error().message;
  EXPECT_EQ(table->for_port(9).bytes, (std::vector<uint8_t>{1, 2, 3}));
  auto big = load_udp_payloads("file:" + dir + "/big.bin", "", nullptr);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ExitCode::kDataErr);
  auto directory = load_udp_payloads("file:" + dir, "", nullptr);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code, ExitCode::kDataErr);
  auto missing = load_udp_payloads("", dir + "/none.conf", nullptr);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ExitCode::kNoInput);
  EXPECT_NE(missing.error().message.find("--probe-payloads"), std::string::npos);
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace anyscan
