#include "net/ip_address.h"

#include <cstring>

namespace anyscan {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<IpAddress> bad(const char* why) { return make_error(ExitCode::kDataErr, why); }

// The 16-bit groups of an IPv6 text, RFC 4291 section 2.2. `text` has a ':' in it.
Result<IpAddress> parse_ipv6(std::string_view text) {
  uint16_t groups[8] = {};
  int count = 0;  // groups written
  int gap = -1;   // where "::" stands (index into groups), -1 if absent
  size_t i = 0;
  if (text.substr(0, 2) == "::") {
    gap = 0;
    i = 2;
  } else if (text.front() == ':') {
    return bad("an IPv6 address cannot start with a single ':'");
  }
  while (i < text.size()) {
    if (count == 8) return bad("more than 8 groups of an IPv6 address");
    // A dotted quad may end the address, in the place of the last two groups.
    const size_t end = text.find(':', i);
    const std::string_view group = text.substr(i, end == std::string_view::npos ? end : end - i);
    if (end == std::string_view::npos && group.find('.') != std::string_view::npos) {
      const auto quad = parse_ipv4(group);
      if (!quad) return bad("the dotted quad ending an IPv6 address is not an IPv4 address");
      if (count > 6) return bad("more than 8 groups of an IPv6 address");
      groups[count++] = static_cast<uint16_t>(quad->value >> 16);
      groups[count++] = static_cast<uint16_t>(quad->value);
      i = text.size();
      break;
    }
    if (group.empty()) return bad("an empty group (':::' or a ':' at the end) in an IPv6 address");
    if (group.size() > 4) return bad("a group of more than 4 hex digits in an IPv6 address");
    uint16_t value = 0;
    for (char c : group) {
      const int digit = hex_digit(c);
      if (digit < 0) return bad("a character that is not a hex digit in an IPv6 address");
      value = static_cast<uint16_t>(value << 4 | digit);
    }
    groups[count++] = value;
    if (end == std::string_view::npos) {
      i = text.size();
    } else if (text.substr(end, 2) == "::") {
      if (gap >= 0) return bad("'::' more than once in an IPv6 address");
      gap = count;
      i = end + 2;
    } else {
      i = end + 1;
      if (i == text.size()) return bad("an IPv6 address cannot end with a single ':'");
    }
  }
  if (gap < 0 && count != 8) return bad("fewer than 8 groups and no '::' in an IPv6 address");
  if (gap >= 0 && count == 8) return bad("'::' stands for no group in an IPv6 address");
  uint128_t value = 0;
  const int zeros = 8 - count;
  for (int g = 0, k = 0; g < 8; ++g) {
    const bool in_gap = gap >= 0 && g >= gap && g < gap + zeros;
    value = value << 16 | (in_gap ? 0 : groups[k++]);
  }
  return IpAddress{value};
}

}  // namespace

void IpAddress::to_bytes(uint8_t* out) const {
  // Two big-endian 64-bit stores (per probe on the IPv6 send path): not 16 shifts of 128 bits.
  const uint64_t high = __builtin_bswap64(high64()), low = __builtin_bswap64(low64());
  std::memcpy(out, &high, 8);
  std::memcpy(out + 8, &low, 8);
}

IpAddress IpAddress::from_bytes(const uint8_t* in) {
  uint64_t high, low;
  std::memcpy(&high, in, 8);
  std::memcpy(&low, in + 8, 8);
  return IpAddress::v6(__builtin_bswap64(high), __builtin_bswap64(low));
}

Result<IpAddress> parse_ip(std::string_view text) {
  if (text.empty()) return bad("an empty address");
  if (text.find(':') == std::string_view::npos) {
    const auto v4 = parse_ipv4(text);
    if (!v4) return bad("not an IPv4 address (four decimal octets 0-255, no leading zeros)");
    return IpAddress::v4(v4->value);
  }
  if (text.find('%') != std::string_view::npos)
    return bad("a zone id ('%...') names a link, not a target: give a global address");
  if (text.front() == '[') return bad("brackets belong to URLs: give the address alone");
  auto address = parse_ipv6(text);
  if (address && address->is_ipv4())
    return bad("an IPv4-mapped IPv6 address (::ffff:a.b.c.d): write the IPv4 address");
  return address;
}

size_t format_ip(IpAddress address, char* out) {
  if (address.is_ipv4()) return format_ipv4(Ipv4Address{address.ipv4()}, out);
  uint16_t groups[8];
  for (int g = 0; g < 8; ++g) groups[g] = static_cast<uint16_t>(address.value >> (112 - 16 * g));
  // RFC 5952 section 4.2: the longest run of at least two zero groups (the first of equal
  // ones) becomes "::".
  int best = -1, best_length = 1;
  for (int g = 0; g < 8;) {
    if (groups[g] != 0) {
      ++g;
      continue;
    }
    int end = g;
    while (end < 8 && groups[end] == 0) ++end;
    if (end - g > best_length) {
      best = g;
      best_length = end - g;
    }
    g = end;
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  size_t n = 0;
  for (int g = 0; g < 8; ++g) {
    if (g == best) {
      out[n++] = ':';
      out[n++] = ':';
      g += best_length - 1;
      continue;
    }
    if (g != 0 && g != best + best_length) out[n++] = ':';
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const int digit = (groups[g] >> shift) & 15;
      if (digit != 0 || started || shift == 0) {
        out[n++] = kDigits[digit];
        started = true;
      }
    }
  }
  out[n] = '\0';
  return n;
}

std::string to_string(IpAddress address) {
  char buffer[kIpTextBytes];
  return std::string(buffer, format_ip(address, buffer));
}

IpAddress prefix_first(IpAddress address, int length) {
  const int bits = max_prefix_length(address.family());
  const int host = bits - length;
  if (host <= 0) return address;
  if (host >= 128) return IpAddress{0};
  const uint128_t mask = (uint128_t{1} << host) - 1;
  return IpAddress{address.value & ~mask};
}

IpAddress prefix_last(IpAddress address, int length) {
  const int bits = max_prefix_length(address.family());
  const int host = bits - length;
  if (host <= 0) return address;
  if (host >= 128) return IpAddress{~uint128_t{0}};
  const uint128_t mask = (uint128_t{1} << host) - 1;
  return IpAddress{address.value | mask};
}

}  // namespace anyscan
