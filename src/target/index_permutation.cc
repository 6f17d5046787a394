#include "target/index_permutation.h"

#include <algorithm>

#include "base/mix64.h"

namespace anyscan {

IndexPermutation::IndexPermutation(uint64_t size, uint64_t seed) : size_(size) {
  int bits = 2;
  while (bits < 64 && (uint64_t{1} << bits) < size) ++bits;
  if (bits % 2) ++bits;
  half_bits_ = bits / 2;
  half_mask_ = (uint64_t{1} << half_bits_) - 1;
  uint64_t state = seed;
  for (auto& key : keys_) {
    state += 0x9e3779b97f4a7c15ULL;
    key = mix64(state);
  }
}

uint64_t IndexPermutation::encrypt(uint64_t x) const {
  uint64_t left = x >> half_bits_;
  uint64_t right = x & half_mask_;
  for (uint64_t key : keys_) {
    const uint64_t next = left ^ (mix64(right ^ key) & half_mask_);
    left = right;
    right = next;
  }
  return left << half_bits_ | right;
}

ShardSlice shard_slice(uint64_t size, uint32_t shard, uint32_t shards, uint64_t limit) {
  // k-th position of the shard is shard + k * shards; the shard has this many:
  const uint64_t in_shard = size > shard ? (size - shard - 1) / shards + 1 : 0;
  return ShardSlice{shard, shards, std::min(in_shard, limit)};
}

}  // namespace anyscan
