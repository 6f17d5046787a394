#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace anyscan {

// This process's /proc/self/status, opened once (during setup, before the scan's
// system-call filter allows no open) and read afresh each time: a read at offset 0 makes
// the kernel generate it again.
class ProcessStatus {
 public:
  static Result<ProcessStatus> open();
  // The peak resident set, in KiB: VmHWM. Not getrusage()'s ru_maxrss, which Linux carries
  // across execve, so a scanner started by a large parent would report the parent's peak.
  Result<uint64_t> peak_rss_kib() const;
  // Threads of the process now ("Threads:").
  Result<uint64_t> threads() const;

 private:
  Result<std::string> read() const;
  explicit ProcessStatus(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// ProcessStatus::open() and peak_rss_kib() at once.
Result<uint64_t> peak_rss_kib();

// The VmHWM value in the text of a /proc/PID/status file (exposed for tests).
Result<uint64_t> parse_vm_hwm_kib(std::string_view status);
// A "KEY:\tNUMBER" line of it ("Threads"), whatever unit follows.
Result<uint64_t> parse_status_number(std::string_view status, std::string_view key);

}  // namespace anyscan
