#include "target/address_set.h"

#include <algorithm>
#include <iterator>
#include <string>

namespace anyscan {
namespace {

constexpr uint128_t kMax = ~uint128_t{0};

// a + b, saturating at 2^128 - 1.
uint128_t add_saturating(uint128_t a, uint128_t b) { return a > kMax - b ? kMax : a + b; }

// Splits r where it crosses into or out of the IPv4 block, so a range is one family.
void push_by_family(std::vector<AddressRange>& out, AddressRange r) {
  const uint128_t cuts[] = {kIpv4First.value, kIpv4Last.value + 1};
  for (uint128_t cut : cuts)
    if (r.first.value < cut && cut <= r.last.value) {
      out.push_back({r.first, IpAddress{cut - 1}});
      r.first = IpAddress{cut};
    }
  out.push_back(r);
}

}  // namespace

AddressSet::AddressSet(std::vector<AddressRange> ranges) : ranges_(std::move(ranges)) {
  normalize();
}

AddressSet AddressSet::everything() { return AddressSet({{IpAddress{0}, IpAddress{kMax}}}); }
AddressSet AddressSet::ipv4_space() { return AddressSet({{kIpv4First, kIpv4Last}}); }

void AddressSet::add(AddressRange range) {
  ranges_.push_back(range);
  normalize();
}

void AddressSet::add(const std::vector<AddressRange>& ranges) {
  // The set is sorted: sort what comes and merge the two (linear, not a sort of all).
  const auto by_first = [](const AddressRange& a, const AddressRange& b) {
    return a.first < b.first;
  };
  const auto old = static_cast<std::ptrdiff_t>(ranges_.size());
  ranges_.insert(ranges_.end(), ranges.begin(), ranges.end());
  std::sort(ranges_.begin() + old, ranges_.end(), by_first);
  std::inplace_merge(ranges_.begin(), ranges_.begin() + old, ranges_.end(), by_first);
  normalize_sorted();
}

void AddressSet::normalize() {
  std::sort(ranges_.begin(), ranges_.end(),
            [](const AddressRange& a, const AddressRange& b) { return a.first < b.first; });
  normalize_sorted();
}

void AddressSet::normalize_sorted() {
  // Merge overlapping and adjacent ranges in place (a hitlist's set is its whole memory).
  size_t kept = 0;
  bool crosses = false;  // a range spanning a family boundary, to be split
  for (size_t i = 0; i < ranges_.size(); ++i) {
    const AddressRange& r = ranges_[i];
    if (kept != 0 && (ranges_[kept - 1].last.value == kMax ||
                      r.first.value <= ranges_[kept - 1].last.value + 1)) {
      ranges_[kept - 1].last = std::max(ranges_[kept - 1].last, r.last);
    } else {
      ranges_[kept++] = r;
    }
  }
  ranges_.resize(kept);
  for (const AddressRange& r : ranges_)
    crosses = crosses || r.first.family() != r.last.family() ||
              (r.first < kIpv4First && kIpv4Last < r.last);
  if (crosses) {
    std::vector<AddressRange> split;
    split.reserve(ranges_.size() + 2);
    for (const AddressRange& r : ranges_) push_by_family(split, r);
    ranges_ = std::move(split);
  }
  starts_.resize(ranges_.size());
  total_ = 0;
  for (size_t i = 0; i < ranges_.size(); ++i) {
    starts_[i] = total_ > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(total_);
    total_ = add_saturating(total_, ranges_[i].count());
  }
}

AddressSet AddressSet::minus(const AddressSet& other) const {
  std::vector<AddressRange> out;
  out.reserve(ranges_.size() + other.ranges_.size());
  size_t j = 0;
  const auto& cut = other.ranges_;
  for (const AddressRange& r : ranges_) {
    uint128_t first = r.first.value;
    const uint128_t last = r.last.value;
    bool done = false;
    while (j < cut.size() && cut[j].last.value < first) ++j;
    for (size_t k = j; !done && k < cut.size() && cut[k].first.value <= last; ++k) {
      if (cut[k].first.value > first)
        out.push_back({IpAddress{first}, IpAddress{cut[k].first.value - 1}});
      if (cut[k].last.value >= last) {
        done = true;
      } else {
        first = std::max(first, cut[k].last.value + 1);
      }
    }
    if (!done) out.push_back({IpAddress{first}, IpAddress{last}});
  }
  return AddressSet(std::move(out));
}

AddressSet AddressSet::intersect(const AddressSet& other) const {
  std::vector<AddressRange> out;
  size_t i = 0, j = 0;
  while (i < ranges_.size() && j < other.ranges_.size()) {
    const AddressRange& a = ranges_[i];
    const AddressRange& b = other.ranges_[j];
    const IpAddress first = std::max(a.first, b.first);
    const IpAddress last = std::min(a.last, b.last);
    if (first <= last) out.push_back({first, last});
    if (a.last < b.last)
      ++i;
    else
      ++j;
  }
  return AddressSet(std::move(out));
}

void AddressSet::shrink() {
  ranges_.shrink_to_fit();
  starts_.shrink_to_fit();
}

uint128_t AddressSet::count(IpFamily family) const {
  uint128_t n = 0;
  for (const AddressRange& r : ranges_)
    if (r.first.family() == family) n = add_saturating(n, r.count());
  return n;
}

uint64_t AddressSet::size() const {
  return total_ > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(total_);
}

IpAddress AddressSet::at(uint64_t index) const {
  // Last range whose start index is <= index.
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), index);
  const size_t r = static_cast<size_t>(it - starts_.begin()) - 1;
  return IpAddress{ranges_[r].first.value + (index - starts_[r])};
}

bool AddressSet::contains(IpAddress address) const {
  const auto it = std::upper_bound(ranges_.begin(), ranges_.end(), address,
                                   [](IpAddress a, const AddressRange& r) { return a < r.first; });
  return it != ranges_.begin() && address <= std::prev(it)->last;
}

std::optional<uint64_t> AddressSet::index_of(IpAddress address) const {
  const auto it = std::upper_bound(ranges_.begin(), ranges_.end(), address,
                                   [](IpAddress a, const AddressRange& r) { return a < r.first; });
  if (it == ranges_.begin()) return std::nullopt;
  const size_t r = static_cast<size_t>(it - ranges_.begin()) - 1;
  if (address > ranges_[r].last) return std::nullopt;
  const uint128_t index = uint128_t{starts_[r]} + (address.value - ranges_[r].first.value);
  if (index > UINT64_MAX) return std::nullopt;
  return static_cast<uint64_t>(index);
}

std::string count_text(uint128_t count) {
  if (count > (uint128_t{1} << 32) && (count & (count - 1)) == 0) {
    int bits = 0;
    while ((uint128_t{1} << bits) != count) ++bits;
    return "2^" + std::to_string(bits);
  }
  if (count == kMax) return "2^128";
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(count % 10)));
    count /= 10;
  } while (count != 0);
  return digits;
}

}  // namespace anyscan
