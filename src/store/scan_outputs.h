#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"
#include "cli/scan_config.h"
#include "host/service_notifier.h"
#include "output/result_sink.h"
#include "store/metrics_file.h"

namespace anyscan {

// Where a scan reports: the files it writes, results (-o), metadata (-m) and status
// records (-u), and the service manager (sd_notify READY/STATUS/STOPPING). Opened
// only once every check that can fail before sending has passed (plan, engine), so a run
// that fails before it sends leaves existing files as they were.
class ScanOutputs {
 public:
  // resume_offset: a resumed scan keeps that much of its results file and appends.
  static Result<ScanOutputs> open(const ScanConfig& config,
                                  std::optional<uint64_t> resume_offset = std::nullopt);

  // Results into `sink` only: no files, no service notifications (a scan's own pre-phase).
  static ScanOutputs into(std::unique_ptr<ResultSink> sink);

  // Null in a dry run that prints its frames to stdout.
  ResultSink* results() const { return results_.get(); }
  // One CSV status record (a no-op without -u).
  Result<void> write_status(std::string_view record);
  // The metadata document (a no-op without -m).
  Result<void> write_metadata(std::string_view json);
  // --metrics-file's writer (null without it).
  MetricsFile* metrics() const { return metrics_.get(); }
  // "READY=1", "STATUS=..." to systemd (a no-op when not started by it).
  void notify(std::string_view state) const { notifier_.notify(state); }

 private:
  std::unique_ptr<ResultSink> results_;
  UniqueFd metadata_;
  UniqueFd status_;
  std::unique_ptr<MetricsFile> metrics_;
  ServiceNotifier notifier_;
};

}  // namespace anyscan
