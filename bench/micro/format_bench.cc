// Result formatting on the receive path: ns per record into the sink's buffer (no
// allocation), CSV and JSON, default fields and every field; and the whole sink (format,
// hand over full 1 MiB buffers, the writer thread writing to /dev/null).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "output/record_formatter.h"
#include "output/result_sink.h"

namespace {

using anyscan::OutputField;

anyscan::ResultRecord sample(uint32_t i) {
  anyscan::ResultRecord r;
  r.reply.saddr = anyscan::IpAddress::v4(0xc6130000u + i);
  r.reply.daddr = anyscan::IpAddress::v4(0xc6120001u);
  r.reply.sport = static_cast<uint16_t>(1 + i % 65535);
  r.reply.dport = 40000;
  r.reply.ttl = 64;
  r.reply.classification = anyscan::Classification::kRst;
  r.time_s = 1795474372 + i / 500000;  // a new second every 500k records
  r.time_us = static_cast<int32_t>(i % 1000000);
  return r;
}

std::vector<OutputField> fields(bool all) {
  if (!all) return anyscan::default_output_fields();
  std::vector<OutputField> every;
  for (const auto& info : anyscan::output_fields()) every.push_back(info.field);
  return every;
}

void BM_Format(benchmark::State& state) {
  anyscan::RecordFormatter formatter(state.range(0) != 0, fields(state.range(1) != 0));
  char buffer[anyscan::RecordFormatter::kMaxRecordBytes];
  uint32_t i = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    bytes += formatter.format(sample(i++), buffer);
    benchmark::DoNotOptimize(buffer);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_Format)->ArgsProduct({{0, 1}, {0, 1}})->ArgNames({"json", "all_fields"});

void BM_SinkToDevNull(benchmark::State& state) {
  auto sink = anyscan::open_result_sink("/dev/null", state.range(0) != 0, fields(false));
  if (!sink) {
    state.SkipWithError("cannot open /dev/null");
    return;
  }
  uint32_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize((*sink)->write(sample(i++)));
  (void)(*sink)->flush();
}
BENCHMARK(BM_SinkToDevNull)->Arg(0)->Arg(1)->ArgName("json");

}  // namespace
