#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace anyscan {

// Strict decimal parse of the whole string: no sign, no spaces, no hex, no overflow.
std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max_value);

// A count with an optional SI suffix (k, M, G; powers of 1000), e.g. "10M", "1.5G" is
// refused (whole numbers only). Used by -B and -r.
std::optional<uint64_t> parse_si_count(std::string_view text, uint64_t max_value);

// A percentage 0-100 with up to four decimals ("12.5"), in millionths (125000).
std::optional<uint32_t> parse_percent_ppm(std::string_view text);

}  // namespace anyscan
