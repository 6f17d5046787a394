#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <utility>

#include "base/result.h"
#include "engine/packet_sink.h"
#include "probe/probe_module.h"
#include "scan/opt_out.h"
#include "scan/rate_limiter.h"
#include "scan/scan_plan.h"
#include "target/index_permutation.h"

namespace anyscan {

// Per-thread counters, written by their sender only, read by the status reporter.
struct alignas(64) SenderCounters {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> targets_done{0};
  std::atomic<uint64_t> opted_out{0};  // of targets_done: not probed, a reload excluded them
  // The newest Exclusions epoch this sender builds its frames with (scan/opt_out.h).
  std::atomic<uint32_t> exclusion_epoch{0};
  std::atomic<bool> finished{false};
  // The lowest shard position this sender has claimed and not yet submitted (UINT64_MAX:
  // none); written under the work queue's lock when claiming, by the sender after a batch.
  std::atomic<uint64_t> pending_from{UINT64_MAX};
};

// The targets of this shard (positions first + k * stride, k < count), handed out to the
// sender threads in chunks: a thread that is ahead takes the next chunk, so no core idles
// at the end while another still works through a fixed half. With one thread the order is
// exactly the shard's order.
//
// A resumed scan starts at `first`: positions below it are done. The low-water mark (every
// position below it submitted by some sender) is what a checkpoint records; claims take a
// lock (one per 4096 targets), so a claimed chunk is always visible to low_water().
class WorkQueue {
 public:
  static constexpr uint64_t kChunkTargets = 4096;

  explicit WorkQueue(ShardSlice slice, uint64_t first = 0, uint64_t chunk_targets = kChunkTargets)
      : slice_(slice), chunk_(chunk_targets), next_(std::min(first, slice.count)) {}
  const ShardSlice& slice() const { return slice_; }
  // [begin, end) of the next chunk of k; begin == end when everything is claimed. The
  // claimer's pending_from drops to begin (it may still hold unsent targets of its last).
  std::pair<uint64_t, uint64_t> claim(SenderCounters& claimer) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t begin = next_;
    next_ = std::min(next_ + chunk_, slice_.count);
    if (begin < next_)
      claimer.pending_from.store(
          std::min(claimer.pending_from.load(std::memory_order_relaxed), begin),
          std::memory_order_relaxed);
    return {begin, next_};
  }
  // Every position below the result has been submitted (counters: every sender's).
  template <typename Counters>
  uint64_t low_water(const Counters& senders) const {
    std::lock_guard<std::mutex> lock(mutex_);
    uint64_t low = next_;
    for (const SenderCounters* c : senders)
      low = std::min(low, c->pending_from.load(std::memory_order_relaxed));
    return low;
  }

 private:
  ShardSlice slice_;
  uint64_t chunk_;
  mutable std::mutex mutex_;
  uint64_t next_;
};

// One sender thread: walks its slice of the permutation, builds probes into the sink's
// buffers a batch at a time, paces against the shared limiter, submits.
class Sender {
 public:
  static constexpr uint32_t kMaxBatch = 64;
  static constexpr int kFlushTimeoutMs = 2000;

  Sender(const ScanPlan& plan, const IndexPermutation& permutation, WorkQueue& work,
         uint32_t probes, const ProbeModule& module, PacketSink& sink, RateLimiter& limiter,
         Clock& clock, const std::atomic<bool>& stop, SenderCounters& counters,
         const Exclusions* exclusions = nullptr);

  Result<void> run();

 private:
  // The permutation's element for target k of the chunk [k, end): computed a batch at a
  // time (IndexPermutation::at_many), kept until the chunk's targets use them.
  uint64_t target_index(uint64_t k, uint64_t end);
  // Sleeps until the rate allows `n` more frames; false when the scan stopped meanwhile.
  bool wait_for_slots(uint32_t n);
  // The opt-out list this batch is built with (null: none), acknowledged to the control loop.
  const AddressSet* newest_exclusions(uint64_t* targets);
  // Up to batch.size() probes, P per target in target order, past the targets a detected
  // alias limit or the opt-out takes out; *targets counts the targets finished. 0: no work.
  uint32_t fill_batch(std::span<ProbeTarget> batch, uint64_t* targets);
  // Builds and submits n probes (fewer when the scan stops while the ring is full).
  Result<void> send_batch(const ProbeTarget* batch, uint32_t n, uint64_t* sent, uint64_t* failed);
  // Where the walk is: next target k_ of the chunk [k_, end_), its next probe number, the
  // target being probed, and the targets the opt-out took out so far.
  uint64_t k_ = 0, end_ = 0;
  uint32_t probe_ = 0;
  ProbeTarget current_{IpAddress{}, 0, 0};
  uint64_t opted_out_ = 0;
  std::array<uint64_t, IndexPermutation::kManyAtOnce> positions_{}, indices_{};
  size_t next_index_ = 0, ready_ = 0;

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
  const Exclusions* exclusions_;  // live opt-out; null: none possible
};

}  // namespace anyscan
