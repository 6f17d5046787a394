#include "target/target_parser.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/parse_number.h"
#include "base/unique_fd.h"

namespace anyscan {
namespace {

std::string quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 64) out += "...";
  return out + "'";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Result<AddressRange> parse_target(std::string_view text) {
  if (const size_t slash = text.find('/'); slash != std::string_view::npos) {
    const auto address = parse_ipv4(text.substr(0, slash));
    if (!address)
      return make_error(ExitCode::kDataErr,
                        "bad target " + quoted(text) + ": not an IPv4 address before '/'");
    const auto prefix = parse_decimal(text.substr(slash + 1), 32);
    if (!prefix)
      return make_error(ExitCode::kDataErr,
                        "bad target " + quoted(text) + ": prefix length must be 0-32");
    const uint32_t mask = *prefix == 0 ? 0 : ~uint32_t{0} << (32 - *prefix);
    const uint32_t first = address->value & mask;
    return AddressRange{first, first | ~mask};
  }
  if (const size_t dash = text.find('-'); dash != std::string_view::npos) {
    const auto first = parse_ipv4(text.substr(0, dash));
    const auto last = parse_ipv4(text.substr(dash + 1));
    if (!first || !last)
      return make_error(ExitCode::kDataErr, "bad target " + quoted(text) +
                                                ": a range is FIRST-LAST with two IPv4 addresses");
    if (last->value < first->value)
      return make_error(ExitCode::kDataErr,
                        "bad target " + quoted(text) + ": range ends before it starts");
    return AddressRange{first->value, last->value};
  }
  const auto address = parse_ipv4(text);
  if (!address)
    return make_error(
        ExitCode::kDataErr,
        "bad target " + quoted(text) +
            ": expected an IPv4 address, CIDR (a.b.c.d/n) or range (a.b.c.d-e.f.g.h)");
  return AddressRange{address->value, address->value};
}

Result<void> TargetListReader::line(std::string_view text) {
  ++line_number_;
  if (const size_t hash = text.find('#'); hash != std::string_view::npos)
    text = text.substr(0, hash);
  text = trim(text);
  if (text.empty()) return {};
  auto range = parse_target(text);
  if (!range && skip_invalid_) {
    ++skipped_;
    return {};
  }
  if (!range)
    return make_error(ExitCode::kDataErr,
                      name_ + ":" + std::to_string(line_number_) + ": " + range.error().message);
  pending_.push_back(*range);
  // Merged every 64 Ki ranges: a file listing a whole network address by address stays a
  // few ranges in memory.
  if (pending_.size() >= (size_t{1} << 16)) {
    set_.add(pending_);
    pending_.clear();
  }
  return {};
}

Result<void> TargetListReader::feed(std::string_view chunk) {
  // The lines before a NUL count first, so that an error is the same however the bytes
  // were split into pieces.
  const size_t nul = chunk.find('\0');
  if (nul == std::string_view::npos) return feed_text(chunk);
  if (auto before = feed_text(chunk.substr(0, nul)); !before) return before;
  return make_error(ExitCode::kDataErr, name_ + ":" + std::to_string(line_number_ + 1) +
                                            ": a NUL byte: not a text file of targets");
}

Result<void> TargetListReader::feed_text(std::string_view chunk) {
  while (!chunk.empty()) {
    const size_t end = chunk.find('\n');
    const std::string_view piece = chunk.substr(0, end);
    if (partial_.size() + piece.size() > kMaxLineBytes)
      return make_error(ExitCode::kDataErr,
                        name_ + ":" + std::to_string(line_number_ + 1) + ": a line longer than " +
                            std::to_string(kMaxLineBytes) + " bytes: not a file of targets");
    if (end == std::string_view::npos) {
      partial_.append(piece);
      return {};
    }
    Result<void> parsed;
    if (partial_.empty()) {
      parsed = line(piece);
    } else {
      partial_.append(piece);
      parsed = line(partial_);
      partial_.clear();
    }
    if (!parsed) return parsed;
    chunk.remove_prefix(end + 1);
  }
  return {};
}

Result<AddressSet> TargetListReader::finish() {
  if (!partial_.empty()) {
    const std::string last = std::move(partial_);
    partial_.clear();
    if (auto parsed = line(last); !parsed) return tl::unexpected(parsed.error());
  }
  set_.add(pending_);
  pending_.clear();
  return std::move(set_);
}

Result<AddressSet> parse_target_list(std::string_view contents, const std::string& name) {
  TargetListReader reader(name);
  if (auto fed = reader.feed(contents); !fed) return tl::unexpected(fed.error());
  return reader.finish();
}

Result<AddressSet> load_target_file(const std::string& path, bool skip_invalid, uint64_t* skipped) {
  UniqueFd owned;
  int fd = STDIN_FILENO;
  if (path != "-") {
    owned.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned.valid())
      return make_error(ExitCode::kNoInput, errno_message("cannot read " + path, errno));
    fd = owned.get();
  }
  const std::string name = path == "-" ? "standard input" : path;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
    return make_error(ExitCode::kNoInput, "cannot read " + name + ": it is a directory");
  TargetListReader reader(name, skip_invalid);
  std::vector<char> buffer(64 * 1024);
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ExitCode::kNoInput, errno_message("cannot read " + name, errno));
    if (n == 0) break;
    if (auto fed = reader.feed(std::string_view(buffer.data(), static_cast<size_t>(n))); !fed)
      return tl::unexpected(fed.error());
  }
  auto set = reader.finish();
  if (skipped != nullptr) *skipped = reader.skipped();
  return set;
}

}  // namespace anyscan
