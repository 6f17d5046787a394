#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <utility>

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
  std::atomic<bool> finished{false};
};

// The targets of this shard (positions first + k * stride, k < count), handed out to the
// sender threads in chunks: a thread that is ahead takes the next chunk, so no core idles
// at the end while another still works through a fixed half. With one thread the order is
// exactly the shard's order.
class WorkQueue {
 public:
  static constexpr uint64_t kChunkTargets = 4096;

  explicit WorkQueue(ShardSlice slice, uint64_t chunk_targets = kChunkTargets)
      : slice_(slice), chunk_(chunk_targets) {}
  const ShardSlice& slice() const { return slice_; }
  // [begin, end) of the next chunk of k; begin == end when everything is claimed.
  std::pair<uint64_t, uint64_t> claim() {
    const uint64_t begin =
        std::min(next_.fetch_add(chunk_, std::memory_order_relaxed), slice_.count);
    return {begin, std::min(begin + chunk_, slice_.count)};
  }

 private:
  ShardSlice slice_;
  uint64_t chunk_;
  std::atomic<uint64_t> next_{0};
};

// One sender thread: walks its slice of the permutation, builds probes into the sink's
// buffers a batch at a time, paces against the shared limiter, submits.
class Sender {
 public:
  static constexpr uint32_t kMaxBatch = 64;
  static constexpr int kFlushTimeoutMs = 2000;

  Sender(const ScanPlan& plan, const IndexPermutation& permutation, WorkQueue& work,
         uint32_t probes, const ProbeModule& module, PacketSink& sink, RateLimiter& limiter,
         Clock& clock, const std::atomic<bool>& stop, SenderCounters& counters);

  Result<void> run();

 private:
  const ScanPlan& plan_;
  const IndexPermutation& permutation_;
  WorkQueue& work_;
  uint32_t probes_;
  const ProbeModule& module_;
  PacketSink& sink_;
  RateLimiter& limiter_;
  Clock& clock_;
  const std::atomic<bool>& stop_;
  SenderCounters& counters_;
};

}  // namespace anyscan
