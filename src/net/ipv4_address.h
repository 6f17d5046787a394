#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace anyscan {

// An IPv4 address in host byte order (so arithmetic and ordering are natural).
struct Ipv4Address {
  uint32_t value = 0;
  auto operator<=>(const Ipv4Address&) const = default;
};

// Strict dotted quad: four decimal octets 0-255, no leading zeros (which inet_aton would
// read as octal), nothing else.
std::optional<Ipv4Address> parse_ipv4(std::string_view text);
std::string to_string(Ipv4Address address);
// Writes the dotted quad into out (at least 16 bytes) without allocating; returns length.
size_t format_ipv4(Ipv4Address address, char* out);

}  // namespace anyscan
