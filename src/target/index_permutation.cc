#include "target/index_permutation.h"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "base/mix64.h"

namespace anyscan {

IndexPermutation::IndexPermutation(uint64_t size, uint64_t seed) : size_(size) {
#if defined(__x86_64__)
  avx512_ = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#endif
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

#if defined(__x86_64__)
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_epi32(), which it then calls
// maybe-uninitialized: a known false positive of the headers.
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
namespace {

// mix64 on eight lanes (AVX-512DQ has the 64-bit multiply).
__attribute__((target("avx512f,avx512dq"))) inline __m512i mix64x8(__m512i x) {
  x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 30));
  x = _mm512_mullo_epi64(x, _mm512_set1_epi64(static_cast<int64_t>(0xbf58476d1ce4e5b9ULL)));
  x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 27));
  x = _mm512_mullo_epi64(x, _mm512_set1_epi64(static_cast<int64_t>(0x94d049bb133111ebULL)));
  return _mm512_xor_si512(x, _mm512_srli_epi64(x, 31));
}

// IndexPermutation::encrypt on eight lanes.
__attribute__((target("avx512f,avx512dq"))) inline __m512i encrypt8(
    __m512i x, const std::array<uint64_t, IndexPermutation::kRounds>& keys, unsigned half,
    __m512i mask) {
  __m512i left = _mm512_srli_epi64(x, half);
  __m512i right = _mm512_and_si512(x, mask);
  for (uint64_t key : keys) {
    const __m512i f = _mm512_and_si512(
        mix64x8(_mm512_xor_si512(right, _mm512_set1_epi64(static_cast<int64_t>(key)))), mask);
    const __m512i next = _mm512_xor_si512(left, f);
    left = right;
    right = next;
  }
  return _mm512_or_si512(_mm512_slli_epi64(left, half), right);
}

}  // namespace

// at_many on eight lanes at a time: every lane is encrypted, and again while any lane of its
// block is outside [0, size) (a lane already inside keeps its value). Same results as the
// scalar code, bit for bit (tests/unit/index_permutation_test.cc compares them).
__attribute__((target("avx512f,avx512dq"))) void IndexPermutation::at_many_avx512(
    const uint64_t* positions, uint64_t* out, size_t count) const {
  const __m512i mask = _mm512_set1_epi64(static_cast<int64_t>(half_mask_));
  const __m512i size = _mm512_set1_epi64(static_cast<int64_t>(size_));
  const auto half = static_cast<unsigned>(half_bits_);
  constexpr size_t kBlocks = kManyAtOnce / 8;
  __m512i x[kBlocks];
  __mmask8 lanes[kBlocks], outside[kBlocks];
  const size_t blocks = (count + 7) / 8;
  for (size_t b = 0; b < blocks; ++b) {
    const size_t left = count - b * 8;
    lanes[b] = static_cast<__mmask8>(left >= 8 ? 0xff : (1u << left) - 1);
    x[b] = encrypt8(_mm512_maskz_loadu_epi64(lanes[b], positions + b * 8), keys_, half, mask);
    outside[b] = _mm512_mask_cmpge_epu64_mask(lanes[b], x[b], size);
  }
  // Walk pass by pass over every block that still has a lane outside: the blocks of one
  // pass are independent, so their multiplications overlap. Lanes past `count` never walk.
  for (bool walking = true; walking;) {
    walking = false;
    for (size_t b = 0; b < blocks; ++b) {
      if (outside[b] == 0) continue;
      x[b] = _mm512_mask_mov_epi64(x[b], outside[b], encrypt8(x[b], keys_, half, mask));
      outside[b] = _mm512_mask_cmpge_epu64_mask(outside[b], x[b], size);
      walking = true;
    }
  }
  for (size_t b = 0; b < blocks; ++b) _mm512_mask_storeu_epi64(out + b * 8, lanes[b], x[b]);
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

void IndexPermutation::at_many(const uint64_t* positions, uint64_t* out, size_t count) const {
  count = std::min(count, kManyAtOnce);
#if defined(__x86_64__)
  if (avx512_) {
    at_many_avx512(positions, out, count);
    return;
  }
#endif
  at_many_scalar(positions, out, count);
}

void IndexPermutation::at_many_scalar(const uint64_t* positions, uint64_t* out,
                                      size_t count) const {
  count = std::min(count, kManyAtOnce);
  for (size_t i = 0; i < count; ++i) out[i] = encrypt(positions[i]);
  // Cycle-walk those outside [0, size), a pass at a time over the ones still outside.
  uint8_t walking[kManyAtOnce];
  size_t left = 0;
  for (size_t i = 0; i < count; ++i)
    if (out[i] >= size_) walking[left++] = static_cast<uint8_t>(i);
  while (left != 0) {
    size_t still = 0;
    for (size_t j = 0; j < left; ++j) {
      const uint8_t i = walking[j];
      out[i] = encrypt(out[i]);
      if (out[i] >= size_) walking[still++] = i;
    }
    left = still;
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

uint64_t IndexPermutation::decrypt(uint64_t x) const {
  // Each round took (left, right) to (right, left ^ F(right)): undo them in reverse.
  uint64_t left = x >> half_bits_;
  uint64_t right = x & half_mask_;
  for (auto key = keys_.rbegin(); key != keys_.rend(); ++key) {
    const uint64_t previous = right ^ (mix64(left ^ *key) & half_mask_);
    right = left;
    left = previous;
  }
  return left << half_bits_ | right;
}

ShardSlice shard_slice(uint64_t size, uint32_t shard, uint32_t shards, uint64_t limit) {
  // k-th position of the shard is shard + k * shards; the shard has this many:
  const uint64_t in_shard = size > shard ? (size - shard - 1) / shards + 1 : 0;
  return ShardSlice{shard, shards, std::min(in_shard, limit)};
}

}  // namespace anyscan
