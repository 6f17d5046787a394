#include "target/target_parser.h"

#include <cerrno>
#include <fstream>
#include <sstream>

#include "base/parse_number.h"

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

Result<AddressSet> parse_target_list(std::string_view contents, const std::string& name) {
  std::vector<AddressRange> ranges;
  size_t line_number = 0;
  while (!contents.empty()) {
    ++line_number;
    const size_t end = contents.find('\n');
    std::string_view line = contents.substr(0, end);
    contents.remove_prefix(end == std::string_view::npos ? contents.size() : end + 1);
    if (const size_t hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    auto range = parse_target(line);
    if (!range)
      return make_error(ExitCode::kDataErr,
                        name + ":" + std::to_string(line_number) + ": " + range.error().message);
    ranges.push_back(*range);
  }
  return AddressSet(std::move(ranges));
}

Result<AddressSet> load_target_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ExitCode::kNoInput, errno_message("cannot read " + path, errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return make_error(ExitCode::kNoInput, errno_message("cannot read " + path, errno));
  return parse_target_list(contents.str(), path);
}

}  // namespace anyscan
