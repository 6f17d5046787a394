#pragma once

#include <cstdint>
#include <vector>

#include "net/ip_address.h"
#include "target/address_set.h"
#include "target/prefix_windows.h"

namespace anyscan {

// Aliased prefixes (--aliased-prefixes: the IPv6 Hitlist Service's aliased-prefixes list, or
// the user's): prefixes in which every address answers, so a scan of them would report one
// fake host per probe. Each prefix is a unit: a scan probes at most `limit` of its targets in
// it (the first in address order), and every result in it is flagged `aliased`.
class AliasedPrefixes {
 public:
  AliasedPrefixes() = default;
  // Sorted, none inside another (load_prefix_list gives them so).
  explicit AliasedPrefixes(std::vector<AddressRange> prefixes) : prefixes_(std::move(prefixes)) {}

  bool empty() const { return prefixes_.empty(); }
  size_t size() const { return prefixes_.size(); }
  const std::vector<AddressRange>& prefixes() const { return prefixes_; }
  bool contains(IpAddress address) const;

  // The targets beyond the first `limit` inside each prefix: what a scan leaves out.
  AddressSet over_limit(const AddressSet& targets, uint64_t limit) const;
  // The same for prefix windows (window numbers), by the address each window probes.
  AddressSet windows_over_limit(const AddressSet& windows, const WindowSpec& spec,
                                uint64_t limit) const;

 private:
  std::vector<AddressRange> prefixes_;
};

}  // namespace anyscan
