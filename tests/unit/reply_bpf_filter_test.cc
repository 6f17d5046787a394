// Runs the generated classic BPF program in a small interpreter of the opcodes it uses,
// so the kernel filter's logic is tested without a socket.
#include "engine/af_packet/reply_bpf_filter.h"

#include <gtest/gtest.h>

#include <vector>

#include "net/frame_layout.h"
#include "net/reply_filter_spec.h"
#include "support/test_frames.h"

namespace anyscan {
namespace {

using namespace frame;

ReplyFilterSpec tcp_spec(uint32_t us, uint16_t first, uint16_t last) {
  ReplyFilterSpec spec;
  spec.local_first = spec.local_last = Ipv4Address{us};
  spec.rules = {ReplyFilterRule{IpFamily::kIpv4, kProtoTcp, first, last, 0}};
  return spec;
}

// `protocol`: what the kernel's skb->protocol would be (the SKF_AD_PROTOCOL load of a
// cooked socket's filter).
uint32_t run(const std::vector<sock_filter>& program, const std::vector<uint8_t>& packet,
             uint16_t protocol = 0) {
  uint32_t a = 0, x = 0;
  auto load = [&](size_t offset, size_t bytes, bool* ok) -> uint32_t {
    if (offset + bytes > packet.size()) {
      *ok = false;
      return 0;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = v << 8 | packet[offset + i];
    return v;
  };
  for (size_t pc = 0; pc < program.size(); ++pc) {
    const sock_filter& i = program[pc];
    bool ok = true;
    switch (i.code) {
      case BPF_LD | BPF_H | BPF_ABS:
        a = i.k == static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL) ? protocol
                                                                       : load(i.k, 2, &ok);
        break;
      case BPF_LD | BPF_W | BPF_ABS:
        a = load(i.k, 4, &ok);
        break;
      case BPF_LD | BPF_B | BPF_ABS:
        a = load(i.k, 1, &ok);
        break;
      case BPF_LD | BPF_H | BPF_IND:
        a = load(x + i.k, 2, &ok);
        break;
      case BPF_LD | BPF_B | BPF_IND:
        a = load(x + i.k, 1, &ok);
        break;
      case BPF_LD | BPF_IMM:
        a = i.k;
        break;
      case BPF_MISC | BPF_TAX:
        x = a;
        break;
      case BPF_ALU | BPF_LSH | BPF_X:
        a = x < 32 ? a << x : 0;
        break;
      case BPF_LDX | BPF_B | BPF_MSH:
        x = (load(i.k, 1, &ok) & 0xf) * 4;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += (a == i.k) ? i.jt : i.jf;
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        pc += (a >= i.k) ? i.jt : i.jf;
        break;
      case BPF_JMP | BPF_JGT | BPF_K:
        pc += (a > i.k) ? i.jt : i.jf;
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += (a & i.k) ? i.jt : i.jf;
        break;
      case BPF_JMP | BPF_JA:
        pc += i.k;
        break;
      case BPF_ALU | BPF_SUB | BPF_K:
        a -= i.k;
        break;
      case BPF_RET | BPF_K:
        return i.k;
      default:
        ADD_FAILURE() << "unexpected opcode " << i.code;
        return 0;
    }
    if (!ok) return 0;  // the kernel drops on an out-of-bounds load
  }
  ADD_FAILURE() << "fell off the end";
  return 0;
}

// The same frame as a cooked (SOCK_DGRAM) socket's filter sees it: from the IP header, the
// EtherType as the packet's protocol.
uint32_t run_cooked(const std::vector<sock_filter>& program, const std::vector<uint8_t>& frame) {
  if (frame.size() < kEthHeaderBytes) return 0;  // no packet at all
  return run(program, std::vector<uint8_t>(frame.begin() + kEthHeaderBytes, frame.end()),
             load_be16(frame.data() + kEthType));
}

std::vector<uint8_t> packet(uint8_t protocol, uint32_t daddr, uint16_t dport, uint8_t ihl = 5,
                            uint16_t fragment = 0) {
  std::vector<uint8_t> f(14 + ihl * 4 + 20, 0);
  store_be16(f.data() + kEthType, kEthTypeIpv4);
  f[kIpVersionIhl] = static_cast<uint8_t>(0x40 | ihl);
  store_be16(f.data() + kIpFragment, fragment);
  f[kIpProtocol] = protocol;
  store_be32(f.data() + kIpDst, daddr);
  store_be16(f.data() + 14 + ihl * 4 + kTcpDstPort, dport);
  return f;
}

TEST(ReplyBpfFilter, TcpAcceptsOnlyOurAddressAndPortRange) {
  const uint32_t us = 0xc6120001u;
  const auto program = reply_bpf_filter(tcp_spec(us, 40000, 40999), 256);
  struct Case {
    const char* name;
    std::vector<uint8_t> frame;
    bool accepted;
  };
  std::vector<uint8_t> arp = packet(6, us, 40000);
  store_be16(arp.data() + kEthType, 0x0806);
  const Case cases[] = {
      {"first port", packet(6, us, 40000), true},
      {"last port", packet(6, us, 40999), true},
      {"IP options shift the port", packet(6, us, 40500, 7), true},
      {"below range", packet(6, us, 39999), false},
      {"above range", packet(6, us, 41000), false},
      {"other address", packet(6, us + 1, 40000), false},
      {"udp", packet(17, us, 40000), false},
      {"icmp", packet(1, us, 0), false},
      {"later fragment", packet(6, us, 40000, 5, 0x0010), false},
      {"arp", arp, false},
      {"truncated", std::vector<uint8_t>(20, 0), false},
  };
  // The cooked filter (-X/--iplayer) takes exactly the same packets.
  const auto cooked = reply_bpf_filter(tcp_spec(us, 40000, 40999), 256, true);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(run(program, c.frame), c.accepted ? 256u : 0u);
    EXPECT_EQ(run_cooked(cooked, c.frame), c.accepted ? 256u : 0u) << "cooked";
  }
}

TEST(ReplyBpfFilter, IcmpAcceptsIcmpToUs) {
  const uint32_t us = 0xc6120001u;
  const auto program = reply_bpf_filter(
      ReplyFilterSpec{
          true,
          Ipv4Address{us},
          Ipv4Address{us},
          false,
          {},
          {},
          {ReplyFilterRule{IpFamily::kIpv4, kProtoIcmp, 0, 0,
                           icmp_type_bit(kIcmpEchoReply) | icmp_type_bit(kIcmpUnreachable)}}},
      256);
  EXPECT_EQ(run(program, packet(1, us, 0)), 256u);
  EXPECT_EQ(run(program, packet(6, us, 0)), 0u);
  EXPECT_EQ(run(program, packet(1, us + 1, 0)), 0u);
}

}  // namespace
}  // namespace anyscan

namespace anyscan {
namespace {

// UDP with ICMP errors (the shape the udp module asks for), several source addresses, and
// an ICMP type outside the set.
TEST(ReplyBpfFilter, SeveralRulesAndAnAddressRange) {
  const uint32_t first = 0xc6120001u, last = 0xc6120008u;
  const ReplyFilterSpec spec{
      true,
      Ipv4Address{first},
      Ipv4Address{last},
      false,
      {},
      {},
      {ReplyFilterRule{IpFamily::kIpv4, kProtoUdp, 40000, 40999, 0},
       ReplyFilterRule{IpFamily::kIpv4, kProtoIcmp, 0, 0, icmp_type_bit(kIcmpUnreachable)}}};
  const auto program = reply_bpf_filter(spec, 256);
  auto icmp = [&](uint32_t daddr, uint8_t type) {
    auto f = packet(kProtoIcmp, daddr, 0);
    f[14 + 20 + kIcmpType] = type;
    return f;
  };
  struct Case {
    const char* name;
    std::vector<uint8_t> frame;
    bool accepted;
  };
  const Case cases[] = {
      {"udp to first address", packet(kProtoUdp, first, 40000), true},
      {"udp to last address", packet(kProtoUdp, last, 40999), true},
      {"udp below the range of addresses", packet(kProtoUdp, first - 1, 40000), false},
      {"udp above the range of addresses", packet(kProtoUdp, last + 1, 40000), false},
      {"udp to another port", packet(kProtoUdp, first, 53), false},
      {"tcp to our port", packet(kProtoTcp, first, 40000), false},
      {"icmp unreachable", icmp(last, kIcmpUnreachable), true},
      {"icmp echo reply", icmp(first, kIcmpEchoReply), false},
      {"icmp type above 31", icmp(first, 200), false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(run(program, c.frame), c.accepted ? 256u : 0u);
  }
}

// The IPv6 branch: our addresses (the first 96 bits and a range of the last 32), the rules
// of the IPv6 family at the fixed upper-layer offset, extension headers by address alone;
// IPv4 frames by the IPv4 rules only; an IPv6-only filter takes no IPv4 frame.
TEST(ReplyBpfFilter, Ipv6AdmitsOurAddressesRulesAndExtensionHeaders) {
  using testing_support::ipv6_packet;
  ReplyFilterSpec spec;
  spec.local_first = spec.local_last = Ipv4Address{0xc6120001u};
  spec.has_ipv6 = true;
  spec.local6_first = *parse_ip("2001:2::1");
  spec.local6_last = *parse_ip("2001:2::4");
  spec.rules = {
      ReplyFilterRule{IpFamily::kIpv4, kProtoTcp, 40000, 40999, 0},
      ReplyFilterRule{IpFamily::kIpv6, kProtoTcp, 40000, 40999, 0},
      ReplyFilterRule{IpFamily::kIpv6, kProtoIcmpv6, 0, 0,
                      icmp6_type_bit(kIcmp6EchoReply) | icmp6_type_bit(kIcmp6Unreachable)}};
  auto frame6 = [](const char* to, uint8_t protocol, std::vector<uint8_t> upper,
                   testing_support::Ipv6Chain chain = {}) {
    std::vector<uint8_t> f(14, 0);
    store_be16(f.data() + kEthType, kEthTypeIpv6);
    const auto packet = ipv6_packet("2001:2::99", to, protocol, upper, chain);
    f.insert(f.end(), packet.begin(), packet.end());
    return f;
  };
  auto tcp = [](uint16_t port) {
    std::vector<uint8_t> t(20, 0);
    store_be16(t.data() + kTcpDstPort, port);
    return t;
  };
  auto icmp6 = [](uint8_t type) { return std::vector<uint8_t>{type, 0, 0, 0, 0, 0, 0, 0}; };
  struct Case {
    const char* name;
    std::vector<uint8_t> frame;
    bool accepted;
  };
  const Case cases[] = {
      {"tcp to us, first port", frame6("2001:2::1", kProtoTcp, tcp(40000)), true},
      {"tcp to our last address, last port", frame6("2001:2::4", kProtoTcp, tcp(40999)), true},
      {"below the port range", frame6("2001:2::1", kProtoTcp, tcp(39999)), false},
      {"above the address range", frame6("2001:2::5", kProtoTcp, tcp(40000)), false},
      {"another /96", frame6("2001:2:0:1::1", kProtoTcp, tcp(40000)), false},
      {"udp", frame6("2001:2::1", kProtoUdp, tcp(40000)), false},
      {"echo reply", frame6("2001:2::1", kProtoIcmpv6, icmp6(kIcmp6EchoReply)), true},
      {"unreachable", frame6("2001:2::1", kProtoIcmpv6, icmp6(kIcmp6Unreachable)), true},
      {"neighbour advertisement", frame6("2001:2::1", kProtoIcmpv6, icmp6(136)), false},
      {"router advertisement", frame6("2001:2::1", kProtoIcmpv6, icmp6(134)), false},
      {"mld report to us", frame6("2001:2::1", kProtoIcmpv6, icmp6(143)), false},
      {"type 200", frame6("2001:2::1", kProtoIcmpv6, icmp6(200)), false},
      {"hop-by-hop first", frame6("2001:2::1", kProtoTcp, tcp(1), {{kProtoHopByHop}}), true},
      {"fragment", frame6("2001:2::1", kProtoTcp, tcp(1), {{kProtoFragment}, 9}), true},
      {"extension headers to another address",
       frame6("2001:2::9", kProtoTcp, tcp(40000), {{kProtoDestinationOptions}}), false},
      {"ipv4 tcp to us", packet(6, 0xc6120001u, 40000), true},
      {"ipv4 icmp to us (no IPv4 icmp rule)", packet(1, 0xc6120001u, 0), false},
  };
  const auto program = reply_bpf_filter(spec, 256);
  const auto cooked = reply_bpf_filter(spec, 256, true);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(run(program, c.frame), c.accepted ? 256u : 0u);
    EXPECT_EQ(run_cooked(cooked, c.frame), c.accepted ? 256u : 0u) << "cooked";
  }
  auto truncated = frame6("2001:2::1", kProtoTcp, tcp(40000));
  truncated.resize(14 + 40);  // the port beyond the capture
  EXPECT_EQ(run(program, truncated), 0u);
  // IPv6 only: IPv4 frames to an address that would have matched are not taken.
  spec.has_ipv4 = false;
  spec.rules.erase(spec.rules.begin());
  const auto only6 = reply_bpf_filter(spec, 256);
  EXPECT_EQ(run(only6, packet(6, 0xc6120001u, 40000)), 0u);
  EXPECT_EQ(run(only6, frame6("2001:2::1", kProtoTcp, tcp(40000))), 256u);
}

}  // namespace
}  // namespace anyscan
