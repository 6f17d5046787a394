#include "store/result_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/unique_fd.h"
#include "output/record_formatter.h"

namespace anyscan {

namespace {
constexpr size_t kMaxLineBytes = 64 * 1024;  // ours are under 1 KiB
}  // namespace

ResultsFormat results_format(const ScanConfig& config) {
  const bool json = config.output_format == OutputFormat::kJson;
  return {RecordReader(json, config.output_fields),
          !json && !config.no_header_row && csv_has_header(config.output_fields)};
}

Result<uint64_t> read_result_lines(const std::string& path, uint64_t bytes, bool header,
                                   const std::function<Result<void>(std::string_view)>& line) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return make_error(ExitCode::kNoInput, errno_message("results file " + path, errno));
  std::vector<char> buffer(size_t{1} << 20);
  std::string partial;  // a line cut by the buffer's end
  uint64_t done = 0, number = 0, lines = 0;
  while (done < bytes) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), bytes - done));
    const ssize_t n = ::read(fd.get(), buffer.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ExitCode::kIoErr, errno_message("reading " + path, errno));
    if (n == 0)
      return make_error(ExitCode::kDataErr, "results file " + path + " ends before byte " +
                                                std::to_string(bytes) + " the checkpoint names");
    done += static_cast<uint64_t>(n);
    std::string_view chunk(buffer.data(), static_cast<size_t>(n));
    while (!chunk.empty()) {
      const size_t end = chunk.find('\n');
      if (end == std::string_view::npos) {
        if (partial.size() + chunk.size() > kMaxLineBytes)
          return make_error(ExitCode::kDataErr, "results file " + path + " line " +
                                                    std::to_string(number + 1) + " is too long");
        partial.append(chunk);
        break;
      }
      std::string_view text = chunk.substr(0, end);
      if (!partial.empty()) {
        partial.append(text);
        text = partial;
      }
      ++number;
      if (!(header && number == 1)) {
        if (auto handled = line(text); !handled)
          return make_error(handled.error().code, "results file " + path + " line " +
                                                      std::to_string(number) + ": " +
                                                      handled.error().message);
        ++lines;
      }
      partial.clear();
      chunk.remove_prefix(end + 1);
    }
  }
  if (!partial.empty())
    return make_error(ExitCode::kDataErr, "results file " + path + ": byte " +
                                              std::to_string(bytes) +
                                              " the checkpoint names is not at the end of a line");
  return lines;
}

}  // namespace anyscan
