#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace anyscan {

// --metrics-file FILE: Prometheus text-format metrics for node_exporter's textfile
// collector, replaced as a whole each time (written to FILE.tmp.PID, mode 0644, then renamed
// over FILE, so a scrape never reads half a file).
//
// The scan opens no file once it is confined (its system-call filter has no open or rename),
// so the file is written by a small child forked at setup, before any thread exists: it
// keeps only the socket the scan sends each new text over (a Unix socket pair: a writer that
// died costs the scan an error, never a SIGPIPE), gives up every capability, ignores the
// terminal's signals (a Ctrl-C reaches the whole process group; the scan decides when it
// ends) and does nothing but write, rename, acknowledge and exit when the socket closes.
class MetricsFile {
 public:
  // Starts the writer for `path`; its directory must exist. kCantCreate naming the path
  // when a first (empty) write fails.
  static Result<std::unique_ptr<MetricsFile>> start(const std::string& path);
  ~MetricsFile();
  MetricsFile(const MetricsFile&) = delete;
  MetricsFile& operator=(const MetricsFile&) = delete;

  // Hands over the next whole text; the writer puts it in place and says so. kIoErr when the
  // writer is gone.
  Result<void> publish(std::string_view text);
  // Waits up to timeout_ms until every text handed over is in place (the last one, before
  // the scan exits: the service manager then ends what is left of the unit). kIoErr when not.
  Result<void> wait_written(int timeout_ms);
  const std::string& path() const { return path_; }
  // anyscan_last_success_timestamp_seconds of the file as it was before this run.
  std::optional<double> previous_success_s() const { return previous_success_s_; }

 private:
  MetricsFile(std::string path, UniqueFd socket, std::optional<double> previous)
      : path_(std::move(path)), socket_(std::move(socket)), previous_success_s_(previous) {}
  void take_acks(int timeout_ms);
  std::string path_;
  UniqueFd socket_;  // texts out, one acknowledgement byte back per text in place
  uint64_t sent_ = 0, acked_ = 0;
  std::optional<double> previous_success_s_;
};

// The value of `metric`'s sample in a metrics file this scan wrote before (the last
// successful run's time, which a new run carries on); nullopt when absent or unreadable.
std::optional<double> previous_metric_value(const std::string& path, std::string_view metric);
// The same on the file's text (fuzzed: the file may hold anything).
std::optional<double> metric_value_in(std::string_view text, std::string_view metric);

}  // namespace anyscan
