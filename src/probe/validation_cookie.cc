#include "probe/validation_cookie.h"

#include "base/siphash.h"

namespace anyscan {

uint64_t validation_cookie(const CookieKey& key, uint32_t saddr, uint32_t daddr, uint16_t port) {
  SipHash24 s(key.words[0], key.words[1]);
  // Message bytes are the little-endian encodings; 10 bytes: one full block, then the
  // 2-byte tail with the length (10) in the top byte.
  s.absorb(uint64_t{saddr} | uint64_t{daddr} << 32);
  s.absorb(uint64_t{port} | uint64_t{10} << 56);
  return s.finish();
}

uint64_t validation_cookie(const CookieKey& key, IpAddress saddr, IpAddress daddr, uint16_t port) {
  if (saddr.is_ipv4() && daddr.is_ipv4())
    return validation_cookie(key, saddr.ipv4(), daddr.ipv4(), port);
  // The 34-byte message as its words: both addresses' halves, then the port with the length
  // in the top byte (absorbed directly: this runs per IPv6 probe and per reply).
  SipHash24 s(key.words[0], key.words[1]);
  s.absorb(saddr.high64());
  s.absorb(saddr.low64());
  s.absorb(daddr.high64());
  s.absorb(daddr.low64());
  s.absorb(uint64_t{port} | uint64_t{34} << 56);
  return s.finish();
}

CookieKey cookie_key_from_seed(uint64_t seed) {
  // Distinct from the permutation keys, which are drawn from the same seed.
  CookieKey key;
  key.words[0] = validation_cookie(CookieKey{{seed, 0x616e797363616e31ULL}}, 1, 2, 3);
  key.words[1] = validation_cookie(CookieKey{{seed, 0x616e797363616e32ULL}}, 4, 5, 6);
  return key;
}

}  // namespace anyscan
