#include "target/address_set.h"

#include <gtest/gtest.h>

#include "target/target_parser.h"

namespace anyscan {
namespace {

AddressSet set_of(const char* text) { return *parse_target_list(text, "test"); }

TEST(AddressSet, MergesOverlappingAndAdjacentRanges) {
  AddressSet s({AddressRange::v4(10, 20), AddressRange::v4(21, 30), AddressRange::v4(15, 25),
                AddressRange::v4(40, 40)});
  ASSERT_EQ(s.ranges().size(), 2u);
  EXPECT_EQ(s.ranges()[0], AddressRange::v4(10, 30));
  EXPECT_EQ(s.ranges()[1], AddressRange::v4(40, 40));
  EXPECT_EQ(s.size(), 22u);
}

// Membership holds for sets larger than an index can name: a blocklist with the IPv6
// special-purpose ranges (fe80::/10 alone is 2^118) still holds what comes after 2^64 of it.
TEST(AddressSet, ContainsBeyondWhatAnIndexCanName) {
  const AddressSet set(
      {{*parse_ip("::"), *parse_ip("::ffff:ffff")},
       {*parse_ip("2001::"), *parse_ip("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff")},
       {*parse_ip("fe80::"), *parse_ip("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff")}});
  EXPECT_EQ(set.size(), UINT64_MAX);
  EXPECT_TRUE(set.contains(*parse_ip("fe80::1")));
  EXPECT_TRUE(set.contains(*parse_ip("2001:2::1")));
  EXPECT_FALSE(set.index_of(*parse_ip("fe80::1")).has_value());
  EXPECT_FALSE(set.contains(*parse_ip("2001:200::")));
  EXPECT_FALSE(set.contains(*parse_ip("fec0::")));
  EXPECT_FALSE(AddressSet().contains(*parse_ip("::")));
}

TEST(AddressSet, IndexAndAddressRoundTrip) {
  AddressSet s = set_of("198.18.0.0/30\n198.18.1.10-198.18.1.12\n198.19.255.255\n");
  ASSERT_EQ(s.size(), 8u);
  for (uint64_t i = 0; i < s.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(s.index_of(s.at(i)), i);
  }
  EXPECT_FALSE(s.index_of(*parse_ip("198.18.0.4")));
  EXPECT_FALSE(s.index_of(*parse_ip("198.18.1.9")));
  EXPECT_EQ(s.at(4), *parse_ip("198.18.1.10"));
}

TEST(AddressSet, MinusRemovesBlockedAddressesSoTheyCostNoIndex) {
  AddressSet targets = set_of("198.18.0.0/24");
  AddressSet blocked = set_of("198.18.0.0/31\n198.18.0.100-198.18.0.199\n198.18.0.255");
  AddressSet left = targets.minus(blocked);
  EXPECT_EQ(left.size(), 256u - 2 - 100 - 1);
  for (uint64_t i = 0; i < left.size(); ++i) EXPECT_FALSE(blocked.contains(left.at(i)));
}

TEST(AddressSet, IntersectKeepsOnlyAllowed) {
  AddressSet a = set_of("198.18.0.0/16");
  AddressSet allow = set_of("198.18.5.0/24\n198.19.0.0/24");
  AddressSet both = a.intersect(allow);
  ASSERT_EQ(both.ranges().size(), 1u);
  EXPECT_EQ(both.size(), 256u);
}

TEST(AddressSet, WholeSpaceHasTwoToThe32Addresses) {
  AddressSet all = AddressSet::ipv4_space();
  EXPECT_EQ(all.size(), uint64_t{1} << 32);
  EXPECT_EQ(all.at(0xffffffffu), IpAddress::v4(0xffffffffu));
  EXPECT_EQ(all.minus(set_of("0.0.0.0/1")).size(), uint64_t{1} << 31);
}

}  // namespace
}  // namespace anyscan
