#include "output/record_formatter.h"
#include "output/result_sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "net/ipv4_address.h"

namespace anyscan {
namespace {

ResultRecord sample() {
  ResultRecord r;
  r.reply.saddr = *parse_ip("198.18.0.7");
  r.reply.daddr = *parse_ip("198.18.0.1");
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

TEST(ResultFormat, UdpFieldsInCsvAndJson) {
  ResultRecord open = sample();
  open.reply.sport = 53;
  open.reply.classification = Classification::kUdp;
  open.reply.udp_length = 11;
  open.reply.data_length = 3;
  open.reply.data[0] = 0xab;
  open.reply.data[1] = 0x01;
  open.reply.data[2] = 0xff;
  const std::vector<OutputField> fields = {
      OutputField::kSport,      OutputField::kClassification, OutputField::kSuccess,
      OutputField::kUdpPktSize, OutputField::kData,           OutputField::kIcmpResponder,
      OutputField::kIcmpType,   OutputField::kIcmpCode,       OutputField::kIcmpUnreachStr};
  EXPECT_EQ(format_record(open, false, fields), "53,udp,1,11,ab01ff,,0,0,");
  EXPECT_EQ(format_record(open, true, fields),
            "{\"sport\":53,\"classification\":\"udp\",\"success\":true,\"udp_pkt_size\":11,"
            "\"data\":\"ab01ff\",\"icmp_responder\":null,\"icmp_type\":0,\"icmp_code\":0,"
            "\"icmp_unreach_str\":null}");
  ResultRecord closed = sample();
  closed.reply.sport = 9;
  closed.reply.classification = Classification::kIcmpUnreach;
  closed.reply.icmp_type = 3;
  closed.reply.icmp_code = 3;
  closed.reply.icmp_responder = *parse_ip("198.18.1.1");
  EXPECT_EQ(format_record(closed, false, fields),
            "9,icmp-unreach,0,0,,198.18.1.1,3,3,port unreachable");
  EXPECT_EQ(format_record(closed, true, fields),
            "{\"sport\":9,\"classification\":\"icmp-unreach\",\"success\":false,"
            "\"udp_pkt_size\":0,\"data\":\"\",\"icmp_responder\":\"198.18.1.1\",\"icmp_type\":3,"
            "\"icmp_code\":3,\"icmp_unreach_str\":\"port unreachable\"}");
  // The longest udp record fits the formatter's bound.
  open.reply.data_length = kReplyDataBytes;
  EXPECT_LT(format_record(open, true, output_fields_of("udp")).size(),
            RecordFormatter::kMaxRecordBytes);
}

TEST(ResultFormat, FieldsBelongToTheirModules) {
  EXPECT_EQ(fields_not_produced(default_output_fields(), "udp"), "");
  EXPECT_EQ(fields_not_produced({OutputField::kSeqnum}, "icmp_echoscan"), "");
  EXPECT_NE(fields_not_produced({OutputField::kWindow}, "udp"), "");
  EXPECT_NE(fields_not_produced({OutputField::kData}, "tcp_synscan"), "");
  const auto udp = output_fields_of("udp");
  EXPECT_NE(std::find(udp.begin(), udp.end(), OutputField::kIcmpCode), udp.end());
  EXPECT_EQ(std::find(udp.begin(), udp.end(), OutputField::kAcknum), udp.end());
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

// More records than the whole buffer pool holds (8 x 1 MiB): every one arrives, in order.
TEST(ResultSink, ManyBuffersArriveWholeAndInOrder) {
  const std::string path =
      testing::TempDir() + "/" + std::to_string(::getpid()) + "-anyscan-many.csv";
  constexpr uint32_t kRecords = 600000;  // ~12 MiB of CSV
  {
    auto sink = open_result_sink(path, false, {OutputField::kSaddr, OutputField::kSeqnum});
    ASSERT_TRUE(sink);
    ResultRecord r = sample();
    for (uint32_t i = 0; i < kRecords; ++i) {
      r.reply.seq = i;
      ASSERT_TRUE((*sink)->write(r));
    }
    ASSERT_TRUE((*sink)->flush());
  }
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(line, "saddr,seqnum");
  uint32_t expected = 0;
  while (std::getline(in, line)) {
    ASSERT_EQ(line, "198.18.0.7," + std::to_string(expected)) << "record " << expected;
    ++expected;
  }
  EXPECT_EQ(expected, kRecords);
  ::unlink(path.c_str());
}

// A full disk ends the scan with EX_IOERR naming the file, never silently.
TEST(ResultSink, FullDiskIsIoErrNamingTheFile) {
  auto sink = open_result_sink("/dev/full", false, default_output_fields());
  ASSERT_TRUE(sink);
  Result<void> outcome;
  for (int i = 0; i < 100000 && outcome; ++i) outcome = (*sink)->write(sample());
  if (outcome) outcome = (*sink)->flush();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ExitCode::kIoErr);
  EXPECT_NE(outcome.error().message.find("/dev/full"), std::string::npos)
      << outcome.error().message;
  EXPECT_FALSE((*sink)->health());
}

// A file that takes nothing for a while (a FIFO nobody reads yet): the receivers' writes
// wait once the buffer pool is full (and it is counted), and nothing is dropped.
TEST(ResultSink, SlowFileMakesWritersWaitNeverDrop) {
  const std::string path =
      testing::TempDir() + "/" + std::to_string(::getpid()) + "-anyscan-slow.fifo";
  ::unlink(path.c_str());
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  std::atomic<ResultSink*> sink_seen{nullptr};
  uint64_t lines = 0;
  std::thread reader([&] {
    std::ifstream in(path);  // opens once the sink has opened its end
    // Read nothing until the writing side has had to wait (10 s at most).
    for (int i = 0; i < 1000; ++i) {
      ResultSink* sink = sink_seen.load();
      if (sink != nullptr && sink->stalls() > 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::string line;
    while (std::getline(in, line)) ++lines;
  });
  constexpr uint32_t kRecords = 500000;  // ~28 MiB: more than the pool and the pipe
  uint64_t stalls = 0;
  {
    auto sink = open_result_sink(path, false, default_output_fields());
    ASSERT_TRUE(sink);
    sink_seen = sink->get();
    for (uint32_t i = 0; i < kRecords; ++i) ASSERT_TRUE((*sink)->write(sample()));
    ASSERT_TRUE((*sink)->flush());
    stalls = (*sink)->stalls();
    sink_seen = nullptr;
  }
  reader.join();
  EXPECT_EQ(lines, kRecords + 1);  // and the header
  EXPECT_GT(stalls, 0u);
  ::unlink(path.c_str());
}

TEST(ResultSink, UncreatableFileIsCantCreate) {
  auto sink = open_result_sink("/nonexistent-dir/out.csv", false, default_output_fields());
  ASSERT_FALSE(sink);
  EXPECT_EQ(sink.error().code, ExitCode::kCantCreate);
  EXPECT_NE(sink.error().message.find("/nonexistent-dir/out.csv"), std::string::npos);
}

}  // namespace
}  // namespace anyscan
