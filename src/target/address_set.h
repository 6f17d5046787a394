#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "net/ip_address.h"

namespace anyscan {

// Inclusive address range, within one family (AddressSet keeps it so).
struct AddressRange {
  IpAddress first;
  IpAddress last;
  static constexpr AddressRange v4(uint32_t first, uint32_t last) {
    return {IpAddress::v4(first), IpAddress::v4(last)};
  }
  // Addresses in the range; the whole 128-bit space saturates at 2^128 - 1.
  uint128_t count() const {
    const uint128_t span = last.value - first.value;
    return span == ~uint128_t{0} ? span : span + 1;
  }
  bool operator==(const AddressRange&) const = default;
};

// A set of addresses of both families (IpAddress: IPv4 in its mapped block) as sorted,
// disjoint, non-adjacent ranges, none crossing a family boundary, with O(log n) mapping
// between an address and its index in the set. The index is what the permutation runs
// over, so excluded (blocklisted) addresses cost no probes and no time. The set may be far
// larger than an index can name (an IPv6 /32); count() says how large, and a scan plan
// refuses what its index cannot hold.
class AddressSet {
 public:
  AddressSet() = default;
  explicit AddressSet(std::vector<AddressRange> ranges);  // any order, may overlap

  // Every address of both families, and the IPv4 space alone.
  static AddressSet everything();
  static AddressSet ipv4_space();

  void add(AddressRange range);
  void add(const std::vector<AddressRange>& ranges);  // one merge for all of them
  AddressSet minus(const AddressSet& other) const;
  // Returns spare capacity (after a file's ranges were added piece by piece).
  void shrink();
  AddressSet intersect(const AddressSet& other) const;

  // Addresses in the set (saturating at 2^128 - 1), and those of one family.
  uint128_t count() const { return total_; }
  uint128_t count(IpFamily family) const;
  // count() as an index size: UINT64_MAX when it does not fit (a plan refuses that).
  uint64_t size() const;
  bool empty() const { return total_ == 0; }
  // Membership, for sets of any size (index_of has no answer beyond an index's range: a
  // blocklist with IPv6 special-purpose ranges holds far more than 2^64 addresses).
  bool contains(IpAddress address) const;
  // The index-th smallest address; index < size(). IPv4 addresses come after every IPv6
  // address below ::ffff:0:0 and before the rest, as numbers.
  IpAddress at(uint64_t index) const;
  std::optional<uint64_t> index_of(IpAddress address) const;
  const std::vector<AddressRange>& ranges() const { return ranges_; }

 private:
  void normalize();
  void normalize_sorted();  // ranges_ sorted by first

  std::vector<AddressRange> ranges_;
  // Index of each range's first address, saturating: an index exists only for sets a scan
  // can walk (a plan refuses more than 2^62), so 8 bytes a range, not 16.
  std::vector<uint64_t> starts_;
  uint128_t total_ = 0;
};

// "4294967296" for any 128-bit count (no std::to_string for it), and "2^64"-style text
// for exact powers of two above 2^32 (what prefix sizes are).
std::string count_text(uint128_t count);

}  // namespace anyscan
