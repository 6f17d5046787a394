#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace anyscan {

// This process's peak resident set, in KiB: VmHWM of /proc/self/status. Not getrusage()'s
// ru_maxrss, which Linux carries across execve, so a scanner started by a large parent
// would report the parent's peak.
Result<uint64_t> peak_rss_kib();

// The VmHWM value in the text of a /proc/PID/status file (exposed for tests).
Result<uint64_t> parse_vm_hwm_kib(std::string_view status);

}  // namespace anyscan
