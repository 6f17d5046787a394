#include "scan/opt_out.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "host/helper_process.h"
#include "scan/scan_plan.h"
#include "store/result_file.h"

namespace anyscan {

namespace {

constexpr char kReadBlocklist = 'R';
constexpr char kPurgeResults = 'P';
constexpr uint64_t kMaxMessage = uint64_t{1} << 32;  // 128 M ranges: more than any list
constexpr int kAnswerTimeoutMs = 60 * 1000;

template <typename T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
bool take(std::string_view& in, T& value) {
  if (in.size() < sizeof value) return false;
  std::memcpy(&value, in.data(), sizeof value);
  in.remove_prefix(sizeof value);
  return true;
}

// An answer: a status byte (1 ok), then the payload; a failure's payload is the exit code
// and the message.
std::string answer_ok(const std::string& payload) { return std::string(1, '\1') + payload; }
std::string answer_error(const Error& error) {
  std::string out(1, '\0');
  put(out, static_cast<uint32_t>(error.code));
  return out + error.message;
}

bool send_message(int fd, std::string_view message) {
  const uint64_t bytes = message.size();
  return write_exact(fd, &bytes, sizeof bytes, true) &&
         write_exact(fd, message.data(), message.size(), true);
}

// The helper's side of a purge: every line of the first `bytes` bytes is copied to the
// temporary file but the records of excluded addresses; a line that does not read as a
// record (none should) is kept, never lost.
Result<PurgeOutcome> rewrite_results(const ScanConfig& config, const std::string& path,
                                     uint64_t bytes, const AddressSet& excluded) {
  const ResultsFormat format = results_format(config);
  struct stat original {};
  if (::stat(path.c_str(), &original) != 0)
    return make_error(ExitCode::kIoErr, errno_message("results file " + path, errno));
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  UniqueFd out(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                      original.st_mode & 07777));
  if (!out.valid()) return make_error(ExitCode::kCantCreate, errno_message(temp, errno));
  PurgeOutcome outcome;
  std::string buffer;
  uint64_t number = 0;
  auto flush = [&]() -> bool {
    const bool ok = write_exact(out.get(), buffer.data(), buffer.size());
    outcome.size += buffer.size();
    buffer.clear();
    return ok;
  };
  auto read = read_result_lines(path, bytes, false, [&](std::string_view line) -> Result<void> {
    ++number;
    if (!(format.header && number == 1)) {
      auto key = format.reader.parse(line);
      if (key && excluded.contains(key->saddr)) {
        ++outcome.removed;
        outcome.success += classification_success(key->classification);
        outcome.ipv6 += !key->saddr.is_ipv4();
        ++outcome.by_class[static_cast<size_t>(key->classification) % Totals::kClasses];
        return {};
      }
    }
    buffer.append(line);
    buffer.push_back('\n');
    if (buffer.size() >= (size_t{1} << 20) && !flush())
      return make_error(ExitCode::kIoErr, errno_message("writing " + temp, errno));
    return {};
  });
  Result<void> done = read ? Result<void>{} : tl::unexpected(read.error());
  if (done && !flush())
    done = make_error(ExitCode::kIoErr, errno_message("writing " + temp, errno));
  if (done && ::fsync(out.get()) != 0)
    done = make_error(ExitCode::kIoErr, errno_message("syncing " + temp, errno));
  if (done && ::rename(temp.c_str(), path.c_str()) != 0)
    done = make_error(ExitCode::kIoErr, errno_message("renaming " + temp, errno));
  if (!done) {
    ::unlink(temp.c_str());
    return tl::unexpected(done.error());
  }
  const size_t slash = path.rfind('/');
  const std::string directory =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  UniqueFd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) ::fsync(dir.get());
  return outcome;
}

std::string encode_outcome(const PurgeOutcome& o) {
  std::string out;
  put(out, o.size);
  put(out, o.removed);
  put(out, o.success);
  put(out, o.ipv6);
  for (const uint64_t n : o.by_class) put(out, n);
  return out;
}

// The helper: answers requests until the scan closes its end.
[[noreturn]] void helper_main(int socket, const ScanConfig& config, const std::string& path) {
  const int fd = become_helper(socket);
  while (true) {
    uint64_t bytes = 0;
    std::string request;
    if (!read_exact(fd, &bytes, sizeof bytes) || bytes == 0 || bytes > kMaxMessage) ::_exit(0);
    request.resize(static_cast<size_t>(bytes));
    if (!read_exact(fd, request.data(), request.size())) ::_exit(0);
    std::string_view in(request);
    const char op = in.front();
    in.remove_prefix(1);
    std::string answer;
    if (op == kReadBlocklist) {
      std::string source;
      auto set = load_blocklist(config, &source);
      answer = set ? answer_ok(encode_ranges(set->ranges())) : answer_error(set.error());
    } else if (op == kPurgeResults) {
      uint64_t size = 0;
      auto ranges = take(in, size) ? decode_ranges(in) : make_error(ExitCode::kSoftware, "short");
      if (!ranges) {
        answer = answer_error(ranges.error());
      } else {
        auto purged = rewrite_results(config, path, size, AddressSet(std::move(*ranges)));
        answer = purged ? answer_ok(encode_outcome(*purged)) : answer_error(purged.error());
      }
    } else {
      ::_exit(0);
    }
    if (!send_message(fd, answer)) ::_exit(0);
  }
}

}  // namespace

uint32_t Exclusions::publish(AddressSet set) {
  kept_.push_back(std::make_unique<const AddressSet>(std::move(set)));
  current_.store(kept_.back().get(), std::memory_order_release);
  const uint32_t epoch = static_cast<uint32_t>(kept_.size());
  epoch_.store(epoch, std::memory_order_release);
  return epoch;
}

std::string encode_ranges(const std::vector<AddressRange>& ranges) {
  std::string out;
  out.reserve(ranges.size() * 32);
  for (const AddressRange& r : ranges) {
    put(out, r.first.value);
    put(out, r.last.value);
  }
  return out;
}

Result<std::vector<AddressRange>> decode_ranges(std::string_view bytes) {
  if (bytes.size() % 32 != 0)
    return make_error(ExitCode::kSoftware,
                      "opt-out helper: a range list of " + std::to_string(bytes.size()) + " bytes");
  std::vector<AddressRange> ranges;
  ranges.reserve(bytes.size() / 32);
  while (!bytes.empty()) {
    AddressRange r;
    take(bytes, r.first.value);
    take(bytes, r.last.value);
    // One family per range, first <= last: what AddressSet keeps (anything else is not ours).
    if (r.last < r.first || r.first.is_ipv4() != r.last.is_ipv4())
      return make_error(ExitCode::kSoftware, "opt-out helper: a range that is not one");
    ranges.push_back(r);
  }
  return ranges;
}

Result<std::unique_ptr<OptOutHelper>> OptOutHelper::start(const ScanConfig& config,
                                                          std::string results_path) {
  auto socket = fork_helper("the opt-out helper",
                            [&](int theirs) { helper_main(theirs, config, results_path); });
  if (!socket) return tl::unexpected(socket.error());
  return std::unique_ptr<OptOutHelper>(
      new OptOutHelper(std::move(*socket), std::move(results_path)));
}

// The socket closes: the helper sees the end and exits (not waited for: the confined scan
// has no wait4, and it exits itself soon after).
OptOutHelper::~OptOutHelper() = default;

Result<std::string> OptOutHelper::ask(const std::string& request) {
  auto gone = [](const char* what) {
    return make_error(ExitCode::kIoErr, std::string("the opt-out helper ") + what);
  };
  if (!send_message(socket_.get(), request)) return gone("is gone");
  pollfd p{socket_.get(), POLLIN, 0};
  if (::poll(&p, 1, kAnswerTimeoutMs) <= 0) return gone("did not answer");
  uint64_t bytes = 0;
  std::string answer;
  if (!read_exact(socket_.get(), &bytes, sizeof bytes) || bytes == 0 || bytes > kMaxMessage)
    return gone("is gone");
  answer.resize(static_cast<size_t>(bytes));
  if (!read_exact(socket_.get(), answer.data(), answer.size())) return gone("is gone");
  std::string_view in(answer);
  const char ok = in.front();
  in.remove_prefix(1);
  if (ok == 1) return std::string(in);
  uint32_t code = 0;
  if (!take(in, code)) return gone("sent no reason");
  return make_error(static_cast<ExitCode>(code), std::string(in));
}

Result<AddressSet> OptOutHelper::read_blocklist() {
  auto answer = ask(std::string(1, kReadBlocklist));
  if (!answer) return tl::unexpected(answer.error());
  auto ranges = decode_ranges(*answer);
  if (!ranges) return tl::unexpected(ranges.error());
  return AddressSet(std::move(*ranges));
}

Result<PurgeOutcome> OptOutHelper::purge_results(const AddressSet& excluded, uint64_t bytes) {
  std::string request(1, kPurgeResults);
  put(request, bytes);
  request += encode_ranges(excluded.ranges());
  auto answer = ask(request);
  if (!answer) return tl::unexpected(answer.error());
  std::string_view in(*answer);
  PurgeOutcome o;
  bool ok = take(in, o.size) && take(in, o.removed) && take(in, o.success) && take(in, o.ipv6);
  for (uint64_t& n : o.by_class) ok = ok && take(in, n);
  if (!ok || !in.empty()) return make_error(ExitCode::kSoftware, "opt-out helper: a bad answer");
  return o;
}

}  // namespace anyscan
