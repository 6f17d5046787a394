#include "scan/result_dedup.h"

namespace anyscan {
namespace {

// splitmix64's finalizer: a bijection on 64 bits (each step is invertible), so distinct
// keys stay distinct after mixing and the set can store the mixed value.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

bool ResultDedup::insert(uint64_t target_index, uint32_t classification) {
  // target_index < 2^48 (addresses x ports) and classes < 2^8: the product cannot wrap.
  const uint64_t mixed = mix((target_index * classes_ + classification) ^ key_);
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
