// Reply storms: scans where every probe is answered, at the engine's top rate (-r 0). The
// target namespace owns all of 198.19.0.0/16 and 2001:2:1::/112 (local routes), so its
// kernel answers every SYN with a RST; each storm runs over one family. Every reply must be
// reported exactly once and none dropped by the kernel: results == sent, dropped == 0, on both
// engines, with one thread and the default. Dense: 3 ports x 65,536 addresses (every target
// answers). Sparse: 10^6 targets drawn from 65,536 addresses x 65,535 ports (4.29 billion), so
// results are spread thin over the space, and the scanner's whole memory must stay within its
// stated budget.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "support/netns_fixture.h"
#include "support/scan_expectations.h"

namespace anyscan::testing_support {
namespace {

struct StormVariant {
  std::string engine;
  bool sparse;
  bool one_thread;
  bool ipv6 = false;
  // The range every probe goes to, and what its results start with.
  const char* range() const { return ipv6 ? "2001:2:1::/112" : "198.19.0.0/16"; }
  const char* prefix() const { return ipv6 ? "2001:2:1::" : "198.19."; }
};

std::string storm_name(const StormVariant& v) {
  return v.engine + (v.sparse ? "_sparse" : "_dense") + (v.one_thread ? "_T1" : "_default") +
         (v.ipv6 ? "_v6" : "");
}
void PrintTo(const StormVariant& v, std::ostream* out) { *out << storm_name(v); }

// The counters and what follows them (engine counters), not the plan: enough to diagnose.
std::string counts_of(const std::string& metadata) {
  const size_t at = metadata.find("\"counts\"");
  return at == std::string::npos ? metadata : metadata.substr(at);
}

// The budget stated in anyscan(8), RESOURCES: 64 MiB, plus the AF_XDP UMEM (its own
// figure, umem_total_kib), plus 16 bytes per result.
constexpr uint64_t kFixedBudgetKib = 64 * 1024;
constexpr uint64_t kBytesPerResult = 16;

class ReplyStorm : public ::testing::TestWithParam<StormVariant> {
 protected:
  static constexpr int kQueues = 2;  // default threads: two senders on af_xdp too

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    pair_ = std::make_unique<NetnsPair>(1, kQueues);
    ASSERT_TRUE(pair_->ok()) << pair_->error();
    ASSERT_TRUE(pair_->answer_everything_in(GetParam().range()));
    dir_ = process_temp_dir("anyscan-storm") + "/" + storm_name(GetParam());
    ASSERT_EQ(std::system(("mkdir -p '" + dir_ + "'").c_str()), 0);
    std::ofstream(dir_ + "/allow.conf") << GetParam().range() << "\n";
  }

  void TearDown() override {
    if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  std::unique_ptr<NetnsPair> pair_;
  std::string dir_;
};

TEST_P(ReplyStorm, EveryReplyReportedOnceAndNoneDropped) {
  const StormVariant& v = GetParam();
  std::vector<std::string> args = pair_->scanner_argv(v.engine);
  args.insert(args.end(), {"--restrict-to", dir_ + "/allow.conf", "-o", dir_ + "/results.csv", "-m",
                           dir_ + "/meta.json", "-f", "saddr,sport,classification", "-r", "0", "-c",
                           "2", "-q", "-e", "7"});
  if (v.sparse)
    args.insert(args.end(), {"-p", "1-65535", "-n", "1000000"});
  else
    args.insert(args.end(), {"-p", "1-3"});
  if (v.one_thread) args.insert(args.end(), {"-T", "1"});
  args.push_back(v.range());
  const uint64_t wire_dropped_before = pair_->target_tx_dropped();
  const ProcessResult process =
      wait_for(pair_->spawn_in_scanner(args, dir_ + "/out", dir_ + "/err"), 120, dir_ + "/out",
               dir_ + "/err");
  ASSERT_EQ(process.exit_code, 0) << process.err;
  const std::string metadata = read_file(dir_ + "/meta.json");
  const uint64_t expected = v.sparse ? 1000000 : 3 * 65536;
  const uint64_t sent = metadata_count(metadata, "sent");
  const uint64_t results = metadata_count(metadata, "results");
  EXPECT_EQ(sent, expected) << counts_of(metadata);
  EXPECT_EQ(metadata_count(metadata, "dropped"), 0u) << counts_of(metadata);
  EXPECT_EQ(metadata_count(metadata, "not_redirected"), 0u) << counts_of(metadata);
  // A reply the veth "wire" dropped before the scanner's interface (see target_tx_dropped)
  // never reached the scanner; it must be rare, and every other reply must be reported.
  const uint64_t wire_dropped = pair_->target_tx_dropped() - wire_dropped_before;
  RecordProperty("wire_dropped", std::to_string(wire_dropped));
  EXPECT_LE(wire_dropped * 1000, sent) << "more than 0.1% lost on the wire";
  EXPECT_EQ(results + wire_dropped, sent) << counts_of(metadata);

  // The file holds each of them once, every one a RST from the range we scanned.
  std::ifstream in(dir_ + "/results.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "saddr,sport,classification");
  std::set<std::string> rows;
  uint64_t lines = 0, wrong = 0;
  while (std::getline(in, line)) {
    ++lines;
    rows.insert(line);
    if (line.rfind(v.prefix(), 0) != 0 || line.size() < 4 ||
        line.compare(line.size() - 4, 4, ",rst") != 0)
      ++wrong;
  }
  EXPECT_EQ(lines, results);
  EXPECT_EQ(rows.size(), lines) << "a result was written twice";
  EXPECT_EQ(wrong, 0u);

  const uint64_t rss_kib = metadata_count(metadata, "max_rss_kib");
  RecordProperty("max_rss_kib", std::to_string(rss_kib));
  const uint64_t umem_kib = v.engine == "af_xdp" ? metadata_count(metadata, "umem_total_kib") : 0;
  ASSERT_NE(umem_kib, UINT64_MAX) << counts_of(metadata);
  EXPECT_LE(rss_kib, kFixedBudgetKib + umem_kib + results * kBytesPerResult / 1024)
      << counts_of(metadata);
}

std::vector<StormVariant> storms() {
  std::vector<StormVariant> out;
  for (const char* engine : {"af_packet", "af_xdp"})
    for (bool sparse : {false, true})
      for (bool one_thread : {true, false})
        for (bool ipv6 : {false, true}) out.push_back({engine, sparse, one_thread, ipv6});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Engines, ReplyStorm, ::testing::ValuesIn(storms()),
                         [](const auto& info) { return storm_name(info.param); });

}  // namespace
}  // namespace anyscan::testing_support
