#include "host/process_memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/parse_number.h"
#include "base/unique_fd.h"

namespace anyscan {

Result<uint64_t> parse_status_number(std::string_view status, std::string_view key) {
  const std::string needle = "\n" + std::string(key) + ":";
  const size_t at = status.find(needle);
  if (at == std::string_view::npos)
    return make_error(ExitCode::kSoftware,
                      "/proc/self/status has no " + std::string(key) + " line");
  std::string_view rest = status.substr(at + needle.size());
  rest = rest.substr(0, rest.find('\n'));
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  const auto value = parse_decimal(rest.substr(0, rest.find(' ')), UINT64_MAX / 1024);
  if (!value)
    return make_error(ExitCode::kSoftware,
                      "/proc/self/status: " + std::string(key) + " is not a number");
  return *value;
}

Result<uint64_t> parse_vm_hwm_kib(std::string_view status) {
  const size_t at = status.find("\nVmHWM:");
  if (at != std::string_view::npos) {
    const std::string_view line = status.substr(at + 1, status.find('\n', at + 1) - at - 1);
    if (line.find(" kB") == std::string_view::npos)
      return make_error(ExitCode::kSoftware, "/proc/self/status: VmHWM is not in kB");
  }
  return parse_status_number(status, "VmHWM");
}

Result<ProcessStatus> ProcessStatus::open() {
  UniqueFd fd(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error(ExitCode::kIoErr, errno_message("/proc/self/status", errno));
  return ProcessStatus(std::move(fd));
}

Result<uint64_t> ProcessStatus::peak_rss_kib() const {
  auto text = read();
  if (!text) return tl::unexpected(text.error());
  return parse_vm_hwm_kib("\n" + *text);
}

Result<uint64_t> ProcessStatus::threads() const {
  auto text = read();
  if (!text) return tl::unexpected(text.error());
  return parse_status_number("\n" + *text, "Threads");
}

Result<std::string> ProcessStatus::read() const {
  std::string text(8192, '\0');
  size_t used = 0;
  while (used < text.size()) {
    const ssize_t n =
        ::pread(fd_.get(), text.data() + used, text.size() - used, static_cast<off_t>(used));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ExitCode::kIoErr, errno_message("/proc/self/status", errno));
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  text.resize(used);
  return text;
}

Result<uint64_t> peak_rss_kib() {
  auto status = ProcessStatus::open();
  if (!status) return tl::unexpected(status.error());
  return status->peak_rss_kib();
}

}  // namespace anyscan
