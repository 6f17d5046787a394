#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace anyscan {

// The ports to probe, sorted and unique, with an O(1) port -> index table for replies.
class PortSet {
 public:
  PortSet() { index_.fill(kNoIndex); }
  explicit PortSet(std::vector<uint16_t> ports);

  size_t size() const { return ports_.size(); }
  bool empty() const { return ports_.empty(); }
  uint16_t at(size_t index) const { return ports_[index]; }
  // Index of port in the set, or -1.
  int32_t index_of(uint16_t port) const { return index_[port]; }
  const std::vector<uint16_t>& ports() const { return ports_; }

 private:
  static constexpr int32_t kNoIndex = -1;
  std::vector<uint16_t> ports_;
  std::array<int32_t, 65536> index_;
};

// "22,80,8000-8100": comma-separated ports and inclusive ranges, 1-65535 ("-" alone or
// "1-65535" is every port). Errors name the bad element (kUsage).
Result<PortSet> parse_ports(std::string_view text);
// The set in that syntax, consecutive ports as ranges: parse_ports(format_ports(s)) == s,
// and every port is "1-65535", not 65,535 numbers.
std::string format_ports(const PortSet& ports);

}  // namespace anyscan
