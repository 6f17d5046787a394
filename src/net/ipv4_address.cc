#include "net/ipv4_address.h"

namespace anyscan {

std::optional<Ipv4Address> parse_ipv4(std::string_view text) {
  uint32_t value = 0;
  int octets = 0;
  size_t i = 0;
  while (octets < 4) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
    const size_t start = i;
    uint32_t octet = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 4) {
      octet = octet * 10 + static_cast<uint32_t>(text[i] - '0');
      ++i;
    }
    if (octet > 255 || i - start > 3) return std::nullopt;
    if (i - start > 1 && text[start] == '0') return std::nullopt;
    value = (value << 8) | octet;
    ++octets;
    if (octets < 4) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != text.size()) return std::nullopt;
  return Ipv4Address{value};
}

size_t format_ipv4(Ipv4Address address, char* out) {
  size_t n = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const unsigned octet = (address.value >> shift) & 0xff;
    if (octet >= 100) out[n++] = static_cast<char>('0' + octet / 100);
    if (octet >= 10) out[n++] = static_cast<char>('0' + (octet / 10) % 10);
    out[n++] = static_cast<char>('0' + octet % 10);
    if (shift != 0) out[n++] = '.';
  }
  out[n] = '\0';
  return n;
}

std::string to_string(Ipv4Address address) {
  char buffer[16];
  return std::string(buffer, format_ipv4(address, buffer));
}

}  // namespace anyscan
