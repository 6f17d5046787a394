#include "support/test_frames.h"

namespace anyscan::testing_support {

ProbeParams test_probe_params() {
  ProbeParams p;
  p.source_mac = *parse_mac("02:00:00:00:00:01");
  p.gateway_mac = *parse_mac("02:00:00:00:00:02");
  p.source_ips = {*parse_ip("198.18.0.1")};
  p.source_port_first = 40000;
  p.source_port_count = 1000;
  p.probes_per_target = 2;
  p.key = CookieKey{{0x0123456789abcdefULL, 0xfedcba9876543210ULL}};
  return p;
}

std::string hex(const uint8_t* data, size_t bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (size_t i = 0; i < bytes; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::vector<uint8_t> unhex(const std::string& text) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(text.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace anyscan::testing_support
