// Addresses of both families: RFC 4291 text in, RFC 5952 text out, checked against the
// examples of both RFCs and against glibc's inet_pton/inet_ntop on random addresses; the
// refusals; prefixes; and the sets and counts built on them.
#include "net/ip_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>

#include "target/address_set.h"
#include "target/target_parser.h"

namespace anyscan {
namespace {

std::string canonical(const char* text) {
  auto parsed = parse_ip(text);
  EXPECT_TRUE(parsed) << text << ": " << parsed.error().message;
  return parsed ? to_string(*parsed) : "";
}

TEST(IpAddress, ReadsEveryRfc4291FormAndWritesRfc5952) {
  const std::pair<const char*, const char*> cases[] = {
      // RFC 4291 section 2.2's three forms.
      {"2001:DB8:0:0:8:800:200C:417A", "2001:db8::8:800:200c:417a"},
      {"2001:db8:0000:0000:0008:0800:200c:417a", "2001:db8::8:800:200c:417a"},
      {"FF01::101", "ff01::101"},
      {"::1", "::1"},
      {"::", "::"},
      {"0:0:0:0:0:0:13.1.68.3", "::d01:4403"},
      // RFC 5952 section 4: leading zeros, the longest run, the first of equal runs, no
      // "::" for one group, lower case.
      {"2001:0db8::0001", "2001:db8::1"},
      {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      {"2001:db8::aaaa:0:0:1", "2001:db8::aaaa:0:0:1"},
      {"1::", "1::"},
      {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
      {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
      {"2001:2::", "2001:2::"},
      {"198.18.0.1", "198.18.0.1"},
  };
  for (const auto& [in, out] : cases) {
    SCOPED_TRACE(in);
    EXPECT_EQ(canonical(in), out);
  }
  EXPECT_TRUE(parse_ip("198.18.0.1")->is_ipv4());
  EXPECT_EQ(parse_ip("198.18.0.1")->ipv4(), 0xc6120001u);
  EXPECT_FALSE(parse_ip("2001:2::1")->is_ipv4());
  EXPECT_EQ(parse_ip("2001:2::1")->family(), IpFamily::kIpv6);
}

TEST(IpAddress, AgreesWithGlibcOnRandomAddresses) {
  std::mt19937_64 random(5952);
  for (int i = 0; i < 20000; ++i) {
    // Groups are zero half of the time, so runs of every length occur.
    uint8_t bytes[16];
    for (int g = 0; g < 8; ++g) {
      const uint16_t v = random() % 2 ? 0 : static_cast<uint16_t>(random() >> (random() % 16));
      bytes[2 * g] = static_cast<uint8_t>(v >> 8);
      bytes[2 * g + 1] = static_cast<uint8_t>(v);
    }
    const IpAddress address = IpAddress::from_bytes(bytes);
    // glibc writes the first 96 bits zero (or ::ffff:0:0/96) as a dotted quad: not ours.
    if ((address.value >> 32) == 0 || address.is_ipv4()) continue;
    char theirs[INET6_ADDRSTRLEN];
    ASSERT_NE(::inet_ntop(AF_INET6, bytes, theirs, sizeof theirs), nullptr);
    const std::string ours = to_string(address);
    ASSERT_EQ(ours, theirs);
    // And back: ours reads what glibc writes, glibc reads what we write.
    ASSERT_EQ(*parse_ip(theirs), address) << theirs;
    uint8_t again[16];
    ASSERT_EQ(::inet_pton(AF_INET6, ours.c_str(), again), 1) << ours;
    ASSERT_EQ(IpAddress::from_bytes(again), address);
    char buffer[kIpTextBytes];
    ASSERT_LT(format_ip(address, buffer), kIpTextBytes);
  }
}

TEST(IpAddress, RefusesWhatIsNotExactlyOneAddressAndSaysWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"fe80::1%eth0", "zone id"},
      {"[2001:2::1]", "brackets"},
      {"::ffff:198.18.0.1", "IPv4-mapped"},
      {"::ffff:c612:1", "IPv4-mapped"},
      {"2001:2::1::2", "'::' more than once"},
      {"2001:2:3:4:5:6:7:8:9", "more than 8 groups"},
      {"1:2:3:4:5:6:7:8::", "stands for no group"},
      {"1:2:3:4:5:6:7", "fewer than 8 groups"},
      {"2001:2::12345", "more than 4 hex digits"},
      {"2001:2::g", "not a hex digit"},
      {":2001:2::1", "single ':'"},
      {"2001:2::1:", "single ':'"},
      {"2001:2:::1", "empty group"},
      {"1:2:3:4:5:6:7:8:1.2.3.4", "more than 8 groups"},
      {"::1.2.3.256", "dotted quad"},
      {"1:2:3:4:5:6:7:1.2.3.4", "more than 8 groups"},
      {"", "empty"},
      {"198.18.0.01", "IPv4"},
      {"1.2.3", "IPv4"},
  };
  for (const auto& [text, why] : cases) {
    SCOPED_TRACE(text);
    auto parsed = parse_ip(text);
    ASSERT_FALSE(parsed) << to_string(*parsed);
    EXPECT_NE(parsed.error().message.find(why), std::string::npos) << parsed.error().message;
    EXPECT_EQ(parsed.error().code, ExitCode::kDataErr);
  }
  // inet_pton agrees that these are not addresses (the zone, bracket and mapped refusals
  // are ours: glibc takes the mapped form).
  for (const char* text : {"2001:2::1::2", "1:2:3:4:5:6:7", "2001:2::12345", ":2001:2::1"}) {
    uint8_t out[16];
    EXPECT_EQ(::inet_pton(AF_INET6, text, out), 0) << text;
  }
}

TEST(IpAddress, PrefixesOfEachFamily) {
  const IpAddress a = *parse_ip("2001:2:0:77::1234");
  EXPECT_EQ(to_string(prefix_first(a, 64)), "2001:2:0:77::");
  EXPECT_EQ(to_string(prefix_last(a, 64)), "2001:2:0:77:ffff:ffff:ffff:ffff");
  EXPECT_EQ(to_string(prefix_first(a, 0)), "::");
  EXPECT_EQ(prefix_last(a, 0).value, ~uint128_t{0});
  EXPECT_EQ(prefix_first(a, 128), a);
  const IpAddress b = *parse_ip("198.18.7.9");
  EXPECT_EQ(to_string(prefix_first(b, 16)), "198.18.0.0");
  EXPECT_EQ(to_string(prefix_last(b, 16)), "198.18.255.255");
  EXPECT_EQ(to_string(prefix_last(b, 0)), "255.255.255.255") << "IPv4 prefixes stay IPv4";
}

TEST(AddressSet, HoldsBothFamiliesWithoutMixingThem) {
  AddressSet set =
      *parse_target_list("198.18.0.0/30\n2001:2::/126\n2001:2::8-2001:2::9\n198.19.0.1\n", "mixed");
  EXPECT_EQ(set.count(), 4u + 4 + 2 + 1);
  EXPECT_EQ(set.count(IpFamily::kIpv4), 5u);
  EXPECT_EQ(set.count(IpFamily::kIpv6), 6u);
  for (uint64_t i = 0; i < set.size(); ++i) EXPECT_EQ(set.index_of(set.at(i)), i);
  // The IPv6 addresses below ::ffff:0:0 sort before the IPv4 ones, 2001:2:: after.
  EXPECT_EQ(to_string(set.at(0)), "198.18.0.0");
  EXPECT_EQ(to_string(set.at(5)), "2001:2::");
  // A range never spans families: ::/0 is two ranges around the IPv4 block, which holds
  // nothing of it.
  AddressSet all = *parse_target_list("::/0\n", "all");
  EXPECT_EQ(all.count(IpFamily::kIpv4), 0u);
  EXPECT_EQ(all.count(), ~uint128_t{0} - (uint128_t{1} << 32) + 1);
  EXPECT_EQ(all.size(), UINT64_MAX) << "more than an index can name";
  EXPECT_EQ(count_text(all.count(IpFamily::kIpv6)), "340282366920938463463374607427473244160");
  EXPECT_EQ(count_text(uint128_t{1} << 64), "2^64");
  EXPECT_EQ(count_text(1000), "1000");
  // Blocking ::/0 leaves IPv4 targets alone; blocking 0.0.0.0/0 leaves IPv6 ones.
  EXPECT_EQ(set.minus(all).count(), 5u);
  EXPECT_EQ(set.minus(AddressSet::ipv4_space()).count(), 6u);
  EXPECT_EQ(AddressSet::everything().minus(all).minus(AddressSet::ipv4_space()).count(), 0u);
}

}  // namespace
}  // namespace anyscan
