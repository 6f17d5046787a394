#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "engine/io_engine.h"
#include "output/output_filter.h"
#include "scan/opt_out.h"
#include "scan/rate_limiter.h"
#include "scan/receiver.h"
#include "scan/scan_counters.h"
#include "scan/scan_metrics.h"
#include "scan/scan_plan.h"
#include "scan/sender.h"
#include "scan/status_reporter.h"
#include "store/checkpoint.h"
#include "store/checkpoint_file.h"
#include "store/scan_outputs.h"
#include "target/index_permutation.h"

namespace anyscan {

// Threads a run starts: the plan's counts within the queues the engine opened (a sink
// per sender thread; receiver threads share the sources among them).
size_t running_sender_threads(const ScanPlan& plan, const IoEngine& engine);
size_t running_receiver_threads(const ScanPlan& plan, const IoEngine& engine);

// Of the plan's addresses (not windows), how many `set` holds (a live opt-out's reach).
uint64_t excluded_addresses(const ScanPlan& plan, const AddressSet& set);

// Where a run starts: the shard position to continue from, and the counts of the earlier
// runs of the same scan (a resume).
struct RunStart {
  uint64_t first_position = 0;
  Totals carried;
};

// --checkpoint-file: the open file, and the record's fixed part for this run (identity,
// seed, key, results path, start, resumes); the runner fills in progress and counts.
struct CheckpointTarget {
  CheckpointFile file;
  Checkpoint record;
};

// What the scan gave up at the end of setup (anyscan(8), SECURITY), for the metadata.
struct Confinement {
  std::string user;  // switched to ("" = the starting user)
  uint32_t uid = 0;
  bool bounding_set_cleared = false;
  bool seccomp = false;
  size_t syscalls_allowed = 0;
};

// A blocklist reload (SIGHUP), for the metadata.
struct ReloadRecord {
  std::string time;              // ISO 8601 UTC, when the signal was taken
  std::string outcome;           // "in effect", "refused: WHY" (the old list stays), "pending"
  uint64_t addresses = 0;        // of this scan's addresses (not windows), how many the list holds
  double in_effect_after_s = 0;  // until every sender built its frames with it
};

// How a run ended, for the done line and the metadata.
struct RunSummary {
  size_t sender_threads = 0, receiver_threads = 0;
  std::string stop_reason = "completed";
  bool interrupted = false;
  uint64_t start_ns = 0, end_ns = 0;
  std::string start_time, end_time;  // ISO 8601 UTC
  Totals totals;
  std::string scan_start;                // first run's start (checkpointed scans)
  std::vector<ResumeRecord> resumes;     // each resume of a checkpointed scan, oldest first
  uint64_t dedup_bytes = 0;              // what the exact dedup holds at the end
  uint64_t output_stalls = 0;            // times a receiver waited for the results file
  std::optional<uint64_t> peak_rss_kib;  // VmHWM at the end, where /proc is mounted
  Confinement confinement;
  uint32_t filter_checked_threads = 0;  // receivers that saw the filter refuse a call
  std::vector<ReloadRecord> reloads;    // SIGHUPs, oldest first
  std::string purge;     // what the end of the run did with results of excluded addresses
  Result<void> outcome;  // the first thread error, or a failed final flush
};

// The running part of a scan: receiver threads (started first, so no early reply is
// missed), sender threads, and on the calling thread the control loop: signals (SIGINT/
// SIGTERM stop sending and start the cooldown; a second one ends it), limits (-t, -N),
// the cooldown, a status report and a results flush every second.
class ScanRunner {
 public:
  ScanRunner(const ScanPlan& plan, const ScanConfig& config, IoEngine& engine, ScanOutputs& outputs,
             RunStart start = {}, std::optional<CheckpointTarget> checkpoint = std::nullopt);
  // A resume: the results already in `path` (its first `offset` bytes) go into the dedup, so
  // a re-sent probe's reply is not reported twice. kDataErr names a line that is not one.
  Result<uint64_t> reload_results(const std::string& path, uint64_t offset);
  // --metrics-file: what the metrics name; they are published every --metrics-interval
  // seconds while the scan runs (the final ones are the caller's, after the run).
  void set_metrics(MetricsFacts facts) { metrics_facts_ = std::move(facts); }
  // Live opt-out (scan/opt_out.h): SIGHUP reads the blocklist again through `helper`.
  // Without one (a dry run, the alias detection), a SIGHUP stays pending for the next runner.
  void set_opt_out(OptOutHelper* helper) { opt_out_ = helper; }
  // A list that differs from the plan's already at the start (a resume after the blocklist
  // changed): in effect before the first probe. `addresses`: of the plan's, how many it holds
  // (excluded_addresses, as the caller found it).
  void exclude_from_start(AddressSet set, uint64_t addresses, const std::string& why);
  RunSummary run();

 private:
  void start_receivers();
  void start_senders();
  // The control loop; returns when the scan is over (or a second signal came).
  void control(const sigset_t& signals);
  timespec control_wait(uint64_t now, uint64_t next_status_ns) const;
  bool on_signal(int signal);              // false: leave the loop at once
  void reload_blocklist(uint64_t now_ns);  // SIGHUP
  void check_reload_in_effect(uint64_t now_ns);
  // The end of a run after a reload: the results file without the excluded addresses.
  void purge_excluded_results();
  bool within_send_failures(const Totals& totals);  // false: the scan ends
  void stop_and_join();
  StatusSnapshot snapshot(uint64_t now_ns) const;
  bool flush_results();
  // Writes the checkpoint (results synced first); `final` at the end of the run. Errors are
  // logged and make the run fail: a scan that cannot checkpoint must not pretend it can.
  bool write_checkpoint(uint64_t now_ns, bool final);
  // The shard position a resume may start from: the low-water mark of cooldown_s ago (what
  // was sent since may have replies not yet read).
  uint64_t resumable_position(uint64_t now_ns);
  void sample_low_water(uint64_t now_ns);

  const ScanPlan& plan_;
  const ScanConfig& config_;
  IoEngine& engine_;
  const ScanOutputs& outputs_;
  MonotonicClock clock_;
  RunStart start_;
  std::optional<CheckpointTarget> checkpoint_;
  std::deque<std::pair<uint64_t, uint64_t>> low_water_history_;  // (time ns, position)
  std::vector<const SenderCounters*> sender_counters_;           // for the low-water mark
  ScanCounters counters_;
  std::optional<OutputFilter> filter_;  // --output-filter
  ResultCollector collector_;
  IndexPermutation permutation_;
  WorkQueue work_;
  RateLimiter limiter_;
  StatusReporter reporter_;
  std::atomic<bool> stop_sending_{false};
  std::atomic<bool> finish_receiving_{false};
  std::atomic<uint32_t> filter_checked_{0};
  std::vector<Result<void>> thread_results_;
  std::vector<std::thread> receivers_, senders_;
  ScanPhase phase_ = ScanPhase::kSending;
  uint64_t cooldown_end_ns_ = 0;
  int signals_seen_ = 0;
  pid_t control_tid_ = 0;  // the thread in control(): senders wake it when they end
  RunSummary summary_;
  std::optional<MetricsFacts> metrics_facts_;
  OptOutHelper* opt_out_ = nullptr;
  Exclusions exclusions_;
  uint32_t pending_epoch_ = 0;    // a reload not yet in effect in every sender
  uint64_t newest_excludes_ = 0;  // of the plan's addresses, how many the newest list holds
  uint64_t pending_since_ns_ = 0;
  Totals purged_;                         // what the purge took out of the results file
  std::optional<uint64_t> results_size_;  // the file's size after a purge
};

}  // namespace anyscan
