#include "target/aliased_prefixes.h"

#include <algorithm>
#include <iterator>
#include <optional>

namespace anyscan {
namespace {

// The first range of `ranges` (sorted, disjoint) that may hold `address` or come after it.
size_t first_at_or_after(const std::vector<AddressRange>& ranges, IpAddress address) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), address,
                             [](IpAddress a, const AddressRange& r) { return a < r.first; });
  if (it != ranges.begin() && address <= std::prev(it)->last) --it;
  return static_cast<size_t>(it - ranges.begin());
}

// The part of `set` inside [first, last] beyond its first `limit` addresses, as one range
// (or nothing): everything after the limit-th address up to `last`.
std::optional<AddressRange> beyond(const AddressSet& set, IpAddress first, IpAddress last,
                                   uint64_t limit) {
  const auto& ranges = set.ranges();
  uint128_t seen = 0;
  for (size_t i = first_at_or_after(ranges, first); i < ranges.size() && ranges[i].first <= last;
       ++i) {
    const IpAddress from = std::max(first, ranges[i].first);
    const IpAddress to = std::min(last, ranges[i].last);
    const uint128_t here = to.value - from.value + 1;
    if (seen + here > limit) {
      const IpAddress kept_last{from.value + (limit - seen) - 1};
      if (kept_last >= last) return std::nullopt;
      return AddressRange{IpAddress{kept_last.value + 1}, last};
    }
    seen += here;
  }
  return std::nullopt;
}

}  // namespace

bool AliasedPrefixes::contains(IpAddress address) const {
  const size_t i = first_at_or_after(prefixes_, address);
  return i < prefixes_.size() && prefixes_[i].first <= address && address <= prefixes_[i].last;
}

AddressSet AliasedPrefixes::over_limit(const AddressSet& targets, uint64_t limit) const {
  std::vector<AddressRange> out;
  for (const AddressRange& p : prefixes_)
    if (auto extra = beyond(targets, p.first, p.last, limit)) out.push_back(*extra);
  return AddressSet(std::move(out));
}

AddressSet AliasedPrefixes::windows_over_limit(const AddressSet& windows, const WindowSpec& spec,
                                               uint64_t limit) const {
  std::vector<AddressRange> out;
  if (windows.empty() || !spec.enabled()) return AddressSet(std::move(out));
  const int host = spec.host_bits();
  const uint128_t mask = host >= 128 ? ~uint128_t{0} : (uint128_t{1} << host) - 1;
  for (const AddressRange& p : prefixes_) {
    // A prefix inside one window holds at most that window's one address: nothing to cap.
    if (p.last.value - p.first.value < mask) continue;
    const IpAddress first{spec.number_of(p.first)}, last{spec.number_of(p.last)};
    if (auto extra = beyond(windows, first, last, limit)) out.push_back(*extra);
  }
  return AddressSet(std::move(out));
}

}  // namespace anyscan
