#include "target/target_parser.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "base/parse_number.h"
#include "base/unique_fd.h"
#include "target/text_decoder.h"

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

namespace {

Result<ParsedTarget> bad_target(std::string_view text, const std::string& why) {
  return make_error(ExitCode::kDataErr, "bad target " + quoted(text) + ": " + why);
}

// An IPv6 range stands for the IPv6 addresses in it: the IPv4-mapped block inside it holds
// IPv4 targets, which only IPv4 text names. So "::/0" is every IPv6 address, not IPv4 too.
Result<ParsedTarget> without_mapped_block(std::string_view text, AddressRange range) {
  ParsedTarget out;
  const bool ipv4_text =
      range.first.is_ipv4() && range.last.is_ipv4() && text.find(':') == std::string_view::npos;
  if (!ipv4_text && (range.first.is_ipv4() || range.last.is_ipv4() ||
                     (range.first < kIpv4First && kIpv4Last < range.last))) {
    if (range.first.is_ipv4() && range.last.is_ipv4())
      return bad_target(text, "IPv4-mapped addresses (::ffff:0:0/96): write the IPv4 addresses");
    if (range.first < kIpv4First)
      out.ranges[out.count++] = {range.first, IpAddress{kIpv4First.value - 1}};
    if (kIpv4Last < range.last)
      out.ranges[out.count++] = {IpAddress{kIpv4Last.value + 1}, range.last};
    return out;
  }
  out.ranges[out.count++] = range;
  return out;
}

}  // namespace

Result<ParsedTarget> parse_target(std::string_view text) {
  if (const size_t slash = text.find('/'); slash != std::string_view::npos) {
    const auto address = parse_ip(text.substr(0, slash));
    if (!address) return bad_target(text, "before '/': " + address.error().message);
    const int max = max_prefix_length(address->family());
    const auto prefix = parse_decimal(text.substr(slash + 1), static_cast<uint64_t>(max));
    if (!prefix) return bad_target(text, "prefix length must be 0-" + std::to_string(max));
    const int length = static_cast<int>(*prefix);
    return without_mapped_block(text,
                                {prefix_first(*address, length), prefix_last(*address, length)});
  }
  if (const size_t dash = text.find('-'); dash != std::string_view::npos) {
    const auto first = parse_ip(text.substr(0, dash));
    const auto last = parse_ip(text.substr(dash + 1));
    if (!first || !last)
      return bad_target(text, "a range is FIRST-LAST with two addresses of one family: " +
                                  (first ? last : first).error().message);
    if (first->family() != last->family())
      return bad_target(text, "a range is FIRST-LAST with two addresses of one family");
    if (*last < *first) return bad_target(text, "range ends before it starts");
    return without_mapped_block(text, {*first, *last});
  }
  const auto address = parse_ip(text);
  if (!address)
    return bad_target(text, address.error().message +
                                "; a target is an address, a prefix (a.b.c.d/n, x:x::/n) or a "
                                "range (FIRST-LAST)");
  ParsedTarget out;
  out.ranges[out.count++] = {*address, *address};
  return out;
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
  for (size_t i = 0; i < range->count; ++i) pending_.push_back(range->ranges[i]);
  if (keep_entries_) return {};
  // Merged every 64 Ki ranges, or once as many as the set holds are pending (so merging
  // costs O(n log n) in all, whatever the file's length): a file listing a whole network
  // address by address stays a few ranges in memory, and a hitlist of n addresses holds n.
  if (pending_.size() >= std::max<size_t>(size_t{1} << 16, set_.ranges().size())) {
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
  pending_ = {};
  set_.shrink();
  return std::move(set_);
}

Result<std::vector<AddressRange>> TargetListReader::entries() {
  if (!partial_.empty()) {
    const std::string last = std::move(partial_);
    partial_.clear();
    if (auto parsed = line(last); !parsed) return tl::unexpected(parsed.error());
  }
  std::vector<AddressRange> out = std::move(pending_);
  pending_ = {};
  std::sort(out.begin(), out.end(), [](const AddressRange& a, const AddressRange& b) {
    return a.first < b.first || (a.first == b.first && b.last < a.last);  // outer first
  });
  size_t kept = 0;
  for (const AddressRange& r : out)
    if (kept == 0 || out[kept - 1].last < r.first) out[kept++] = r;  // else inside the last
  out.resize(kept);
  return out;
}

Result<AddressSet> parse_target_list(std::string_view contents, const std::string& name) {
  TargetListReader reader(name);
  if (auto fed = reader.feed(contents); !fed) return tl::unexpected(fed.error());
  return reader.finish();
}

namespace {

// Feeds the file at `path` ("-": standard input), decoded by content, into `reader`.
Result<void> read_into(const std::string& path, const std::string& name, TargetListReader& reader) {
  UniqueFd owned;
  int fd = STDIN_FILENO;
  if (path != "-") {
    owned.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned.valid())
      return make_error(ExitCode::kNoInput, errno_message("cannot read " + path, errno));
    fd = owned.get();
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
    return make_error(ExitCode::kNoInput, "cannot read " + name + ": it is a directory");
  std::vector<char> buffer(64 * 1024);
  std::optional<TextDecoder> decoder;
  std::string head;  // the first bytes, until they can tell the format (a pipe gives few)
  auto to_reader = [&reader](std::string_view text) { return reader.feed(text); };
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ExitCode::kNoInput, errno_message("cannot read " + name, errno));
    std::string_view piece(buffer.data(), static_cast<size_t>(n));
    if (!decoder) {  // by content: the magic bytes of the format
      head.append(piece);
      if (head.size() < 6 && n > 0) continue;
      auto made = TextDecoder::make(TextDecoder::detect(head), name);
      if (!made) return tl::unexpected(made.error());
      decoder.emplace(std::move(*made));
      piece = head;
    }
    if (!piece.empty())
      if (auto fed = decoder->feed(piece, to_reader); !fed) return tl::unexpected(fed.error());
    head.clear();
    if (n == 0) break;
  }
  return decoder->finish(to_reader);
}

std::string list_name(const std::string& path) { return path == "-" ? "standard input" : path; }

}  // namespace

Result<AddressSet> load_target_file(const std::string& path, bool skip_invalid, uint64_t* skipped) {
  TargetListReader reader(list_name(path), skip_invalid);
  if (auto read = read_into(path, list_name(path), reader); !read)
    return tl::unexpected(read.error());
  auto set = reader.finish();
  if (skipped != nullptr) *skipped = reader.skipped();
  return set;
}

Result<std::vector<AddressRange>> load_prefix_list(const std::string& path) {
  TargetListReader reader(list_name(path));
  reader.keep_entries();
  if (auto read = read_into(path, list_name(path), reader); !read)
    return tl::unexpected(read.error());
  return reader.entries();
}

std::string target_list_text(const AddressSet& set) {
  std::string text;
  for (const AddressRange& r : set.ranges())
    text += to_string(r.first) + (r.first == r.last ? "" : "-" + to_string(r.last)) + "\n";
  return text;
}

}  // namespace anyscan
