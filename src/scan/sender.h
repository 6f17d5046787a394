#pragma once

#include <atomic>
#include <cstdint>

#include "base/result.h"
#include "engine/packet_sink.h"
#include "probe/probe_module.h"
#include "scan/rate_limiter.h"
#include "scan/scan_plan.h"
#include "target/index_permutation.h"

namespace anyscan {

// Per-thread counters, written by their sender only, read by the status reporter.
struct alignas(64) SenderCounters {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> targets_done{0};
  std::atomic<uint64_t> targets_total{0};
  std::atomic<bool> finished{false};
};

// One sender thread: walks its slice of the permutation, builds probes into the sink's
// buffers a batch at a time, paces against the shared limiter, submits.
class Sender {
 public:
  static constexpr uint32_t kMaxBatch = 64;
  static constexpr int kFlushTimeoutMs = 2000;

  Sender(const ScanPlan& plan, const IndexPermutation& permutation, ShardSlice slice, uint32_t probes,
         const ProbeModule& module, PacketSink& sink, RateLimiter& limiter, Clock& clock,
         const std::atomic<bool>& stop, SenderCounters& counters);

  Result<void> run();

 private:
  const ScanPlan& plan_;
  const IndexPermutation& permutation_;
  ShardSlice slice_;
  uint32_t probes_;
  const ProbeModule& module_;
  PacketSink& sink_;
  RateLimiter& limiter_;
  Clock& clock_;
  const std::atomic<bool>& stop_;
  SenderCounters& counters_;
};

}  // namespace anyscan
