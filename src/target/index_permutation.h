#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace anyscan {

// A seeded bijection on [0, size) for any size up to 2^62: a balanced Feistel network on
// the smallest even bit width covering size, with cycle-walking (Black & Rogaway,
// "Ciphers with Arbitrary Finite Domains", 2002) to stay inside [0, size). Pure, no
// tables: the whole IPv4 space x 65535 ports (2^48) costs the same as 256 targets, and a
// position alone says which target comes next, so shards and threads need no shared state.
class IndexPermutation {
 public:
  static constexpr int kRounds = 4;
  static constexpr uint64_t kMaxSize = uint64_t{1} << 62;

  IndexPermutation(uint64_t size, uint64_t seed);

  uint64_t size() const { return size_; }
  // The element at position; position < size().
  uint64_t at(uint64_t position) const {
    uint64_t x = encrypt(position);
    while (x >= size_) x = encrypt(x);  // expected < 4 steps: 2^bits < 4 * size
    return x;
  }
  // The inverse: the position whose element is `element` (< size()).
  uint64_t position_of(uint64_t element) const {
    uint64_t x = decrypt(element);
    while (x >= size_) x = decrypt(x);
    return x;
  }
  // out[i] = at(positions[i]) for i < count (at most kManyAtOnce): the same elements, with
  // the rounds of independent positions in flight together. One at() is a chain of
  // dependent multiplications (about 17 ns a step, 3 steps on average); a batch overlaps
  // them (bench/micro/probe_bench.cc: ns per element, one at a time and in batches).
  static constexpr size_t kManyAtOnce = 64;
  void at_many(const uint64_t* positions, uint64_t* out, size_t count) const;
  // at_many one position at a time, as it runs on a CPU without AVX-512DQ (where it has it,
  // at_many takes eight lanes at a time; tests compare both with at()).
  void at_many_scalar(const uint64_t* positions, uint64_t* out, size_t count) const;
  bool has_avx512() const { return avx512_; }

 private:
  uint64_t encrypt(uint64_t x) const;
  uint64_t decrypt(uint64_t x) const;
  void at_many_avx512(const uint64_t* positions, uint64_t* out, size_t count) const;

  uint64_t size_;
  int half_bits_;
  uint64_t half_mask_;
  std::array<uint64_t, kRounds> keys_;
  bool avx512_ = false;  // at_many on eight lanes (x86-64 with AVX-512DQ, checked at run time)
};

// Positions that shard `shard` of `shards` visits: position = shard + shards * k for
// k = 0 .. count-1. Shards are disjoint and together complete because they partition the
// positions, and the permutation maps positions one-to-one onto targets. (Sender threads
// split a shard by claiming chunks of k: scan/sender.h, WorkQueue.)
struct ShardSlice {
  uint64_t first_position;
  uint64_t stride;
  uint64_t count;

  // Whether the slice visits `position`.
  bool contains(uint64_t position) const {
    return position >= first_position && (position - first_position) % stride == 0 &&
           (position - first_position) / stride < count;
  }
};

// limit caps how many of the shard's positions (in shard order) are used at all (-n).
ShardSlice shard_slice(uint64_t size, uint32_t shard, uint32_t shards, uint64_t limit);

}  // namespace anyscan
