#include "scan/scan_runner.h"

#include <sys/syscall.h>

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "base/log.h"
#include "host/syscall_filter.h"
#include "store/result_file.h"

namespace anyscan {

namespace {
constexpr uint64_t kSecondNs = 1000000000ULL;
constexpr long kControlTickNs = 100 * 1000 * 1000;
// "anyscan-send0", as top -H, perf and /proc/PID/task show it (15 characters at most).
void name_thread(const char* role, size_t index) {
  char name[16];
  std::snprintf(name, sizeof name, "anyscan-%s%zu", role, index);
  ::pthread_setname_np(::pthread_self(), name);
}

}  // namespace

size_t running_sender_threads(const ScanPlan& plan, const IoEngine& engine) {
  return std::min<size_t>(plan.sender_threads, engine.sink_count());
}

size_t running_receiver_threads(const ScanPlan& plan, const IoEngine& engine) {
  return std::min<size_t>(std::max(plan.receiver_threads, 1u), engine.source_count());
}

ScanRunner::ScanRunner(const ScanPlan& plan, const ScanConfig& config, IoEngine& engine,
                       ScanOutputs& outputs, RunStart start,
                       std::optional<CheckpointTarget> checkpoint)
    : plan_(plan),
      config_(config),
      engine_(engine),
      outputs_(outputs),
      start_(start),
      checkpoint_(std::move(checkpoint)),
      counters_(running_sender_threads(plan, engine), running_receiver_threads(plan, engine)),
      collector_(plan.key.words[0] ^ plan.key.words[1]),
      permutation_(plan.target_count(), plan.seed),
      work_(plan.slice, start.first_position),
      limiter_(plan.rate_pps, clock_.now_ns()),
      reporter_(outputs, clock_.now_ns(), config.cooldown_s,
                !config.quiet && ::isatty(STDERR_FILENO)) {
  // No dedup room reserved up front: it cost 12 ms before the first probe and 19 MiB
  // (bench/README.md, start-up), and a shard that grows rehashes 1/16384 of the results.
  if (plan.slice.count < plan.target_count()) {
    collector_.permutation = &permutation_;
    collector_.slice = plan.slice;
  }
  collector_.sink = outputs.results();
  collector_.exclusions = &exclusions_;
  collector_.max_results = config.max_results;
  if (!config.output_filter.empty()) {
    auto filter = OutputFilter::parse(config.output_filter);  // checked when parsed
    if (filter) filter_ = std::move(*filter);
    collector_.filter = filter_ ? &*filter_ : nullptr;
  }
  if (checkpoint_) {
    summary_.scan_start = checkpoint_->record.started;
    summary_.resumes = checkpoint_->record.resumes;
  }
  summary_.sender_threads = running_sender_threads(plan, engine);
  for (size_t t = 0; t < summary_.sender_threads; ++t)
    sender_counters_.push_back(&counters_.sender(t));
  summary_.receiver_threads = running_receiver_threads(plan, engine);
}

void ScanRunner::start_receivers() {
  const size_t threads = summary_.receiver_threads;
  for (size_t t = 0; t < threads; ++t) {
    std::vector<PacketSource*> sources;  // queues t, t + threads, t + 2 * threads, ...
    for (size_t q = t; q < engine_.source_count(); q += threads)
      sources.push_back(&engine_.source(q));
    Result<void>& result = thread_results_.emplace_back();
    receivers_.emplace_back([this, t, sources = std::move(sources), &result] {
      name_thread("recv", t);
      // The thread that parses what the network sends: checked, not assumed, to be under the
      // system-call filter before it reads a frame.
      if (!config_.no_seccomp) {
        if (!scan_syscall_filter_active()) {
          result = make_error(ExitCode::kSoftware, "receiver thread " + std::to_string(t) +
                                                       " is not under the system-call filter");
          stop_sending_.store(true);
          return;
        }
        filter_checked_.fetch_add(1);
      }
      Receiver receiver(plan_, *plan_.probe, sources, collector_, counters_.receiver(t));
      result = receiver.run(finish_receiving_);
      if (!result) stop_sending_.store(true);
    });
  }
}

void ScanRunner::start_senders() {
  for (size_t t = 0; t < summary_.sender_threads; ++t) {
    Result<void>& result = thread_results_.emplace_back();
    senders_.emplace_back([this, t, &result] {
      name_thread("send", t);
      if (!config_.cores.empty()) {  // --cores
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        CPU_SET(config_.cores[t % config_.cores.size()], &cpus);
        if (::sched_setaffinity(0, sizeof cpus, &cpus) != 0)
          logf(LogLevel::kWarn, "--cores: sender thread %zu stays unpinned: %s", t,
               std::strerror(errno));
      }
      Sender sender(plan_, permutation_, work_, config_.probes, *plan_.probe, engine_.sink(t),
                    limiter_, clock_, stop_sending_, counters_.sender(t), &exclusions_);
      result = sender.run();
      if (!result) stop_sending_.store(true);
      // Wakes the control loop at once (SIGUSR1, waited for there, blocked everywhere): the
      // last sender's end starts the cooldown without waiting for a tick.
      ::syscall(SYS_tgkill, ::getpid(), control_tid_, SIGUSR1);
    });
  }
}

StatusSnapshot ScanRunner::snapshot(uint64_t now_ns) const {
  StatusSnapshot snap;
  snap.totals = counters_.totals(work_.slice().count);
  const EngineLoss loss = engine_.loss();
  snap.totals.dropped = loss.kernel_dropped;
  snap.totals.not_redirected = loss.not_redirected;
  add_counts(snap.totals, start_.carried);  // a resumed scan's earlier runs
  // Records a purge took out of the file (every run's), which count as withdrawn instead.
  snap.totals.results -= purged_.results;
  snap.totals.success -= purged_.success;
  snap.totals.results_ipv6 -= purged_.results_ipv6;
  for (int c = 0; c < Totals::kClasses; ++c)
    snap.totals.*kResultsByClass[c] -= purged_.*kResultsByClass[c];
  snap.totals.withdrawn += purged_.results;
  snap.now_ns = now_ns;
  snap.phase = phase_;
  snap.cooldown_end_ns = cooldown_end_ns_;
  snap.active_senders = counters_.active_senders();
  return snap;
}

// Once a second: what the receivers formatted goes to the writer thread (no waiting), so
// results reach the file within about a second. False when the file failed: the scan ends
// at once (no cooldown: nothing more can be recorded).
bool ScanRunner::flush_results() {
  if (collector_.sink == nullptr) return true;
  {
    std::lock_guard<std::mutex> lock(collector_.mutex);
    collector_.sink->submit();
  }
  auto health = collector_.sink->health();
  if (health) return true;
  logf(LogLevel::kError, "%s: stopping the scan", health.error().message.c_str());
  summary_.stop_reason = "results file failed";
  if (summary_.outcome) summary_.outcome = health;
  return false;
}

// --max-sendto-failures: more failed sends than that end the scan (zmap's meaning).
bool ScanRunner::within_send_failures(const Totals& totals) {
  if (config_.max_send_failures == 0 || totals.failed <= config_.max_send_failures) return true;
  summary_.stop_reason = "too many send failures";
  if (summary_.outcome)
    summary_.outcome = make_error(
        ExitCode::kIoErr, std::to_string(totals.failed) + " probes could not be sent, more than " +
                              "--max-sendto-failures " + std::to_string(config_.max_send_failures));
  stop_sending_.store(true);
  return false;
}

bool ScanRunner::on_signal(int signal) {
  if (signal == SIGHUP) {
    reload_blocklist(clock_.now_ns());
    return true;
  }
  summary_.interrupted = true;
  if (++signals_seen_ > 1) {
    logf(LogLevel::kInfo, "second signal: skipping the rest of the cooldown");
    return false;
  }
  summary_.stop_reason = std::string("interrupted by ") + (signal == SIGINT ? "SIGINT" : "SIGTERM");
  logf(LogLevel::kInfo, "%s: stop sending, receiving for the %u s cooldown (send it again to skip)",
       summary_.stop_reason.c_str(), config_.cooldown_s);
  outputs_.notify("STATUS=stopping: cooldown");
  stop_sending_.store(true);
  return true;
}

uint64_t excluded_addresses(const ScanPlan& plan, const AddressSet& set) {
  const uint128_t n = plan.addresses.intersect(set).count();
  return n > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(n);
}

void ScanRunner::exclude_from_start(AddressSet set, uint64_t addresses, const std::string& why) {
  ReloadRecord record{now_iso(), "in effect", addresses, 0};
  newest_excludes_ = addresses;
  logf(LogLevel::kInfo, "%s: %s of this scan's addresses excluded from the start (live opt-out)",
       why.c_str(), std::to_string(record.addresses).c_str());
  exclusions_.publish(std::move(set));
  summary_.reloads.push_back(std::move(record));
}

// SIGHUP: the blocklist again, through the helper (the scan cannot open it). A list that
// does not read or parse is refused whole: the one in effect stays.
void ScanRunner::reload_blocklist(uint64_t now_ns) {
  ReloadRecord record{now_iso(), "", 0, 0};
  auto set = opt_out_->read_blocklist();
  if (!set) {
    record.outcome = "refused: " + set.error().message;
    logf(LogLevel::kError, "SIGHUP: blocklist reload refused, the list in effect stays: %s",
         set.error().message.c_str());
    summary_.reloads.push_back(std::move(record));
    return;
  }
  record.addresses = newest_excludes_ = excluded_addresses(plan_, *set);
  record.outcome = "pending";
  pending_epoch_ = exclusions_.publish(std::move(*set));
  pending_since_ns_ = now_ns;
  logf(LogLevel::kInfo,
       "SIGHUP: blocklist %s read again: %s of this scan's %s addresses now excluded (not probed "
       "from now on, their results not written)",
       config_.blocklist_file.c_str(), std::to_string(record.addresses).c_str(),
       std::to_string(plan_.addresses.size()).c_str());
  summary_.reloads.push_back(std::move(record));
  outputs_.notify("STATUS=blocklist reloaded");
  check_reload_in_effect(now_ns);
}

// In effect once every running sender builds its frames with it: from then on no frame to
// an excluded address is submitted.
void ScanRunner::check_reload_in_effect(uint64_t now_ns) {
  if (!counters_.senders_use(pending_epoch_)) return;
  ReloadRecord& record = summary_.reloads.back();
  record.outcome = "in effect";
  record.in_effect_after_s = static_cast<double>(now_ns - pending_since_ns_) / 1e9;
  logf(LogLevel::kInfo, "blocklist reload %u in effect in every sender after %.3f s",
       pending_epoch_, record.in_effect_after_s);
  pending_epoch_ = 0;
}

// After a reload: what the file already held for the excluded addresses goes too (the writer
// is done; the helper rewrites the file and renames it over). A file that cannot be
// rewritten fails the run: opted-out data must not stay unnoticed.
void ScanRunner::purge_excluded_results() {
  if (collector_.sink == nullptr) return;
  if (!opt_out_->can_purge()) {
    summary_.purge = "not possible: the results went to standard output";
    logf(LogLevel::kWarn,
         "blocklist reload: results written to standard output before it cannot be taken back");
    return;
  }
  const uint64_t offset = collector_.sink->submit();
  if (auto written = collector_.sink->wait_written(offset, true); !written) {
    summary_.outcome = written;
    return;
  }
  auto purged = opt_out_->purge_results(*exclusions_.current(), offset);
  if (!purged) {
    summary_.purge = "failed: " + purged.error().message;
    logf(LogLevel::kError, "blocklist reload: the results of excluded addresses stay in %s: %s",
         config_.output_file.c_str(), purged.error().message.c_str());
    summary_.outcome = tl::unexpected(purged.error());
    return;
  }
  purged_.results = purged->removed;
  purged_.success = purged->success;
  purged_.results_ipv6 = purged->ipv6;
  for (int c = 0; c < Totals::kClasses; ++c) purged_.*kResultsByClass[c] = purged->by_class[c];
  results_size_ = purged->size;
  summary_.purge = "removed " + std::to_string(purged->removed) + " results written before";
  logf(LogLevel::kInfo,
       "blocklist reload: %" PRIu64
       " results of excluded addresses written before it removed "
       "from %s",
       purged->removed, config_.output_file.c_str());
}

// How long the control loop may sleep: a tick, or less when a deadline (the next status
// line, -t, the cooldown's end) comes sooner, so none of them waits for a tick.
timespec ScanRunner::control_wait(uint64_t now, uint64_t next_status_ns) const {
  uint64_t until = std::min<uint64_t>(now + kControlTickNs, next_status_ns);
  if (phase_ == ScanPhase::kSending && config_.max_runtime_s != 0 && !stop_sending_.load())
    until = std::min(until, summary_.start_ns + config_.max_runtime_s * kSecondNs);
  if (phase_ == ScanPhase::kCooldown) until = std::min(until, cooldown_end_ns_);
  const uint64_t wait = until > now ? until - now : 0;
  return timespec{static_cast<time_t>(wait / kSecondNs), static_cast<long>(wait % kSecondNs)};
}

void ScanRunner::control(const sigset_t& signals) {
  uint64_t next_status_ns = summary_.start_ns + kSecondNs;
  uint64_t next_metrics_ns = summary_.start_ns;
  uint64_t now = clock_.now_ns();
  while (true) {
    const timespec wait = control_wait(now, next_status_ns);
    siginfo_t info{};
    const int signal =
        wait.tv_sec == 0 && wait.tv_nsec == 0 ? 0 : ::sigtimedwait(&signals, &info, &wait);
    now = clock_.now_ns();
    if (checkpoint_) sample_low_water(now);  // every tick: a resume loses at most 100 ms more
    if (signal > 0 && signal != SIGUSR1 && !on_signal(signal)) return;
    if (pending_epoch_ != 0) check_reload_in_effect(now);
    if (phase_ == ScanPhase::kSending) {
      if (config_.max_runtime_s != 0 &&
          now - summary_.start_ns >= config_.max_runtime_s * kSecondNs && !stop_sending_.load()) {
        summary_.stop_reason = "max runtime reached";
        stop_sending_.store(true);
      }
      if (collector_.limit_reached.load()) {
        summary_.stop_reason = "max results reached";
        return;  // nothing more is wanted: no cooldown
      }
      if (counters_.all_senders_finished()) {
        phase_ = ScanPhase::kCooldown;
        collector_.cooldown.store(true, std::memory_order_relaxed);
        // A dry run sends nothing, so no reply can come: no cooldown.
        cooldown_end_ns_ = now + (config_.dryrun ? 0 : uint64_t{config_.cooldown_s} * kSecondNs);
        outputs_.notify("STATUS=cooldown");
      }
    } else if (now >= cooldown_end_ns_ || collector_.limit_reached.load()) {
      return;
    }
    if (now >= next_status_ns) {
      const StatusSnapshot snap = snapshot(now);
      reporter_.report(snap, false);
      if (!within_send_failures(snap.totals)) return;
      if (!flush_results()) return;
      if (!write_checkpoint(now, false)) return;
      next_status_ns += kSecondNs;
      if (outputs_.metrics() != nullptr && metrics_facts_ && now >= next_metrics_ns) {
        if (auto published = outputs_.metrics()->publish(metrics_text(*metrics_facts_, snap.totals,
                                                                      /*running=*/true));
            !published)
          logf(LogLevel::kWarn, "%s", published.error().message.c_str());
        next_metrics_ns = now + uint64_t{config_.metrics_interval_s} * kSecondNs;
      }
    }
  }
}

void ScanRunner::stop_and_join() {
  outputs_.notify("STOPPING=1");
  stop_sending_.store(true);
  for (auto& t : senders_) t.join();
  finish_receiving_.store(true, std::memory_order_release);
  for (auto& t : receivers_) t.join();
}

RunSummary ScanRunner::run() {
  // Signals are taken synchronously by this thread only; every thread started below
  // inherits the blocked mask.
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);                          // a sender's end (start_senders)
  if (opt_out_ != nullptr) sigaddset(&signals, SIGHUP);  // reload the blocklist
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  control_tid_ = static_cast<pid_t>(::syscall(SYS_gettid));

  summary_.start_ns = clock_.now_ns();
  summary_.start_time = now_iso();
  if (checkpoint_) sample_low_water(summary_.start_ns);
  // Each thread holds a reference to its slot: no reallocation after this.
  thread_results_.reserve(summary_.sender_threads + summary_.receiver_threads);
  start_receivers();
  start_senders();
  outputs_.notify("READY=1\nSTATUS=sending probes");
  control(signals);
  stop_and_join();
  summary_.end_ns = clock_.now_ns();
  const StatusSnapshot last = snapshot(summary_.end_ns);
  reporter_.report(last, true);
  summary_.totals = last.totals;
  // The senders are joined: a wake-up still pending (a sender ending after the loop left)
  // is taken now, or unblocking it below would end the process.
  sigset_t wakeups;
  sigemptyset(&wakeups);
  sigaddset(&wakeups, SIGUSR1);
  const timespec no_wait{0, 0};
  while (::sigtimedwait(&wakeups, nullptr, &no_wait) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  for (auto& r : thread_results_)
    if (!r && summary_.outcome) summary_.outcome = r;
  if (collector_.sink != nullptr) {
    if (auto flushed = collector_.sink->flush(); !flushed && summary_.outcome)
      summary_.outcome = flushed;
    summary_.output_stalls = collector_.sink->stalls();
  }
  summary_.dedup_bytes = collector_.dedup.memory_bytes();
  summary_.filter_checked_threads = filter_checked_.load();
  if (pending_epoch_ != 0) check_reload_in_effect(summary_.end_ns);  // every sender is done
  // A newest list that holds none of the scan's addresses (or windows) leaves the file as is.
  const bool purge =
      exclusions_.current() != nullptr && (!plan_.windows.empty() || newest_excludes_ != 0);
  if (summary_.outcome && purge) {
    purge_excluded_results();
    summary_.totals = snapshot(summary_.end_ns).totals;  // less what the purge took out
  }
  if (summary_.outcome) write_checkpoint(summary_.end_ns, true);
  summary_.end_time = now_iso();
  return summary_;
}

void ScanRunner::sample_low_water(uint64_t now_ns) {
  low_water_history_.emplace_back(now_ns, work_.low_water(sender_counters_));
}

uint64_t ScanRunner::resumable_position(uint64_t now_ns) {
  sample_low_water(now_ns);
  const uint64_t cooldown_ns = uint64_t{config_.cooldown_s} * kSecondNs;
  const uint64_t horizon = now_ns > cooldown_ns ? now_ns - cooldown_ns : 0;
  // Keep the newest sample at or before the horizon and everything after it.
  while (low_water_history_.size() >= 2 && low_water_history_[1].first <= horizon)
    low_water_history_.pop_front();
  const auto& oldest = low_water_history_.front();
  return oldest.first <= horizon ? oldest.second : start_.first_position;
}

bool ScanRunner::write_checkpoint(uint64_t now_ns, bool final) {
  if (!checkpoint_ || collector_.sink == nullptr) return true;
  // Done for good: everything sent and its cooldown over, or the result limit reached.
  const bool finished =
      final && !summary_.interrupted &&
      (summary_.stop_reason == "completed" || summary_.stop_reason == "max results reached");
  const uint64_t position = finished ? plan_.slice.count : resumable_position(now_ns);
  uint64_t offset = 0;
  Totals totals;
  {
    // Under the receivers' lock: the counts match the records handed to the file.
    std::lock_guard<std::mutex> lock(collector_.mutex);
    offset = collector_.sink->submit();
    totals = snapshot(now_ns).totals;
  }
  if (results_size_) offset = *results_size_;  // the purged file (final: nothing after it)
  Result<void> done = collector_.sink->wait_written(offset, true);
  Checkpoint& record = checkpoint_->record;
  if (done) {
    record.finished = finished;
    record.resume_from = position;
    record.slice_count = plan_.slice.count;
    record.results_offset = offset;
    record.counts = totals;
    done = checkpoint_->file.write(record);
  }
  if (done) return true;
  logf(LogLevel::kError, "--checkpoint-file %s: %s: stopping the scan",
       checkpoint_->file.path().c_str(), done.error().message.c_str());
  summary_.stop_reason = "checkpoint failed";
  if (summary_.outcome) summary_.outcome = done;
  return false;
}

Result<uint64_t> ScanRunner::reload_results(const std::string& path, uint64_t offset) {
  const ResultsFormat format = results_format(config_);
  return read_result_lines(path, offset, format.header, [&](std::string_view line) -> Result<void> {
    auto key = format.reader.parse(line);
    if (!key) return tl::unexpected(key.error());
    const auto target_index = plan_.target_index_of(key->saddr, key->sport);
    if (!target_index) return make_error(ExitCode::kDataErr, "a target this scan does not probe");
    collector_.dedup.insert(*target_index, static_cast<uint32_t>(key->classification));
    return {};
  });
}

}  // namespace anyscan
