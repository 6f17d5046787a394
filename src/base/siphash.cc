#include "base/siphash.h"

namespace anyscan {

uint64_t siphash24(uint64_t k0, uint64_t k1, const uint8_t* m, size_t bytes) {
  SipHash24 s(k0, k1);
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t word = 0;
    for (int k = 7; k >= 0; --k) word = word << 8 | m[i + static_cast<size_t>(k)];
    s.absorb(word);
  }
  uint64_t tail = uint64_t{bytes & 0xff} << 56;
  for (size_t k = 0; i + k < bytes; ++k) tail |= uint64_t{m[i + k]} << (8 * k);
  s.absorb(tail);
  return s.finish();
}

}  // namespace anyscan
