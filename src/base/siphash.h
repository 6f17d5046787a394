#pragma once

#include <cstddef>
#include <cstdint>

namespace anyscan {

// SipHash-2-4 (Aumasson & Bernstein, 2012) of any message under the key (k0, k1), the
// little-endian words of the 16-byte key. The paper's reference vectors hold (tests).
uint64_t siphash24(uint64_t k0, uint64_t k1, const uint8_t* message, size_t bytes);

}  // namespace anyscan
