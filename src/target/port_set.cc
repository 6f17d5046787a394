#include "target/port_set.h"

#include <algorithm>
#include <string>

#include "base/parse_number.h"

namespace anyscan {

PortSet::PortSet(std::vector<uint16_t> ports) : ports_(std::move(ports)) {
  std::sort(ports_.begin(), ports_.end());
  ports_.erase(std::unique(ports_.begin(), ports_.end()), ports_.end());
  index_.fill(kNoIndex);
  for (size_t i = 0; i < ports_.size(); ++i) index_[ports_[i]] = static_cast<int32_t>(i);
}

Result<PortSet> parse_ports(std::string_view text) {
  if (text.empty()) return make_error(ExitCode::kUsage, "bad port list '': empty");
  if (text == "-") text = "1-65535";
  std::vector<bool> wanted(65536, false);
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const std::string shown = "'" + std::string(item.substr(0, 32)) + "'";
    if (item.empty())
      return make_error(ExitCode::kUsage, "bad port list: empty element between commas");
    uint64_t first = 0, last = 0;
    if (const size_t dash = item.find('-'); dash != std::string_view::npos) {
      const auto a = parse_decimal(item.substr(0, dash), 65535);
      const auto b = parse_decimal(item.substr(dash + 1), 65535);
      if (!a || !b)
        return make_error(ExitCode::kUsage,
                          "bad port range " + shown + ": expected FIRST-LAST with ports 1-65535");
      first = *a;
      last = *b;
      if (last < first)
        return make_error(ExitCode::kUsage,
                          "bad port range " + shown + ": range ends before it starts");
    } else {
      const auto p = parse_decimal(item, 65535);
      if (!p)
        return make_error(ExitCode::kUsage, "bad port " + shown + ": expected a number 1-65535");
      first = last = *p;
    }
    if (first == 0)
      return make_error(ExitCode::kUsage, "bad port " + shown + ": port 0 cannot be probed");
    for (uint64_t p = first; p <= last; ++p) wanted[p] = true;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  std::vector<uint16_t> ports;
  for (uint32_t p = 1; p < 65536; ++p)
    if (wanted[p]) ports.push_back(static_cast<uint16_t>(p));
  return PortSet(std::move(ports));
}

std::string format_ports(const PortSet& ports) {
  std::string text;
  const std::vector<uint16_t>& list = ports.ports();
  for (size_t i = 0; i < list.size();) {
    size_t last = i;
    while (last + 1 < list.size() && list[last + 1] == list[last] + 1) ++last;
    if (!text.empty()) text += ',';
    text += std::to_string(list[i]);
    if (last > i) text += '-' + std::to_string(list[last]);
    i = last + 1;
  }
  return text;
}

}  // namespace anyscan
