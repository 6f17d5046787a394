#include "output/result_sink.h"
#include "output/record_formatter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "net/ipv4_address.h"

namespace anyscan {
namespace {

ResultRecord sample() {
  ResultRecord r;
  r.reply.saddr = parse_ipv4("198.18.0.7")->value;
  r.reply.daddr = parse_ipv4("198.18.0.1")->value;
  r.reply.sport = 443;
  r.reply.dport = 40001;
  r.reply.ttl = 64;
  r.reply.classification = Classification::kSynAck;
  r.time_s = 1795474372;  // 2026-11-23T22:52:52Z
  r.time_us = 1234;
  return r;
}

TEST(ResultFormat, CsvAndJsonWithDefaultFields) {
  const auto fields = default_output_fields();
  EXPECT_EQ(csv_header(fields), "saddr,sport,classification,success,ttl,timestamp");
  EXPECT_EQ(format_record(sample(), false, fields),
            "198.18.0.7,443,synack,1,64,2026-11-23T22:52:52.001234Z");
  EXPECT_EQ(format_record(sample(), true, fields),
            "{\"saddr\":\"198.18.0.7\",\"sport\":443,\"classification\":\"synack\",\"success\":"
            "true,\"ttl\":64,"
            "\"timestamp\":\"2026-11-23T22:52:52.001234Z\"}");
  ResultRecord closed = sample();
  closed.reply.classification = Classification::kRst;
  EXPECT_EQ(format_record(closed, false,
                          {OutputField::kSaddr, OutputField::kSuccess, OutputField::kTimestampTs}),
            "198.18.0.7,0,1795474372");
}

TEST(ResultFormat, JsonEscapesControlAndQuotes) {
  EXPECT_EQ(json_escape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
}

TEST(ResultSink, WritesHeaderAndRecordsToFile) {
  const std::string path =
      testing::TempDir() + "/" + std::to_string(::getpid()) + "-anyscan-results.csv";
  {
    auto sink = open_result_sink(path, false, {OutputField::kSaddr, OutputField::kSport});
    ASSERT_TRUE(sink);
    ASSERT_TRUE((*sink)->write(sample()));
    ASSERT_TRUE((*sink)->flush());
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "saddr,sport\n198.18.0.7,443\n");
}

TEST(ResultSink, UncreatableFileIsCantCreate) {
  auto sink = open_result_sink("/nonexistent-dir/out.csv", false, default_output_fields());
  ASSERT_FALSE(sink);
  EXPECT_EQ(sink.error().code, ExitCode::kCantCreate);
  EXPECT_NE(sink.error().message.find("/nonexistent-dir/out.csv"), std::string::npos);
}

}  // namespace
}  // namespace anyscan
