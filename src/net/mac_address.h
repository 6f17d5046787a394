#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace anyscan {

struct MacAddress {
  std::array<uint8_t, 6> bytes{};
  bool operator==(const MacAddress&) const = default;
  bool is_zero() const;
  bool is_broadcast() const;
};

// "aa:bb:cc:dd:ee:ff" (or with '-'), two hex digits per octet.
std::optional<MacAddress> parse_mac(std::string_view text);
std::string to_string(const MacAddress& mac);

}  // namespace anyscan
