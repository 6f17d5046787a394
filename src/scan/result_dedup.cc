#include "scan/result_dedup.h"

namespace anyscan {

bool ResultDedup::insert(uint64_t target_index, uint32_t classification) {
  const uint64_t bit = target_index * classes_ + classification;
  const uint64_t page_number = bit / kPageBits;
  if (page_number != last_page_number_) {
    auto& page = pages_[page_number];
    if (!page) page = std::make_unique<uint64_t[]>(kPageBits / 64);  // zeroed
    last_page_number_ = page_number;
    last_page_ = page.get();
  }
  const uint64_t offset = bit % kPageBits;
  uint64_t& word = last_page_[offset / 64];
  const uint64_t mask = uint64_t{1} << (offset % 64);
  if (word & mask) return false;
  word |= mask;
  return true;
}

}  // namespace anyscan
