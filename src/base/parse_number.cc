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

std::optional<uint32_t> parse_percent_ppm(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (dot != std::string_view::npos && (fraction.empty() || fraction.size() > 4))
    return std::nullopt;
  const auto percent = parse_decimal(whole, 100);
  if (!percent) return std::nullopt;
  uint64_t ppm = *percent * 10000;
  uint64_t scale = 1000;
  for (char c : fraction) {
    if (c < '0' || c > '9') return std::nullopt;
    ppm += static_cast<uint64_t>(c - '0') * scale;
    scale /= 10;
  }
  if (ppm > 1000000) return std::nullopt;
  return static_cast<uint32_t>(ppm);
}

}  // namespace anyscan
