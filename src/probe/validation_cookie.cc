#include "probe/validation_cookie.h"

#include "base/siphash.h"

namespace anyscan {
namespace {

inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct SipState {
  uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
  void absorb(uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

}  // namespace

uint64_t validation_cookie(const CookieKey& key, uint32_t saddr, uint32_t daddr, uint16_t port) {
  SipState s{key.words[0] ^ 0x736f6d6570736575ULL, key.words[1] ^ 0x646f72616e646f6dULL,
             key.words[0] ^ 0x6c7967656e657261ULL, key.words[1] ^ 0x7465646279746573ULL};
  // Message bytes are the little-endian encodings; 10 bytes: one full block, then the
  // 2-byte tail with the length (10) in the top byte.
  s.absorb(uint64_t{saddr} | uint64_t{daddr} << 32);
  s.absorb(uint64_t{port} | uint64_t{10} << 56);
  s.v2 ^= 0xff;
  s.round();
  s.round();
  s.round();
  s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t siphash24(const CookieKey& key, const uint8_t* message, size_t bytes) {
  return siphash24(key.words[0], key.words[1], message, bytes);
}

uint64_t validation_cookie(const CookieKey& key, IpAddress saddr, IpAddress daddr, uint16_t port) {
  if (saddr.is_ipv4() && daddr.is_ipv4())
    return validation_cookie(key, saddr.ipv4(), daddr.ipv4(), port);
  uint8_t message[34];
  saddr.to_bytes(message);
  daddr.to_bytes(message + 16);
  message[32] = static_cast<uint8_t>(port >> 8);
  message[33] = static_cast<uint8_t>(port);
  return siphash24(key, message, sizeof message);
}

CookieKey cookie_key_from_seed(uint64_t seed) {
  // Distinct from the permutation keys, which are drawn from the same seed.
  CookieKey key;
  key.words[0] = validation_cookie(CookieKey{{seed, 0x616e797363616e31ULL}}, 1, 2, 3);
  key.words[1] = validation_cookie(CookieKey{{seed, 0x616e797363616e32ULL}}, 4, 5, 6);
  return key;
}

}  // namespace anyscan
