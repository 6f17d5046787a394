#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "net/frame_header.h"
#include "net/ipv4_address.h"

namespace anyscan {

__extension__ using uint128_t = unsigned __int128;

// An address of either family in one 128-bit value, ordered as numbers: an IPv6 address is
// its 128 bits; an IPv4 address a.b.c.d sits where RFC 4291 section 2.5.5.2 puts it,
// ::ffff:a.b.c.d. That block is the IPv4 space here, so one ordered set, one index and one
// permutation hold targets of both families, and IPv4-mapped IPv6 text is refused as input
// (it would name an IPv4 target in IPv6 clothing).
struct IpAddress {
  uint128_t value = 0;

  constexpr IpAddress() = default;
  // Explicit, so no 32-bit IPv4 number becomes an IPv6 address by brace elision: IPv4 is
  // IpAddress::v4(a).
  constexpr explicit IpAddress(uint128_t raw) : value(raw) {}

  static constexpr uint128_t kIpv4Base = uint128_t{0xffff} << 32;
  static constexpr IpAddress v4(uint32_t address) { return IpAddress{kIpv4Base | address}; }
  static constexpr IpAddress v6(uint64_t high, uint64_t low) {
    return IpAddress{uint128_t{high} << 64 | low};
  }

  constexpr bool is_ipv4() const { return (value >> 32) == 0xffff; }
  constexpr IpFamily family() const { return is_ipv4() ? IpFamily::kIpv4 : IpFamily::kIpv6; }
  // The IPv4 address in host order (meaningful when is_ipv4()).
  constexpr uint32_t ipv4() const { return static_cast<uint32_t>(value); }
  constexpr uint64_t high64() const { return static_cast<uint64_t>(value >> 64); }
  constexpr uint64_t low64() const { return static_cast<uint64_t>(value); }
  // Network order, 16 bytes (an IPv6 address; the mapped form for IPv4).
  void to_bytes(uint8_t* out) const;
  static IpAddress from_bytes(const uint8_t* in);

  auto operator<=>(const IpAddress&) const = default;
};

// The IPv4 space inside the 128-bit one (::ffff:0.0.0.0 - ::ffff:255.255.255.255).
inline constexpr IpAddress kIpv4First = IpAddress::v4(0);
inline constexpr IpAddress kIpv4Last = IpAddress::v4(0xffffffffu);

// Text in: a dotted quad (strict, as parse_ipv4) or an IPv6 address in one of RFC 4291
// section 2.2's forms (x:x:x:x:x:x:x:x with 1-4 hex digits a group, "::" once for one or
// more zero groups, the last 32 bits as a dotted quad). Refused, with a reason: zone ids
// ("fe80::1%eth0": a zone names a link, not a target), brackets, IPv4-mapped forms
// (::ffff:a.b.c.d: write the IPv4 address), anything else that is not exactly an address.
// Errors are kDataErr and say what is wrong, not which input (the caller names it).
Result<IpAddress> parse_ip(std::string_view text);

// Text out: a dotted quad, or RFC 5952's IPv6 form (lower case, no leading zeros, the
// longest run of two or more zero groups as "::", the first of equal runs). `out` holds at
// least kIpTextBytes; returns the length (a NUL follows). Allocates nothing.
inline constexpr size_t kIpTextBytes = 40;
size_t format_ip(IpAddress address, char* out);
std::string to_string(IpAddress address);

// Prefix lengths are per family: 0-32 for IPv4, 0-128 for IPv6. The first and last
// address of address/length (host bits cleared, as zmap does for IPv4).
constexpr int max_prefix_length(IpFamily family) { return family == IpFamily::kIpv4 ? 32 : 128; }
IpAddress prefix_first(IpAddress address, int length);
IpAddress prefix_last(IpAddress address, int length);

}  // namespace anyscan
