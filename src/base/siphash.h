#pragma once

#include <cstddef>
#include <cstdint>

namespace anyscan {

// SipHash-2-4 (Aumasson & Bernstein, 2012). The state is here, inline, so that a caller
// hashing a fixed-size message (the IPv4 cookie: two words) absorbs its words directly;
// siphash24() takes any message. Key: (k0, k1), the little-endian words of the 16-byte key.
class SipHash24 {
 public:
  SipHash24(uint64_t k0, uint64_t k1)
      : v0_(k0 ^ 0x736f6d6570736575ULL),
        v1_(k1 ^ 0x646f72616e646f6dULL),
        v2_(k0 ^ 0x6c7967656e657261ULL),
        v3_(k1 ^ 0x7465646279746573ULL) {}
  // One 8-byte block of the message (its little-endian word); the last, partial block with
  // the message length in its top byte.
  void absorb(uint64_t m) {
    v3_ ^= m;
    round();
    round();
    v0_ ^= m;
  }
  uint64_t finish() {
    v2_ ^= 0xff;
    round();
    round();
    round();
    round();
    return v0_ ^ v1_ ^ v2_ ^ v3_;
  }

 private:
  static uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }
  void round() {
    v0_ += v1_;
    v1_ = rotl(v1_, 13);
    v1_ ^= v0_;
    v0_ = rotl(v0_, 32);
    v2_ += v3_;
    v3_ = rotl(v3_, 16);
    v3_ ^= v2_;
    v0_ += v3_;
    v3_ = rotl(v3_, 21);
    v3_ ^= v0_;
    v2_ += v1_;
    v1_ = rotl(v1_, 17);
    v1_ ^= v2_;
    v2_ = rotl(v2_, 32);
  }

  uint64_t v0_, v1_, v2_, v3_;
};

// SipHash-2-4 of any message; the paper's reference vectors hold (tests).
uint64_t siphash24(uint64_t k0, uint64_t k1, const uint8_t* message, size_t bytes);

}  // namespace anyscan
