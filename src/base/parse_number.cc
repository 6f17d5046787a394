#include "base/parse_number.h"

namespace anyscan {

std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max_value) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    // digit > max_value first: max_value - digit would wrap (max 5, "9" passed before).
    if (digit > max_value || value > (max_value - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<uint64_t> parse_si_count(std::string_view text, uint64_t max_value) {
  if (text.empty()) return std::nullopt;
  uint64_t multiplier = 1;
  switch (text.back()) {
    case 'k':
    case 'K':
      multiplier = 1000;
      break;
    case 'm':
    case 'M':
      multiplier = 1000 * 1000;
      break;
    case 'g':
    case 'G':
      multiplier = 1000 * 1000 * 1000;
      break;
    default:
      break;
  }
  if (multiplier != 1) text.remove_suffix(1);
  auto value = parse_decimal(text, max_value);
  if (!value || *value > max_value / multiplier) return std::nullopt;
  return *value * multiplier;
}

}  // namespace anyscan
