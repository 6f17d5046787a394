#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

namespace anyscan {

// Exact duplicate filter over (target index, classification): one bit each, in 32 KiB
// pages allocated on first use. Never forgets (unlike a sliding window), and costs one
// bit per possible result in the pages that replies touch. Single-threaded (receiver).
class ResultDedup {
 public:
  explicit ResultDedup(uint32_t classes) : classes_(classes) {}
  // True the first time (index, class) is seen.
  bool insert(uint64_t target_index, uint32_t classification);
  uint64_t pages() const { return pages_.size(); }

 private:
  static constexpr uint64_t kPageBits = uint64_t{1} << 18;
  uint32_t classes_;
  std::unordered_map<uint64_t, std::unique_ptr<uint64_t[]>> pages_;
  uint64_t last_page_number_ = UINT64_MAX;
  uint64_t* last_page_ = nullptr;
};

}  // namespace anyscan
