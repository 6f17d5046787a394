// anyscan-merge on hand-made shards: the union with exact dedup, and every way a set of
// shards is not one finished scan refused with exit 65 naming the shard, nothing written.
#include "fleet/shard_merge.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "output/json_value.h"
#include "support/test_shell.h"

namespace anyscan {
namespace {

using testing_support::read_file;

class ShardMerge : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "merge-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(std::system(("rm -rf '" + dir_ + "' && mkdir -p '" + dir_ + "/in'").c_str()), 0);
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  // Shard `index` of `shards`: its metadata in in/shardI.json, results in in/shardI.csv
  // (named relative to the metadata) holding `rows`.
  std::string shard(int index, int shards, const std::string& rows, const std::string& seed = "5",
                    const std::string& stop = "completed", const std::string& format = "csv") {
    const std::string name = "shard" + std::to_string(index);
    const std::string fields = "saddr,sport,classification,success";
    std::ofstream(dir_ + "/in/" + name + "-results." + format)
        << (format == "csv" ? fields + "\n" : "") << rows;
    const std::string meta = dir_ + "/in/" + name + ".json";
    std::ofstream(meta) << "{\"scanner\":\"anyscan\",\"version\":\"0.1.0\",\"seed\":" << seed
                        << ",\"results_file\":\"" << name << "-results." << format
                        << "\",\"output_format\":\"" << format << "\",\"plan\":{\"fingerprint\":\"f"
                        << seed
                        << "\",\"targets\":\"ab/256\",\"ports\":\"80,443\",\"probe_module\":"
                           "\"tcp_synscan\",\"probes\":1,\"shards\":"
                        << shards << ",\"max_targets\":0,\"output\":\"" << format << ":" << fields
                        << "\",\"seed\":" << seed << "},\"start\":\"2026-12-02T0" << index
                        << ":00:00Z\",\"end\":\"2026-12-02T0" << index + 1
                        << ":00:00Z\",\"interrupted\":" << (stop == "completed" ? "false" : "true")
                        << ",\"stop_reason\":\"" << stop << "\",\"shard\":" << index
                        << ",\"counts\":{\"sent\":100,\"results\":2}}\n";
    return meta;
  }

  Result<MergeSummary> merge(const std::vector<std::string>& metas) {
    return merge_shards(MergeRequest{dir_ + "/all.csv", "", metas});
  }
  void expect_refused(const std::vector<std::string>& metas, const std::string& fragment) {
    auto merged = merge(metas);
    ASSERT_FALSE(merged);
    EXPECT_EQ(merged.error().code, ExitCode::kDataErr);
    EXPECT_NE(merged.error().message.find(fragment), std::string::npos) << merged.error().message;
    EXPECT_NE(::access((dir_ + "/all.csv").c_str(), F_OK), 0) << "nothing is written";
    EXPECT_NE(::access((dir_ + "/all.csv.tmp").c_str(), F_OK), 0);
    EXPECT_NE(::access((dir_ + "/all.csv.meta.json").c_str(), F_OK), 0);
  }

  std::string dir_;
};

TEST_F(ShardMerge, WritesTheUnionOnceAndACombinedRecord) {
  const auto a = shard(0, 3, "198.18.0.2,80,synack,1\n198.18.0.3,80,rst,0\n");
  const auto b = shard(1, 3, "198.18.0.4,443,synack,1\n198.18.0.2,80,synack,1\n");
  const auto c = shard(2, 3, "");
  auto merged = merge({c, a, b});  // any order
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ(merged->shards, 3u);
  EXPECT_EQ(merged->results, 3u);
  EXPECT_EQ(merged->duplicates, 1u);
  EXPECT_EQ(read_file(dir_ + "/all.csv"),
            "saddr,sport,classification,success\n198.18.0.2,80,synack,1\n198.18.0.3,80,rst,0\n"
            "198.18.0.4,443,synack,1\n");
  auto meta = JsonValue::parse(read_file(dir_ + "/all.csv.meta.json"));
  ASSERT_TRUE(meta) << meta.error().message;
  EXPECT_EQ(meta->find("results")->as_u64(), 3u);
  EXPECT_EQ(meta->find("plan")->find("seed")->as_u64(), 5u);
  EXPECT_EQ(meta->find("counts")->find("sent")->as_u64(), 300u);
  EXPECT_EQ(meta->find("inputs")->items().size(), 3u);
  EXPECT_EQ(meta->find("start")->text(), "2026-12-02T00:00:00Z");
  EXPECT_EQ(meta->find("end")->text(), "2026-12-02T03:00:00Z");
}

TEST_F(ShardMerge, ARunDirectoryStandsForItsNewestRun) {
  const auto a = shard(0, 2, "198.18.0.2,80,synack,1\n");
  shard(1, 2, "198.18.0.3,80,synack,1\n");
  // shard 1 as a run directory: RUN.meta.json beside RUN.csv, `latest` -> RUN.csv, and the
  // metadata naming the results by an absolute path of the host that wrote it.
  const std::string run = dir_ + "/run1";
  ASSERT_EQ(
      std::system(("mkdir -p '" + run + "' && cp '" + dir_ + "/in/shard1-results.csv' '" + run +
                   "/20261202T010000Z.csv' && sed 's|\"shard1-results.csv\"|\"/var/"
                   "lib/anyscan/results/fleet/20261202T010000Z.csv\"|' '" +
                   dir_ + "/in/shard1.json' > '" + run +
                   "/20261202T010000Z.meta.json' && ln -s "
                   "20261202T010000Z.csv '" +
                   run + "/latest'")
                      .c_str()),
      0);
  auto merged = merge({a, run});
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ(merged->results, 2u);
}

TEST_F(ShardMerge, JsonLinesToo) {
  const auto a = shard(0, 2,
                       "{\"saddr\":\"198.18.0.2\",\"sport\":80,\"classification\":\"synack\","
                       "\"success\":true}\n",
                       "5", "completed", "json");
  const auto b = shard(1, 2, "", "5", "completed", "json");
  auto merged = merge_shards(MergeRequest{dir_ + "/all.json", "", {a, b}});
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ(merged->results, 1u);
}

TEST_F(ShardMerge, RefusesAnythingButOneFinishedScan) {
  const auto a = shard(0, 3, "198.18.0.2,80,synack,1\n");
  const auto b = shard(1, 3, "");
  const auto c = shard(2, 3, "");
  expect_refused({a, c}, "shard 1 of 3 missing");
  expect_refused({a}, "shards 1, 2 of 3 missing");
  expect_refused({a, b, c, a}, "shard 0 given twice");
  const auto foreign = shard(1, 3, "", "6");
  expect_refused({a, foreign, c}, "is not a shard of the same scan as");
  expect_refused({a, foreign, c}, "seed 5 and 6");
  const auto other_count = shard(1, 4, "");
  expect_refused({a, other_count, c}, "shards 3 and 4");
  const auto unfinished = shard(1, 3, "", "5", "interrupted");
  expect_refused({a, unfinished, c}, "shard 1 did not finish");
  shard(1, 3, "198.18.0.9,80,synack\n");  // a row short of a field
  expect_refused({a, b, c}, "shard1-results.csv:2:");
  std::ofstream(dir_ + "/in/shard1.json") << "{\"scanner\":\"zmap\"}";
  expect_refused({a, b, c}, "not the metadata of an anyscan scan");
  std::ofstream(dir_ + "/in/shard1.json") << "{\"scanner\":";
  expect_refused({a, b, c}, "not JSON at byte");
  auto missing = merge({a, dir_ + "/in/none.json"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ExitCode::kNoInput);
}

TEST(JsonValue, ReadsWhatAnyscanWrites) {
  auto v = JsonValue::parse(
      " {\"seed\": 18446744073709551615, \"s\": \"a\\u00e9\\n\\ud83d\\ude00\", \"l\": [1, -2.5e3, "
      "true, null], \"o\": {}} ");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->find("seed")->as_u64(), UINT64_MAX);
  EXPECT_EQ(v->find("s")->text(), "a\xc3\xa9\n\xf0\x9f\x98\x80");
  EXPECT_EQ(v->find("l")->items().size(), 4u);
  EXPECT_EQ(v->find("l")->items()[1].text(), "-2.5e3");
  EXPECT_FALSE(v->find("l")->items()[1].as_u64());
  EXPECT_EQ(v->find("l")->items()[2].as_bool(), true);
  EXPECT_EQ(v->dump(),
            "{\"l\":[1,-2.5e3,true,null],\"o\":{},\"s\":\"a\xc3\xa9\\u000a\xf0\x9f\x98\x80\","
            "\"seed\":18446744073709551615}");
  EXPECT_EQ(JsonValue::parse(v->dump())->dump(), v->dump());
  auto repeated = JsonValue::parse("{\"a\":1,\"a\":2}");
  ASSERT_FALSE(repeated);
  EXPECT_NE(repeated.error().message.find("repeated"), std::string::npos);
  EXPECT_FALSE(JsonValue::parse("{\"seed\":18446744073709551616}")->find("seed")->as_u64());
}

}  // namespace
}  // namespace anyscan
