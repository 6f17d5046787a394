#include "store/result_dedup.h"

#include "base/mix64.h"

namespace anyscan {

bool ResultDedup::insert(uint64_t target_index, uint32_t classification) {
  // target_index < 2^48 (addresses x ports) and classes < 2^8: the product cannot wrap.
  // mix64 is a bijection, so distinct keys stay distinct and the set stores the mixed value.
  const uint64_t mixed = mix64((target_index * classes_ + classification) ^ key_);
  const bool fresh = shards_[mixed >> (64 - kShardBits)].insert(mixed).second;
  size_ += fresh;
  return fresh;
}

void ResultDedup::reserve(uint64_t results) {
  const uint64_t per_shard = (results >> kShardBits) + 1;
  for (Table& table : shards_) table.reserve(per_shard + per_shard / 8);
}

uint64_t ResultDedup::memory_bytes() const {
  uint64_t bytes = 0;
  for (const Table& table : shards_)
    if (table.capacity() != 0) bytes += table.capacity() * (sizeof(uint64_t) + 1) + 16;
  return bytes;
}

}  // namespace anyscan
