// zmap's result selection on real scans, both engines, 2-queue veth: --output-filter writes
// exactly what it matches, and -N stops after N results that count (the filter's, or open
// ports without one, as zmap's "-N 5 -p 80" finds five HTTP servers).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "support/netns_fixture.h"
#include "support/scan_expectations.h"

namespace anyscan::testing_support {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

class OutputSelection : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    pair_ = std::make_unique<NetnsPair>(8, 2);
    ASSERT_TRUE(pair_->ok()) << pair_->error();
    dir_ = process_temp_dir("anyscan-filter") + "/" + GetParam() + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(std::system(("mkdir -p '" + dir_ + "'").c_str()), 0);
    ports_ = random_ports(100, seed_);
    open_ = random_open_set(pair_->target_addresses(), ports_, seed_);
    pair_->listen_on(open_);
  }

  // The scan of the 8 targets x 100 ports, with `extra`; the result lines.
  std::vector<std::string> scan(const std::vector<std::string>& extra) {
    std::vector<std::string> args = pair_->scanner_argv(GetParam());
    args.insert(args.end(), {"-p", port_list(ports_), "-r", "2000", "-c", "1", "-q", "-f",
                             "saddr,sport,classification,success", "-o", dir_ + "/results.csv",
                             "-m", dir_ + "/meta.json"});
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("198.18.0.2-198.18.0.9");
    result_ = wait_for(pair_->spawn_in_scanner(args, dir_ + "/out", dir_ + "/err"), 60,
                       dir_ + "/out", dir_ + "/err");
    metadata_ = read_file(dir_ + "/meta.json");
    return lines_of(read_file(dir_ + "/results.csv"));
  }

  size_t open_count() const {
    size_t n = 0;
    for (const auto& [address, ports] : open_) n += ports.size();
    return n;
  }

  const uint32_t seed_ = std::random_device{}();
  std::unique_ptr<NetnsPair> pair_;
  std::string dir_, metadata_;
  std::vector<uint16_t> ports_;
  std::map<std::string, std::set<uint16_t>> open_;
  ProcessResult result_;
};

TEST_P(OutputSelection, ZmapsDefaultFilterWritesExactlyTheOpenPorts) {
  SCOPED_TRACE(::testing::Message() << "open set seed " << seed_);
  const auto lines = scan({"--output-filter", "success = 1 && repeat = 0"});
  ASSERT_EQ(result_.exit_code, 0) << result_.err;
  std::set<std::string> expected;
  for (const std::string& row : expected_rows(pair_->target_addresses(), open_, ports_))
    if (row.find(",synack,") != std::string::npos) expected.insert(row);
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()), expected);
  EXPECT_EQ(lines.size(), expected.size()) << "a line twice";
  EXPECT_EQ(metadata_count(metadata_, "filtered"), 800u - open_count()) << metadata_;
  EXPECT_EQ(metadata_count(metadata_, "results"), open_count()) << metadata_;
}

TEST_P(OutputSelection, MaxResultsCountsOpenPortsWithoutAFilter) {
  SCOPED_TRACE(::testing::Message() << "open set seed " << seed_);
  ASSERT_GE(open_count(), 5u);
  const auto lines = scan({"-N", "5"});
  ASSERT_EQ(result_.exit_code, 0) << result_.err;
  size_t open = 0;
  for (const auto& line : lines) open += line.find(",synack,") != std::string::npos;
  EXPECT_EQ(open, 5u) << "-N 5 finds five open ports; closed ones are written meanwhile";
  EXPECT_NE(metadata_.find("\"stop_reason\":\"max results reached\""), std::string::npos)
      << metadata_;
}

TEST_P(OutputSelection, MaxResultsCountsWhatTheFilterPasses) {
  const auto lines = scan({"-N", "10", "--output-filter", "classification = rst && sport < 30000"});
  ASSERT_EQ(result_.exit_code, 0) << result_.err;
  ASSERT_EQ(lines.size(), 10u);
  for (const auto& line : lines) EXPECT_NE(line.find(",rst,0"), std::string::npos) << line;
}

// zmap's -S a-b: probes spread over four source addresses of the scanner's interface, each
// target always from the same one; the kernel filters and validation take replies to all
// four, and the results are exactly the open set.
TEST_P(OutputSelection, SeveralSourceAddressesFindExactlyTheOpenSet) {
  SCOPED_TRACE(::testing::Message() << "open set seed " << seed_);
  for (int last = 200; last <= 203; ++last)
    ASSERT_EQ(std::system(("ip -n " + pair_->scanner_ns() + " addr add 198.18.0." +
                           std::to_string(last) + "/24 dev " + pair_->scanner_if())
                              .c_str()),
              0);
  const auto lines =
      scan({"-S", "198.18.0.200-198.18.0.203", "-f", "saddr,sport,classification,success,daddr"});
  ASSERT_EQ(result_.exit_code, 0) << result_.err;
  std::set<std::string> rows;
  std::map<std::string, std::set<std::string>> sources_of;  // target -> our addresses
  for (const auto& line : lines) {
    const size_t comma = line.rfind(',');
    rows.insert(line.substr(0, comma));
    sources_of[line.substr(0, line.find(','))].insert(line.substr(comma + 1));
  }
  EXPECT_EQ(rows, expected_rows(pair_->target_addresses(), open_, ports_));
  EXPECT_EQ(lines.size(), rows.size()) << "a line twice";
  std::set<std::string> used;
  for (const auto& [target, sources] : sources_of) {
    EXPECT_EQ(sources.size(), 1u) << target << " was answered at several of our addresses";
    used.insert(sources.begin(), sources.end());
  }
  EXPECT_GE(used.size(), 2u) << "8 targets over 4 addresses all went to one";
  for (const auto& source : used)
    EXPECT_TRUE(source >= "198.18.0.200" && source <= "198.18.0.203") << source;
  EXPECT_EQ(metadata_count(metadata_, "validation_failed"), 0u) << metadata_;
  EXPECT_NE(metadata_.find("\"source_ips\":[\"198.18.0.200\",\"198.18.0.201\",\"198.18.0.202\","
                           "\"198.18.0.203\"]"),
            std::string::npos)
      << metadata_;
}

INSTANTIATE_TEST_SUITE_P(Engines, OutputSelection, ::testing::Values("af_packet", "af_xdp"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace anyscan::testing_support
