#pragma once

#include <cstdint>

namespace anyscan {

// SplitMix64's output function (Steele et al., 2014): a strong 64-bit mixer and a
// bijection (each step is invertible), so distinct inputs give distinct outputs.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace anyscan
