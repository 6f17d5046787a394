#pragma once

#include <cstdint>
#include <string>

#include "scan/scan_counters.h"
#include "store/scan_outputs.h"

namespace anyscan {

enum class ScanPhase { kSending, kCooldown };

// One moment of a running scan, as the reporter shows it.
struct StatusSnapshot {
  Totals totals;
  uint64_t now_ns = 0;
  ScanPhase phase = ScanPhase::kSending;
  uint64_t cooldown_end_ns = 0;
  size_t active_senders = 0;
};

// Once a second: the progress line (stderr on a terminal), sd_notify STATUS=, and a CSV
// record in the -u status file (zmap's columns).
class StatusReporter {
 public:
  StatusReporter(ScanOutputs& outputs, uint64_t start_ns, uint32_t cooldown_s, bool progress_line);
  // final_report: the last one, after the threads stopped (no progress line).
  void report(const StatusSnapshot& snapshot, bool final_report);

  // "0:01:05", and "1.23M"-style counts: exposed for tests.
  static std::string clock_text(uint64_t seconds);
  static std::string human_count(double value);

 private:
  ScanOutputs& outputs_;
  uint64_t start_ns_;
  uint32_t cooldown_s_;
  bool progress_line_;
  uint64_t last_sent_ = 0;
};

// ISO 8601 UTC of the current time, with microseconds.
std::string now_iso();

}  // namespace anyscan
