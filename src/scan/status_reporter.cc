#include "scan/status_reporter.h"

#include <sys/time.h>

#include <cinttypes>
#include <cstdio>

#include "base/log.h"

namespace anyscan {

std::string now_iso() {
  timeval now{};
  ::gettimeofday(&now, nullptr);
  return format_timestamp(now.tv_sec, static_cast<int32_t>(now.tv_usec));
}

std::string StatusReporter::human_count(double value) {
  char buffer[32];
  if (value >= 1e9)
    std::snprintf(buffer, sizeof buffer, "%.2fG", value / 1e9);
  else if (value >= 1e6)
    std::snprintf(buffer, sizeof buffer, "%.2fM", value / 1e6);
  else if (value >= 1e4)
    std::snprintf(buffer, sizeof buffer, "%.1fk", value / 1e3);
  else
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  return buffer;
}

std::string StatusReporter::clock_text(uint64_t seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, seconds / 3600,
                seconds / 60 % 60, seconds % 60);
  return buffer;
}

StatusReporter::StatusReporter(ScanOutputs& outputs, uint64_t start_ns, uint32_t cooldown_s,
                               bool progress_line)
    : outputs_(outputs),
      start_ns_(start_ns),
      cooldown_s_(cooldown_s),
      progress_line_(progress_line) {}

void StatusReporter::report(const StatusSnapshot& snap, bool final_report) {
  const Totals& s = snap.totals;
  const double elapsed = static_cast<double>(snap.now_ns - start_ns_) / 1e9;
  const double percent = s.targets_total ? 100.0 * static_cast<double>(s.targets_done) /
                                               static_cast<double>(s.targets_total)
                                         : 100.0;
  const double pps = elapsed > 0 ? static_cast<double>(s.sent) / elapsed : 0;
  const uint64_t sent_last = s.sent - last_sent_;
  last_sent_ = s.sent;
  uint64_t remaining_s = 0;
  if (snap.phase == ScanPhase::kSending && s.targets_done > 0 && s.targets_done < s.targets_total)
    remaining_s =
        static_cast<uint64_t>(elapsed * static_cast<double>(s.targets_total - s.targets_done) /
                              static_cast<double>(s.targets_done)) +
        cooldown_s_;
  else if (snap.phase == ScanPhase::kCooldown && snap.cooldown_end_ns > snap.now_ns)
    remaining_s = (snap.cooldown_end_ns - snap.now_ns) / 1000000000ULL;
  const uint64_t lost = s.dropped + s.not_redirected;
  char line[320];
  std::snprintf(
      line, sizeof line,
      "%s %.1f%%%s; sent %s (%s pps), results %s (%s open/up), invalid %s, drops %s, ETA %s",
      clock_text(static_cast<uint64_t>(elapsed)).c_str(), percent,
      snap.phase == ScanPhase::kCooldown ? " (cooldown)" : "",
      human_count(static_cast<double>(s.sent)).c_str(),
      human_count(static_cast<double>(sent_last)).c_str(),
      human_count(static_cast<double>(s.results)).c_str(),
      human_count(static_cast<double>(s.success)).c_str(),
      human_count(static_cast<double>(s.validation_failed)).c_str(),
      human_count(static_cast<double>(lost)).c_str(), clock_text(remaining_s).c_str());
  if (progress_line_ && !final_report) std::fprintf(stderr, "%s\n", line);
  outputs_.notify(std::string("STATUS=") + line);
  char record[400];
  std::snprintf(record, sizeof record,
                "%s,%.0f,%" PRIu64 ",%.2f,%zu,%" PRIu64 ",%" PRIu64 ",%.0f,%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                now_iso().c_str(), elapsed, remaining_s, percent, snap.active_senders, s.sent,
                sent_last, pps, s.success, s.received, s.validation_failed, lost, s.failed);
  if (auto written = outputs_.write_status(record); !written)
    logf(LogLevel::kWarn, "%s", written.error().message.c_str());
}

}  // namespace anyscan
