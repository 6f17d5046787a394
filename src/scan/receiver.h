#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "base/result.h"
#include "engine/packet_source.h"
#include "output/output_filter.h"
#include "output/result_sink.h"
#include "probe/probe_module.h"
#include "scan/opt_out.h"
#include "scan/scan_plan.h"
#include "store/result_dedup.h"
#include "store/scan_totals.h"

namespace anyscan {

struct alignas(64) ReceiverCounters {
  std::atomic<uint64_t> received{0};           // frames the kernel filter let through
  std::atomic<uint64_t> validation_failed{0};  // looked like replies, failed the cookie
  std::atomic<uint64_t> unrelated{0};          // other traffic that passed the filter
  std::atomic<uint64_t> results{0};            // records written
  std::atomic<uint64_t> duplicates{0};         // valid replies already reported
  std::atomic<uint64_t> success{0};            // results with success = 1
  std::atomic<uint64_t> filtered{0};           // valid and new, refused by --output-filter
  std::atomic<uint64_t> other_shard{0};        // valid replies to targets of another shard
  std::atomic<uint64_t> withdrawn{0};  // valid, from an address a reload excluded: not written
  // Of validation_failed, by reason (InvalidReason other than kValidation).
  std::atomic<uint64_t> invalid_fragment{0};
  std::atomic<uint64_t> invalid_header_chain{0};
  std::atomic<uint64_t> results_ipv6{0};                          // of results: IPv6 targets'
  std::atomic<uint64_t> results_by_class[Totals::kClasses] = {};  // Classification's order
};

// Shared by all receiver threads: the exact dedup and the result sink, behind one lock
// taken per batch.
struct ResultCollector {
  explicit ResultCollector(uint64_t dedup_key) : dedup(kClassificationCount, dedup_key) {}
  std::mutex mutex;
  ResultDedup dedup;
  ResultSink* sink = nullptr;  // null in a dry run writing frames to stdout
  // --output-filter: only records it matches are written (and count for -N).
  const OutputFilter* filter = nullptr;
  // -N: stop after this many results that count: those the filter matches, or without a
  // filter those with success = 1 (zmap's default filter), whatever else is written.
  uint64_t max_results = 0;
  uint64_t counted = 0;  // toward max_results
  std::atomic<bool> limit_reached{false};
  std::atomic<bool> cooldown{false};  // every probe is sent: what arrives now is "cooldown"
  // A shard (or -n) probes a slice of the permutation: a valid reply to a target outside it
  // answers another shard's probe (shards of one seed share the key) on the same host and
  // is that shard's to report. Null when the slice is the whole plan.
  const IndexPermutation* permutation = nullptr;
  ShardSlice slice{0, 1, 0};
  // Live opt-out: results from the addresses of the newest reloaded blocklist are not
  // written. Null: no reload possible.
  const Exclusions* exclusions = nullptr;
};

// One receiver thread: serves one or several receive queues (sources) in turn, classifies
// and validates what arrives and hands valid replies to the collector.
class Receiver {
 public:
  static constexpr size_t kBatch = 256;
  static constexpr int kWaitMs = 10;     // one source: block this long for the next frame
  static constexpr int kIdleWaitMs = 1;  // several: all empty, wait this long on the first

  Receiver(const ScanPlan& plan, const ProbeModule& module, std::vector<PacketSource*> sources,
           ResultCollector& collector, ReceiverCounters& counters);
  Receiver(const ScanPlan& plan, const ProbeModule& module, PacketSource& source,
           ResultCollector& collector, ReceiverCounters& counters)
      : Receiver(plan, module, std::vector<PacketSource*>{&source}, collector, counters) {}

  // Receives until `finish` is set, then drains what the kernel already queued.
  Result<void> run(const std::atomic<bool>& finish);
  // Handles one batch of frames (exposed for tests with a scripted source).
  Result<void> handle(const FrameView* frames, size_t count);

 private:
  // One receive() + handle() + release() on source; the number of frames it had.
  Result<size_t> serve(PacketSource& source, std::span<FrameView> frames, int timeout_ms);

  const ScanPlan& plan_;
  const ProbeModule& module_;
  std::vector<PacketSource*> sources_;
  ResultCollector& collector_;
  ReceiverCounters& counters_;
  // What one batch counted, added to counters_ at its end.
  struct BatchCounts {
    uint64_t invalid = 0, unrelated = 0, results = 0, duplicates = 0, success = 0, filtered = 0,
             other_shard = 0, results_ipv6 = 0, withdrawn = 0;
    uint64_t invalid_by_reason[kInvalidReasonCount] = {};  // InvalidReason's order
    uint64_t by_class[Totals::kClasses] = {};              // Classification's order
  };
  void add_counts(uint64_t frames, const BatchCounts& b);
};

}  // namespace anyscan
