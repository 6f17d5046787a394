#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "net/ipv4_address.h"

namespace anyscan {

// Inclusive address range.
struct AddressRange {
  uint32_t first = 0;
  uint32_t last = 0;
  uint64_t size() const { return uint64_t{last} - first + 1; }
  bool operator==(const AddressRange&) const = default;
};

// A set of IPv4 addresses as sorted, disjoint, non-adjacent ranges, with O(log n) mapping
// between an address and its index in the set. The index is what the permutation runs
// over, so excluded (blocklisted) addresses cost no probes and no time.
class AddressSet {
 public:
  AddressSet() = default;
  explicit AddressSet(std::vector<AddressRange> ranges);  // any order, may overlap

  static AddressSet everything();

  void add(AddressRange range);
  void add(const std::vector<AddressRange>& ranges);  // one merge for all of them
  AddressSet minus(const AddressSet& other) const;
  AddressSet intersect(const AddressSet& other) const;

  uint64_t size() const { return total_; }
  bool empty() const { return total_ == 0; }
  bool contains(uint32_t address) const { return index_of(address).has_value(); }
  // The index-th smallest address; index < size().
  uint32_t at(uint64_t index) const;
  std::optional<uint64_t> index_of(uint32_t address) const;
  const std::vector<AddressRange>& ranges() const { return ranges_; }

 private:
  void normalize();

  std::vector<AddressRange> ranges_;
  std::vector<uint64_t> starts_;  // index of each range's first address
  uint64_t total_ = 0;
};

}  // namespace anyscan
