// --detect-aliases without root: the detection's own plan (N keyed-random addresses in each
// /L holding an IPv6 target, each in its own sub-prefix, none forbidden, the same for every
// run of the seed), the verdict (a prefix is aliased only when all N answered, from the
// address itself), what the main plan then skips and flags, and the outcome file a resume
// reads back (a file cut short means "detect again").
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "scan/alias_detection.h"
#include "support/test_shell.h"
#include "target/port_set.h"
#include "target/target_parser.h"

namespace anyscan {
namespace {

// `targets`: one per line, as in a -I file.
ScanPlan main_plan(const std::string& targets) {
  ScanPlan plan;
  auto parsed = parse_target_list(targets, "t");
  EXPECT_TRUE(parsed) << parsed.error().message;
  if (parsed) plan.addresses = std::move(*parsed);
  plan.ports = *parse_ports("443,80");
  plan.key = cookie_key_from_seed(5);
  plan.aliased_limit = 3;
  return plan;
}

IpAddress ip(const char* text) { return *parse_ip(text); }

TEST(AliasDetection, FourKeyedAddressesInEachSixtyFourOfTheTargets) {
  // Two /64s by single addresses and a range spanning two more; IPv4 targets are not tested.
  ScanPlan plan =
      main_plan("2001:2::5\n2001:2::9\n2001:2:0:7::1\n2001:2:0:8:ffff::-2001:2:0:9::3\n198.18.0.1");
  const AliasDetection detection{4, 64};
  auto detect = alias_detection_plan(plan, detection);
  ASSERT_TRUE(detect) << detect.error().message;
  EXPECT_EQ(detect->target_count(), 4u * 4) << "4 prefixes x 4 addresses, one port";
  EXPECT_EQ(detect->ports.size(), 1u);
  EXPECT_EQ(detect->ports.at(0), 80) << "the scan's first port (sorted)";
  std::set<uint128_t> prefixes;
  std::set<IpAddress> addresses;
  for (uint64_t i = 0; i < detect->address_count(); ++i) {
    const IpAddress a = detect->target_address(i);
    addresses.insert(a);
    prefixes.insert(a.value >> 64);
    EXPECT_FALSE(plan.addresses.contains(a)) << to_string(a);
  }
  EXPECT_EQ(addresses.size(), 16u);
  EXPECT_EQ(prefixes,
            (std::set<uint128_t>{ip("2001:2::").value >> 64, ip("2001:2:0:7::").value >> 64,
                                 ip("2001:2:0:8::").value >> 64, ip("2001:2:0:9::").value >> 64}));
  // Keyed: the same key gives the same addresses, another key others.
  auto again = alias_detection_plan(plan, detection);
  ScanPlan other = plan;
  other.key = cookie_key_from_seed(6);
  auto rekeyed = alias_detection_plan(other, detection);
  for (uint64_t i = 0; i < detect->address_count(); ++i) {
    EXPECT_EQ(detect->target_address(i), again->target_address(i));
    EXPECT_NE(detect->target_address(i), rekeyed->target_address(i));
  }
}

TEST(AliasDetection, ForbiddenAddressesAreNeverProbed) {
  ScanPlan plan = main_plan("2001:2::5\n2001:2:0:1::5");
  auto all = alias_detection_plan(plan, AliasDetection{16, 64});
  ASSERT_TRUE(all);
  // Forbid one of the detection's addresses: exactly it is left out.
  const IpAddress forbidden = all->target_address(3);
  plan.alias_forbidden = AddressSet({AddressRange{forbidden, forbidden}});
  auto kept = alias_detection_plan(plan, AliasDetection{16, 64});
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->address_count(), all->address_count() - 1);
  for (uint64_t i = 0; i < kept->address_count(); ++i)
    EXPECT_NE(kept->target_address(i), forbidden);
}

TEST(AliasDetection, WindowsShorterThanThePrefixAreRefused) {
  ScanPlan plan = main_plan("2001:2::5");
  plan.window.length = 48;
  plan.windows = AddressSet({AddressRange{IpAddress{5}, IpAddress{6}}});
  auto refused = alias_detection_plan(plan, AliasDetection{4, 64});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ExitCode::kUsage);
  EXPECT_NE(refused.error().message.find("--alias-prefix-length 48"), std::string::npos);
  // At /48 itself, each window is its own prefix.
  auto ok = alias_detection_plan(plan, AliasDetection{4, 48});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->target_count(), 3u * 4) << "2001:2::/48 and the two windows' /48s";
}

TEST(AliasDetection, AliasedOnlyWhenEveryAddressAnswered) {
  const AliasDetection detection{4, 64};
  const uint128_t a = ip("2001:2:0:a::").value >> 64, b = ip("2001:2:0:b::").value >> 64;
  // a: all 4 (one twice); b: 3 of 4.
  std::vector<uint128_t> answered = {a << 2,       (a << 2) + 1, (a << 2) + 2, (a << 2) + 3,
                                     (a << 2) + 3, b << 2,       (b << 2) + 1, (b << 2) + 3};
  const auto found = aliased_from_answers(answered, detection);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(prefix_text(found[0]), "2001:2:0:a::/64");
  // N = 1: one answer is enough; at /48 the prefixes are /48s.
  const auto one = aliased_from_answers({ip("2001:2:5::").value >> 80}, AliasDetection{1, 48});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(prefix_text(one[0]), "2001:2:5::/48");
}

TEST(AliasDetection, RepliesCountOnlyFromTheAddressItself) {
  ScanPlan plan = main_plan("2001:2::5");
  auto detect = alias_detection_plan(plan, AliasDetection{2, 64});
  ASSERT_TRUE(detect);
  AliasAnswers answers(*detect);
  ResultRecord rst{};
  rst.reply.saddr = detect->target_address(0);
  rst.reply.classification = Classification::kRst;
  ASSERT_TRUE(answers.write(rst));
  ResultRecord router = rst;  // an unreachable about the second address, from a router
  router.reply.saddr = detect->target_address(1);
  router.reply.classification = Classification::kUnreachable;
  router.reply.icmp_responder = ip("2001:2::ff");
  ASSERT_TRUE(answers.write(router));
  EXPECT_EQ(answers.replies(), 2u);
  EXPECT_EQ(answers.windows().size(), 1u);
  EXPECT_TRUE(aliased_from_answers(answers.windows(), AliasDetection{2, 64}).empty());
  ResultRecord self = router;  // the address itself says port unreachable: it exists
  self.reply.icmp_responder = self.reply.saddr;
  ASSERT_TRUE(answers.write(self));
  EXPECT_EQ(aliased_from_answers(answers.windows(), AliasDetection{2, 64}).size(), 1u);
}

TEST(AliasDetection, DetectedPrefixesSkipTargetsBeyondTheLimitAndFlag) {
  ScanPlan plan = main_plan("2001:2::2-2001:2::9\n2001:2:0:a::/120");
  apply_detected_aliases(plan,
                         {AddressRange{ip("2001:2:0:a::"), ip("2001:2:0:a:ffff:ffff:ffff:ffff")}});
  EXPECT_EQ(plan.detected_capped, 253u * 2);
  uint64_t skipped = 0;
  for (uint64_t i = 0; i < plan.address_count(); ++i) {
    const IpAddress a = plan.target_address(i);
    const bool in_prefix = (a.value >> 64) == (ip("2001:2:0:a::").value >> 64);
    EXPECT_EQ(plan.is_aliased(a), in_prefix) << to_string(a);
    if (plan.skipped(i)) {
      ++skipped;
      EXPECT_TRUE(in_prefix);
      EXPECT_GE(a.value, ip("2001:2:0:a::3").value) << "the first 3 in address order are kept";
    }
  }
  EXPECT_EQ(skipped, 253u);
  EXPECT_TRUE(plan.has_skips());
}

TEST(AliasDetection, OutcomeFileRoundTripsAndACutOneMeansDetectAgain) {
  const std::string path = testing_support::process_temp_dir("anyscan-alias") + "/scan.aliases";
  const std::vector<AddressRange> found = {
      AddressRange{ip("2001:2:0:a::"), ip("2001:2:0:a:ffff:ffff:ffff:ffff")},
      AddressRange{ip("2001:2:1::"), ip("2001:2:1:ffff:ffff:ffff:ffff:ffff")}};
  const std::string text = detected_aliases_text(found, AliasDetection{4, 64});
  std::ofstream(path) << text;
  auto read = read_detected_aliases(path);
  ASSERT_TRUE(read && *read);
  EXPECT_EQ(**read, found);
  std::ofstream(path) << text.substr(0, text.size() - 3);  // stopped while writing
  read = read_detected_aliases(path);
  ASSERT_TRUE(read);
  EXPECT_FALSE(*read);
  read = read_detected_aliases(path + ".missing");
  ASSERT_TRUE(read);
  EXPECT_FALSE(*read);
  std::ofstream(path) << "# x\nnot-a-prefix\n# end\n";
  read = read_detected_aliases(path);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ExitCode::kDataErr);
}

}  // namespace
}  // namespace anyscan
