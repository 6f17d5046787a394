// Receiver with a scripted reply stream and a recording sink: every valid reply is reported
// exactly once, forged and duplicate ones never.
#include "scan/receiver.h"

#include <gtest/gtest.h>

#include <vector>

#include "net/frame_layout.h"
#include "probe/tcp_syn_probe.h"
#include "target/target_parser.h"

namespace anyscan {
namespace {

using namespace frame;

class RecordingSink final : public ResultSink {
 public:
  Result<void> write(const ResultRecord& record) override {
    records.push_back(record);
    return {};
  }
  uint64_t submit() override { return records.size(); }
  Result<void> wait_written(uint64_t, bool) override { return {}; }
  std::vector<ResultRecord> records;
};

class ScriptedSource final : public PacketSource {
 public:
  explicit ScriptedSource(std::vector<std::vector<uint8_t>> frames) : frames_(std::move(frames)) {}
  Result<size_t> receive(std::span<FrameView> out, int) override {
    size_t n = 0;
    while (n < out.size() && next_ < frames_.size()) {
      out[n++] = FrameView{frames_[next_].data(), static_cast<uint32_t>(frames_[next_].size())};
      ++next_;
    }
    return n;
  }
  void release() override {}
  SourceStats stats() override { return {}; }

 private:
  std::vector<std::vector<uint8_t>> frames_;
  size_t next_ = 0;
};

struct Fixture {
  ScanPlan plan;
  ProbeParams params;
  std::shared_ptr<TcpSynProbe> probe;
  Fixture() {
    plan.addresses = *parse_target_list("198.18.0.0/28", "t");
    plan.ports = *parse_ports("22,80,443");
    params.source_ips = {*parse_ip("198.18.1.1")};
    params.source_port_first = 50000;
    params.source_port_count = 100;
    params.key = cookie_key_from_seed(11);
    probe = std::make_shared<TcpSynProbe>(params);
    plan.probe = probe;
  }
  std::vector<uint8_t> reply(uint32_t from, uint16_t port, uint8_t flags,
                             int32_t ack_delta = 1) const {
    std::vector<uint8_t> f(54, 0);
    store_be16(f.data() + kEthType, kEthTypeIpv4);
    f[kIpVersionIhl] = 0x45;
    store_be16(f.data() + kIpTotalLength, 40);
    f[kIpTtl] = 61;
    f[kIpProtocol] = kProtoTcp;
    store_be32(f.data() + kIpSrc, from);
    store_be32(f.data() + kIpDst, params.source_ips[0].ipv4());
    store_be16(f.data() + 34 + kTcpSrcPort, port);
    store_be16(f.data() + 34 + kTcpDstPort, probe->source_port_for(IpAddress::v4(from), port, 0));
    store_be32(f.data() + 34 + kTcpAck,
               probe->sequence_for(IpAddress::v4(from), port) + static_cast<uint32_t>(ack_delta));
    f[34 + kTcpDataOffset] = 0x50;
    f[34 + kTcpFlags] = flags;
    return f;
  }
};

TEST(Receiver, ReportsEachValidReplyOnceAndCountsTheRest) {
  Fixture fx;
  const uint32_t a = parse_ipv4("198.18.0.3")->value, b = parse_ipv4("198.18.0.9")->value;
  const uint8_t synack = kTcpSyn | kTcpAckFlag, rst = kTcpRst | kTcpAckFlag;
  ScriptedSource source({
      fx.reply(a, 80, synack), fx.reply(a, 80, synack),  // retransmitted SYN-ACK: duplicate
      fx.reply(b, 22, rst), fx.reply(a, 80, synack, 2),  // forged: wrong ack
      fx.reply(a, 8080, synack),                         // valid cookie, but port not scanned
      fx.reply(parse_ipv4("198.18.0.200")->value, 80, synack),  // address not scanned
      fx.reply(a, 80, rst),  // same target, other classification: its own record
  });
  RecordingSink sink;
  ResultCollector collector{42};
  collector.sink = &sink;
  ReceiverCounters counters;
  Receiver receiver(fx.plan, *fx.probe, source, collector, counters);
  std::atomic<bool> finish{true};
  ASSERT_TRUE(receiver.run(finish));
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.records[0].reply.saddr, IpAddress::v4(a));
  EXPECT_EQ(sink.records[0].reply.classification, Classification::kSynAck);
  EXPECT_EQ(sink.records[0].reply.ttl, 61);
  EXPECT_EQ(sink.records[1].reply.saddr, IpAddress::v4(b));
  EXPECT_EQ(sink.records[1].reply.classification, Classification::kRst);
  EXPECT_EQ(sink.records[2].reply.classification, Classification::kRst);
  EXPECT_EQ(counters.received.load(), 7u);
  EXPECT_EQ(counters.duplicates.load(), 1u);
  EXPECT_EQ(counters.validation_failed.load(), 3u);
  EXPECT_EQ(counters.results.load(), 3u);
  EXPECT_EQ(counters.success.load(), 1u);
}

TEST(Receiver, MaxResultsStopsReportingAndRaisesTheFlag) {
  Fixture fx;
  std::vector<std::vector<uint8_t>> frames;
  for (uint32_t i = 0; i < 10; ++i)
    frames.push_back(fx.reply(0xc6120000u + i, 443, kTcpSyn | kTcpAckFlag));
  ScriptedSource source(frames);
  RecordingSink sink;
  ResultCollector collector{42};
  collector.sink = &sink;
  collector.max_results = 4;
  ReceiverCounters counters;
  Receiver receiver(fx.plan, *fx.probe, source, collector, counters);
  std::atomic<bool> finish{true};
  ASSERT_TRUE(receiver.run(finish));
  EXPECT_EQ(sink.records.size(), 4u);
  EXPECT_TRUE(collector.limit_reached.load());
}

TEST(Receiver, ReportsTheKernelReceiveTimeWhenTheEngineHasIt) {
  Fixture fx;
  const auto frame = fx.reply(parse_ipv4("198.18.0.3")->value, 80, kTcpSyn | kTcpAckFlag);
  const auto other = fx.reply(parse_ipv4("198.18.0.4")->value, 80, kTcpSyn | kTcpAckFlag);
  const FrameView views[] = {
      {frame.data(), static_cast<uint32_t>(frame.size()), 1795474372123456789LL},
      {other.data(), static_cast<uint32_t>(other.size()), 0},  // engine without timestamps
  };
  ScriptedSource unused({});
  RecordingSink sink;
  ResultCollector collector{42};
  collector.sink = &sink;
  ReceiverCounters counters;
  Receiver receiver(fx.plan, *fx.probe, unused, collector, counters);
  ASSERT_TRUE(receiver.handle(views, 2));
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[0].time_s, 1795474372);
  EXPECT_EQ(sink.records[0].time_us, 123456);
  EXPECT_GT(sink.records[1].time_s, 1700000000);  // now, not zero
}

TEST(ResultDedup, ExactAcrossPagesAndClasses) {
  ResultDedup dedup(4, 42);
  const uint64_t far = (uint64_t{1} << 32) * 65535 - 1;
  for (uint64_t i : {uint64_t{0}, uint64_t{1}, uint64_t{65536}, uint64_t{1} << 20, far}) {
    EXPECT_TRUE(dedup.insert(i, 0));
    EXPECT_TRUE(dedup.insert(i, 1));
    EXPECT_FALSE(dedup.insert(i, 0));
    EXPECT_FALSE(dedup.insert(i, 1));
  }
  for (uint64_t i = 0; i < 200000; ++i) dedup.insert(i, 3);
  for (uint64_t i = 0; i < 200000; ++i) ASSERT_FALSE(dedup.insert(i, 3));
}

// The bar: exact, and ~16 bytes per distinct result at 10^7 results, whatever the
// target space. Target indexes spread over 2^32 addresses x 65535 ports, as in a sparse
// internet-wide multi-port scan (the former paged bitmap needed ~14 KiB per such result).
TEST(ResultDedup, TenMillionSparseResultsTakeAtMostSixteenBytesEach) {
  constexpr uint64_t kResults = 10000000;
  constexpr uint64_t kSpace = (uint64_t{1} << 32) * 65535;
  const uint64_t stride = kSpace / kResults - 7;  // distinct, spread, not aligned
  ResultDedup dedup(kClassificationCount, 0x5eed);
  for (uint64_t i = 0; i < kResults; ++i) ASSERT_TRUE(dedup.insert(i * stride, i % 2));
  EXPECT_EQ(dedup.size(), kResults);
  for (uint64_t i = 0; i < kResults; i += 997) {
    ASSERT_FALSE(dedup.insert(i * stride, i % 2));
    ASSERT_TRUE(dedup.insert(i * stride, 2 + i % 2)) << "another classification is a result";
  }
  const double bytes_per_result =
      static_cast<double>(dedup.memory_bytes()) / static_cast<double>(dedup.size());
  RecordProperty("bytes_per_result", std::to_string(bytes_per_result));
  EXPECT_LE(bytes_per_result, 16.0);
  EXPECT_GE(bytes_per_result, 9.0) << "memory_bytes() must count the slots it holds";
}

TEST(ResultDedup, ReservedRoomIsNotOutgrown) {
  ResultDedup dedup(kClassificationCount, 1);
  dedup.reserve(1 << 20);
  const uint64_t reserved = dedup.memory_bytes();
  EXPECT_LE(reserved, uint64_t{20} << 20) << "the up-front reservation stays small";
  for (uint64_t i = 0; i < (1 << 20); ++i) dedup.insert(i * 104729, 0);
  EXPECT_EQ(dedup.memory_bytes(), reserved) << "a table grew: the receiver allocated";
}

}  // namespace
}  // namespace anyscan
