// One scan over a fleet: 4 shards run as 4 scanner processes at once against random
// listeners in a test-made namespace pair; anyscan-merge of their files equals the
// unsharded scan with the same seed, exactly, also when one shard is killed mid-way and
// resumed; a missing or foreign shard is refused (65) and nothing is written.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "support/netns_fixture.h"
#include "support/scan_expectations.h"

namespace anyscan::testing_support {
namespace {

class Fleet : public ::testing::Test {
 protected:
  static constexpr int kShards = 4;

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    pair_ = std::make_unique<NetnsPair>(8);
    ASSERT_TRUE(pair_->ok()) << pair_->error();
    dir_ = process_temp_dir("anyscan-fleet") + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(std::system(("mkdir -p '" + dir_ + "'").c_str()), 0);
    seed_ = std::random_device{}();
    ports_ = random_ports(100, seed_);
    open_ = random_open_set(pair_->target_addresses(), ports_, seed_);
    pair_->listen_on(open_);
  }

  // The scanner for shard `shard` (-1: unsharded), writing NAME.csv and NAME.json.
  std::vector<std::string> argv(const std::string& name, int shard, const std::string& seed,
                                const std::string& rate,
                                const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = pair_->scanner_argv("af_packet");
    args.insert(args.end(), {"-q", "-p", port_list(ports_), "-r", rate, "-c", "1", "-e", seed, "-f",
                             "saddr,sport,classification,success", "-o", dir_ + "/" + name + ".csv",
                             "-m", dir_ + "/" + name + ".json"});
    if (shard >= 0)
      args.insert(args.end(),
                  {"--shards", std::to_string(kShards), "--shard", std::to_string(shard)});
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), targets_.begin(), targets_.end());
    return args;
  }
  pid_t start(const std::vector<std::string>& args, const std::string& name) {
    return pair_->spawn_in_scanner(args, dir_ + "/" + name + ".out", dir_ + "/" + name + ".err");
  }
  ProcessResult finish(pid_t pid, const std::string& name) {
    return wait_for(pid, 90, dir_ + "/" + name + ".out", dir_ + "/" + name + ".err");
  }

  // anyscan-merge -o merged.csv over the named shards' metadata.
  ShellResult merge(const std::vector<std::string>& names) {
    std::string command = std::string(ANYSCAN_MERGE_BINARY) + " -o '" + dir_ + "/merged.csv'";
    for (const auto& name : names) command += " '" + dir_ + "/" + name + ".json'";
    return run_shell(command);
  }

  std::unique_ptr<NetnsPair> pair_;
  std::string dir_;
  uint32_t seed_ = 0;
  std::vector<uint16_t> ports_;
  std::map<std::string, std::set<uint16_t>> open_;
  std::vector<std::string> targets_ = {"198.18.0.2-198.18.0.9"};
};

TEST_F(Fleet, FourShardsMergeToExactlyTheUnshardedScan) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed_);
  const std::string seed = std::to_string(seed_);
  // The unsharded scan and the shards use different source ports: the target's kernel
  // keeps no state of one run that the other could meet.
  ProcessResult whole =
      finish(start(argv("whole", -1, seed, "3000", {"-s", "40000-44999"}), "whole"), "whole");
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const auto expected = expected_rows(pair_->target_addresses(), open_, ports_);
  ASSERT_EQ(csv_rows(read_file(dir_ + "/whole.csv")), expected);

  std::vector<pid_t> pids;
  std::vector<std::string> names;
  for (int i = 0; i < kShards; ++i) {
    names.push_back("shard" + std::to_string(i));
    pids.push_back(start(argv(names.back(), i, seed, "1000", {"-s", "50000-54999"}), names.back()));
  }
  size_t total = 0;
  uint64_t seen_for_others = 0;
  for (int i = 0; i < kShards; ++i) {
    ProcessResult shard = finish(pids[i], names[i]);
    ASSERT_EQ(shard.exit_code, 0) << shard.err;
    total += csv_rows(read_file(dir_ + "/" + names[i] + ".csv")).size();
    seen_for_others += metadata_count(read_file(dir_ + "/" + names[i] + ".json"), "other_shards");
  }
  // On one host every shard sees every shard's replies (one key per seed): each reports
  // only its own targets.
  EXPECT_EQ(total, expected.size()) << "shards are disjoint";
  EXPECT_GT(seen_for_others, 0u);
  const ShellResult merged = merge(names);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(csv_rows(read_file(dir_ + "/merged.csv")), csv_rows(read_file(dir_ + "/whole.csv")));
  const std::string meta = read_file(dir_ + "/merged.csv.meta.json");
  EXPECT_EQ(metadata_count(meta, "results"), expected.size()) << meta;
  EXPECT_NE(merged.out.find("merged 4 shards: " + std::to_string(expected.size()) + " results"),
            std::string::npos)
      << merged.out;

  // Three of four, or a shard of another seed: refused, nothing written.
  ASSERT_EQ(
      std::system(("rm -f '" + dir_ + "/merged.csv' '" + dir_ + "/merged.csv.meta.json'").c_str()),
      0);
  ShellResult partial = merge({names[0], names[1], names[3]});
  EXPECT_EQ(partial.exit_code, 65);
  EXPECT_NE(partial.err.find("shard 2 of 4 missing"), std::string::npos) << partial.err;
  ProcessResult foreign =
      finish(start(argv("foreign2", 2, std::to_string(seed_ + 1), "3000", {"-s", "55000-59999"}),
                   "foreign2"),
             "foreign2");
  ASSERT_EQ(foreign.exit_code, 0) << foreign.err;
  ShellResult mixed = merge({names[0], names[1], "foreign2", names[3]});
  EXPECT_EQ(mixed.exit_code, 65);
  EXPECT_NE(mixed.err.find("foreign2.json is not a shard of the same scan"), std::string::npos)
      << mixed.err;
  EXPECT_NE(::access((dir_ + "/merged.csv").c_str(), F_OK), 0);
}

TEST_F(Fleet, AShardKilledMidwayAndResumedStillMergesExactly) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed_);
  const std::string seed = std::to_string(seed_);
  std::vector<std::string> names;
  for (int i = 0; i < kShards; ++i) names.push_back("shard" + std::to_string(i));
  std::vector<pid_t> pids;
  const std::vector<std::string> checkpoint = {"--checkpoint-file", dir_ + "/shard1.checkpoint"};
  for (int i = 0; i < kShards; ++i)
    pids.push_back(start(argv(names[i], i, seed, i == 1 ? "100" : "1000",
                              i == 1 ? checkpoint : std::vector<std::string>{}),
                         names[i]));
  // Shard 1 (200 targets at 100 pps) dies after a second, as a pod or host would.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  ASSERT_EQ(::kill(pids[1], SIGKILL), 0);
  for (int i = 0; i < kShards; ++i) {
    ProcessResult shard = finish(pids[i], names[i]);
    if (i == 1) {
      EXPECT_EQ(shard.exit_code, 128 + SIGKILL);
    } else {
      ASSERT_EQ(shard.exit_code, 0) << shard.err;
    }
  }
  ShellResult early = merge(names);
  EXPECT_EQ(early.exit_code, 65) << "a killed shard has no finished metadata";
  std::vector<std::string> resume = checkpoint;
  resume.push_back("--resume");
  ProcessResult resumed =
      finish(start(argv(names[1], 1, seed, "1000", resume), "shard1-resume"), "shard1-resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming from position"), std::string::npos) << resumed.err;
  const ShellResult merged = merge(names);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(csv_rows(read_file(dir_ + "/merged.csv")),
            expected_rows(pair_->target_addresses(), open_, ports_));
}

// Both families in one fleet scan: the shards' merge equals the unsharded scan row for row.
TEST_F(Fleet, MixedFamiliesFourShardsMergeToExactlyTheUnshardedScan) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed_);
  const std::string seed = std::to_string(seed_);
  const auto open6 = random_open_set(pair_->target_addresses6(), ports_, seed_ + 1);
  pair_->listen_on(open6);
  targets_.push_back("2001:2::2-2001:2::9");
  auto expected = expected_rows(pair_->target_addresses(), open_, ports_);
  for (const auto& row : expected_rows(pair_->target_addresses6(), open6, ports_))
    expected.insert(row);
  ProcessResult whole =
      finish(start(argv("whole", -1, seed, "4000", {"-s", "40000-44999"}), "whole"), "whole");
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  ASSERT_EQ(csv_rows(read_file(dir_ + "/whole.csv")), expected);
  std::vector<pid_t> pids;
  std::vector<std::string> names;
  for (int i = 0; i < kShards; ++i) {
    names.push_back("shard" + std::to_string(i));
    pids.push_back(start(argv(names.back(), i, seed, "1500", {"-s", "50000-54999"}), names.back()));
  }
  for (int i = 0; i < kShards; ++i) {
    ProcessResult shard = finish(pids[i], names[i]);
    ASSERT_EQ(shard.exit_code, 0) << shard.err;
  }
  const ShellResult merged = merge(names);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(csv_rows(read_file(dir_ + "/merged.csv")), csv_rows(read_file(dir_ + "/whole.csv")));
  EXPECT_EQ(metadata_count(read_file(dir_ + "/merged.csv.meta.json"), "results"), expected.size());
}

}  // namespace
}  // namespace anyscan::testing_support
