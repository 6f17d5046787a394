#include "store/metrics_file.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/env_file.h"
#include "host/helper_process.h"

namespace anyscan {

namespace {

constexpr uint32_t kMaxText = 1u << 20;

// Puts `text` at `path` through `temp` (both prepared before the fork). System calls only:
// the child of a process that may have had threads allocates nothing.
bool put_in_place(const char* temp, const char* path, const char* text, size_t bytes) {
  const int fd = ::open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const bool written = ::fchmod(fd, 0644) == 0 && write_exact(fd, text, bytes);
  ::close(fd);
  if (!written || ::rename(temp, path) != 0) {
    ::unlink(temp);
    return false;
  }
  return true;
}

// The writer (host/helper_process.h): only the socket and stderr; ends when the socket does.
// Each text in place is acknowledged with one byte on the same socket.
[[noreturn]] void writer_main(int socket, const char* temp, const char* path, char* buffer) {
  const int in = become_helper(socket);
  bool failed_before = false;
  while (true) {
    uint32_t bytes = 0;
    if (!read_exact(in, &bytes, sizeof bytes) || bytes > kMaxText || !read_exact(in, buffer, bytes))
      ::_exit(0);
    if (!put_in_place(temp, path, buffer, bytes) && !failed_before) {
      static const char kSaid[] = "anyscan: warn: --metrics-file: cannot write the file\n";
      (void)!::write(STDERR_FILENO, kSaid, sizeof kSaid - 1);
      failed_before = true;
    }
    const char done = 1;
    (void)!::write(in, &done, 1);
  }
}

}  // namespace

Result<std::unique_ptr<MetricsFile>> MetricsFile::start(const std::string& path) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  const std::optional<double> previous =
      previous_metric_value(path, "anyscan_last_success_timestamp_seconds");
  // What the child needs, made before the fork.
  static std::vector<char> buffer;
  buffer.assign(kMaxText, '\0');
  if (!put_in_place(temp.c_str(), path.c_str(), "", 0))
    return make_error(ExitCode::kCantCreate, errno_message("--metrics-file " + path, errno));
  auto socket = fork_helper("--metrics-file", [&](int theirs) {
    writer_main(theirs, temp.c_str(), path.c_str(), buffer.data());
  });
  if (!socket) return tl::unexpected(socket.error());
  return std::unique_ptr<MetricsFile>(new MetricsFile(path, std::move(*socket), previous));
}

MetricsFile::~MetricsFile() = default;  // the socket closes: the writer exits

void MetricsFile::take_acks(int timeout_ms) {
  char bytes[256];
  while (acked_ < sent_) {
    const ssize_t n = ::recv(socket_.get(), bytes, sizeof bytes, MSG_DONTWAIT);
    if (n > 0) {
      acked_ += static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR) || timeout_ms <= 0) return;
    pollfd p{socket_.get(), POLLIN, 0};
    ::poll(&p, 1, std::min(timeout_ms, 50));
    timeout_ms -= 50;
  }
}

Result<void> MetricsFile::wait_written(int timeout_ms) {
  take_acks(timeout_ms);
  if (acked_ < sent_)
    return make_error(ExitCode::kIoErr, "--metrics-file " + path_ + ": the writer did not put " +
                                            std::to_string(sent_ - acked_) + " text(s) in place");
  return {};
}

Result<void> MetricsFile::publish(std::string_view text) {
  if (text.size() > kMaxText)
    return make_error(ExitCode::kSoftware, "metrics text of " + std::to_string(text.size()) +
                                               " bytes is over the writer's limit");
  const auto bytes = static_cast<uint32_t>(text.size());
  if (!write_exact(socket_.get(), &bytes, sizeof bytes, true) ||
      !write_exact(socket_.get(), text.data(), text.size(), true))
    return make_error(ExitCode::kIoErr,
                      errno_message("--metrics-file " + path_ + " writer", errno));
  ++sent_;
  take_acks(0);
  return {};
}

std::optional<double> previous_metric_value(const std::string& path, std::string_view metric) {
  auto text = read_small_file(path, kMaxText);
  if (!text) return std::nullopt;
  return metric_value_in(*text, metric);
}

std::optional<double> metric_value_in(std::string_view text, std::string_view metric) {
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (line.substr(0, metric.size()) != metric ||
        (line.size() > metric.size() && line[metric.size()] != '{' && line[metric.size()] != ' '))
      continue;
    const size_t space = line.rfind(' ');
    if (space == std::string_view::npos) continue;
    const std::string value(line.substr(space + 1));
    char* parsed_end = nullptr;
    const double v = std::strtod(value.c_str(), &parsed_end);
    if (parsed_end != value.c_str() && *parsed_end == '\0') return v;
  }
  return std::nullopt;
}

}  // namespace anyscan
