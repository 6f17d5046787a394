#include "store/scan_outputs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/write_all.h"

namespace anyscan {

namespace {

constexpr std::string_view kStatusHeader =
    "real-time,time-elapsed,time-remaining,percent-complete,active-send-threads,sent-total,"
    "sent-last-one-sec,sent-avg-per-sec,recv-success-total,recv-total,validation-failed-total,"
    "drop-total,sendto-fail-total\n";

// Not O_TRUNC: every output is opened before any is cut (see open()).
Result<UniqueFd> create_output(const std::string& path, const char* flag) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid())
    return make_error(ExitCode::kCantCreate,
                      errno_message(std::string(flag) + ": cannot create " + path, errno));
  return fd;
}

}  // namespace

Result<ScanOutputs> ScanOutputs::open(const ScanConfig& config,
                                      std::optional<uint64_t> resume_offset) {
  // Every file is opened (created if missing) before any is cut: a run that cannot open
  // one of them leaves the others as they were.
  ScanOutputs outputs;
  auto notifier = ServiceNotifier::open();
  if (!notifier) return tl::unexpected(notifier.error());
  outputs.notifier_ = std::move(*notifier);
  if (!config.metrics_file.empty() && !config.dryrun) {
    // Forked here, before the scan starts any thread (store/metrics_file.h).
    auto metrics = MetricsFile::start(config.metrics_file);
    if (!metrics) return tl::unexpected(metrics.error());
    outputs.metrics_ = std::move(*metrics);
  }
  if (!config.metadata_file.empty()) {
    auto fd = create_output(config.metadata_file, "-m");
    if (!fd) return tl::unexpected(fd.error());
    outputs.metadata_ = std::move(*fd);
  }
  if (!config.status_file.empty()) {
    auto fd = create_output(config.status_file, "-u");
    if (!fd) return tl::unexpected(fd.error());
    outputs.status_ = std::move(*fd);
  }
  if (!(config.dryrun && config.output_file == "-")) {
    auto sink = open_result_sink(config.output_file, config.output_format == OutputFormat::kJson,
                                 config.output_fields, resume_offset, !config.no_header_row);
    if (!sink) return tl::unexpected(with_context(sink.error(), "-o"));
    outputs.results_ = std::move(*sink);
  }
  for (const UniqueFd* fd : {&outputs.metadata_, &outputs.status_})
    if (fd->valid() && ::ftruncate(fd->get(), 0) != 0 && errno != EINVAL)  // EINVAL: a FIFO
      return make_error(ExitCode::kIoErr, errno_message("emptying an output file", errno));
  if (outputs.status_.valid())
    if (auto header = write_all(outputs.status_.get(), kStatusHeader, "-u status file"); !header)
      return tl::unexpected(header.error());
  return outputs;
}

ScanOutputs ScanOutputs::into(std::unique_ptr<ResultSink> sink) {
  ScanOutputs outputs;
  outputs.results_ = std::move(sink);
  return outputs;
}

Result<void> ScanOutputs::write_status(std::string_view record) {
  if (!status_.valid()) return {};
  return write_all(status_.get(), record, "-u status file");
}

Result<void> ScanOutputs::write_metadata(std::string_view json) {
  if (!metadata_.valid()) return {};
  return write_all(metadata_.get(), json, "-m metadata file");
}

}  // namespace anyscan
