#include "target/address_set.h"

#include <algorithm>

namespace anyscan {

AddressSet::AddressSet(std::vector<AddressRange> ranges) : ranges_(std::move(ranges)) {
  normalize();
}

AddressSet AddressSet::everything() { return AddressSet({AddressRange{0, 0xffffffffu}}); }

void AddressSet::add(AddressRange range) {
  ranges_.push_back(range);
  normalize();
}

void AddressSet::add(const std::vector<AddressRange>& ranges) {
  ranges_.insert(ranges_.end(), ranges.begin(), ranges.end());
  normalize();
}

void AddressSet::normalize() {
  std::sort(ranges_.begin(), ranges_.end(),
            [](const AddressRange& a, const AddressRange& b) { return a.first < b.first; });
  std::vector<AddressRange> merged;
  for (const AddressRange& r : ranges_) {
    if (!merged.empty() && uint64_t{r.first} <= uint64_t{merged.back().last} + 1) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  ranges_ = std::move(merged);
  starts_.resize(ranges_.size());
  total_ = 0;
  for (size_t i = 0; i < ranges_.size(); ++i) {
    starts_[i] = total_;
    total_ += ranges_[i].size();
  }
}

AddressSet AddressSet::minus(const AddressSet& other) const {
  std::vector<AddressRange> out;
  size_t j = 0;
  const auto& cut = other.ranges_;
  for (AddressRange r : ranges_) {
    uint64_t first = r.first;
    const uint64_t last = r.last;
    while (j < cut.size() && cut[j].last < first) ++j;
    size_t k = j;
    while (first <= last && k < cut.size() && cut[k].first <= last) {
      if (cut[k].first > first) out.push_back({uint32_t(first), uint32_t(cut[k].first - 1)});
      first = uint64_t{cut[k].last} + 1;
      ++k;
    }
    if (first <= last) out.push_back({uint32_t(first), uint32_t(last)});
  }
  return AddressSet(std::move(out));
}

AddressSet AddressSet::intersect(const AddressSet& other) const {
  std::vector<AddressRange> out;
  size_t i = 0, j = 0;
  while (i < ranges_.size() && j < other.ranges_.size()) {
    const AddressRange& a = ranges_[i];
    const AddressRange& b = other.ranges_[j];
    const uint32_t first = std::max(a.first, b.first);
    const uint32_t last = std::min(a.last, b.last);
    if (first <= last) out.push_back({first, last});
    if (a.last < b.last)
      ++i;
    else
      ++j;
  }
  return AddressSet(std::move(out));
}

uint32_t AddressSet::at(uint64_t index) const {
  // Last range whose start index is <= index.
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), index);
  const size_t r = static_cast<size_t>(it - starts_.begin()) - 1;
  return static_cast<uint32_t>(ranges_[r].first + (index - starts_[r]));
}

std::optional<uint64_t> AddressSet::index_of(uint32_t address) const {
  const auto it = std::upper_bound(ranges_.begin(), ranges_.end(), address,
                                   [](uint32_t a, const AddressRange& r) { return a < r.first; });
  if (it == ranges_.begin()) return std::nullopt;
  const size_t r = static_cast<size_t>(it - ranges_.begin()) - 1;
  if (address > ranges_[r].last) return std::nullopt;
  return starts_[r] + (address - ranges_[r].first);
}

}  // namespace anyscan
