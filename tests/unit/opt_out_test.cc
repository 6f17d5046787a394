// The live opt-out's helper (scan/opt_out.h), as a forked child like in a scan: the
// blocklist read as the start reads it (the built-in ranges beside a custom list, a broken
// list refused naming its line), and the results file rewritten without the records of
// excluded addresses (header kept, counts by classification, nothing else touched).
#include "scan/opt_out.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "net/reply.h"
#include "support/test_shell.h"
#include "target/target_parser.h"

namespace anyscan {
namespace {

using testing_support::process_temp_dir;
using testing_support::read_file;

class OptOutHelperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = process_temp_dir("anyscan-opt-out") + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(std::system(("mkdir -p '" + dir_ + "'").c_str()), 0);
    config_.blocklist_file = dir_ + "/block.conf";
    config_.output_file = dir_ + "/results.csv";
    config_.output_fields = {OutputField::kSaddr, OutputField::kSport, OutputField::kClassification,
                             OutputField::kSuccess};
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::unique_ptr<OptOutHelper> helper() {
    auto started = OptOutHelper::start(config_, config_.output_file);
    EXPECT_TRUE(started) << started.error().message;
    return std::move(*started);
  }
  std::string dir_;
  ScanConfig config_;
};

TEST_F(OptOutHelperTest, ReadsTheBlocklistAsTheStartDoes) {
  std::ofstream(config_.blocklist_file) << "# opt-outs\n198.18.7.0/24\n2001:2::/64\n";
  auto h = helper();
  auto set = h->read_blocklist();
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_TRUE(set->contains(*parse_ip("198.18.7.9")));
  EXPECT_TRUE(set->contains(*parse_ip("2001:2::1"))) << target_list_text(*set);
  EXPECT_TRUE(set->contains(*parse_ip("fe80::1")));  // beyond 2^64 addresses into the set
  // A custom list keeps the IANA special-purpose ranges beside it, as at the start.
  EXPECT_TRUE(set->contains(*parse_ip("127.0.0.1")));
  config_.allow_special_purpose = true;
  auto only = helper()->read_blocklist();
  ASSERT_TRUE(only);
  EXPECT_FALSE(only->contains(*parse_ip("127.0.0.1")));
  EXPECT_FALSE(only->contains(*parse_ip("198.18.8.1")));
  EXPECT_EQ(only->count(), 256u + (uint128_t{1} << 64));

  // The same helper, the file changed: read again, and a broken one refused naming the line.
  std::ofstream(config_.blocklist_file) << "198.18.9.0/24\nnot-an-address\n";
  auto broken = h->read_blocklist();
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, ExitCode::kDataErr);
  EXPECT_NE(broken.error().message.find(config_.blocklist_file + ":2"), std::string::npos)
      << broken.error().message;
  ::unlink(config_.blocklist_file.c_str());
  auto missing = h->read_blocklist();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ExitCode::kNoInput);
}

TEST_F(OptOutHelperTest, PurgeRewritesTheResultsWithoutTheExcludedAddresses) {
  const std::string rows =
      "saddr,sport,classification,success\n"
      "198.18.0.2,80,synack,1\n"
      "198.18.0.3,80,rst,0\n"
      "2001:2::5,443,synack,1\n"
      "198.18.0.4,22,synack,1\n"
      "198.18.0.3,22,synack,1\n";
  std::ofstream(config_.output_file) << rows << "198.18.0.3,25,rst,0\n";  // past `bytes`
  ::chmod(config_.output_file.c_str(), 0640);
  auto h = helper();
  const AddressSet excluded({{*parse_ip("198.18.0.3"), *parse_ip("198.18.0.3")},
                             {*parse_ip("2001:2::"), *parse_ip("2001:2::ffff")}});
  auto purged = h->purge_results(excluded, rows.size());
  ASSERT_TRUE(purged) << purged.error().message;
  const std::string kept =
      "saddr,sport,classification,success\n198.18.0.2,80,synack,1\n198.18.0.4,22,synack,1\n";
  EXPECT_EQ(read_file(config_.output_file), kept);
  EXPECT_EQ(purged->size, kept.size());
  EXPECT_EQ(purged->removed, 3u);
  EXPECT_EQ(purged->success, 2u);
  EXPECT_EQ(purged->ipv6, 1u);
  EXPECT_EQ(purged->by_class[static_cast<size_t>(Classification::kSynAck)], 2u);
  EXPECT_EQ(purged->by_class[static_cast<size_t>(Classification::kRst)], 1u);
  struct stat st {};
  ASSERT_EQ(::stat(config_.output_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u) << "the file keeps its mode";
  EXPECT_EQ(std::system(("ls '" + dir_ + "' | grep -q tmp").c_str()) == 0, false);

  // A file that ends mid-record where the scan says it ends is refused and left alone.
  std::ofstream(config_.output_file) << "saddr,sport,classification,success\n198.18.0.3,8";
  auto torn = h->purge_results(excluded, 47);
  EXPECT_FALSE(torn);
  EXPECT_EQ(read_file(config_.output_file), "saddr,sport,classification,success\n198.18.0.3,8");
}

TEST(Exclusions, EachPublishIsANewerEpochAndOlderSetsStayReadable) {
  Exclusions exclusions;
  EXPECT_EQ(exclusions.current(), nullptr);
  EXPECT_EQ(exclusions.epoch(), 0u);
  EXPECT_EQ(exclusions.publish(AddressSet({AddressRange::v4(1, 1)})), 1u);
  const AddressSet* first = exclusions.current();
  EXPECT_EQ(exclusions.publish(AddressSet({AddressRange::v4(2, 2)})), 2u);
  EXPECT_TRUE(first->contains(IpAddress::v4(1)));  // still alive for a thread that holds it
  EXPECT_TRUE(exclusions.current()->contains(IpAddress::v4(2)));
  EXPECT_FALSE(exclusions.current()->contains(IpAddress::v4(1)));
}

TEST(OptOutMessages, RangesRoundTripAndBadOnesAreRefused) {
  const std::vector<AddressRange> ranges = {AddressRange::v4(1, 9),
                                            {*parse_ip("2001:2::"), *parse_ip("2001:2::ff")}};
  auto back = decode_ranges(encode_ranges(ranges));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, ranges);
  EXPECT_FALSE(decode_ranges(std::string(31, '\0')));
  EXPECT_FALSE(decode_ranges(encode_ranges({AddressRange::v4(9, 1)})));
  EXPECT_FALSE(decode_ranges(encode_ranges({{IpAddress::v4(1), *parse_ip("2001:2::")}})));
}

}  // namespace
}  // namespace anyscan
