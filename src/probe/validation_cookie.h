#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "net/ip_address.h"

namespace anyscan {

// A 128-bit secret per scan. Replies are accepted only when they carry the keyed hash of
// (our address, target address, target port) back to us, so a reply proves we sent the
// probe it answers (zmap's validation idea, with SipHash as the PRF instead of AES).
struct CookieKey {
  std::array<uint64_t, 2> words{};
};

// SipHash-2-4 (Aumasson & Bernstein, 2012) of the 10-byte message
// saddr(4) | daddr(4) | port(2), as 64 bits. Pure; the same on sender and receiver.
uint64_t validation_cookie(const CookieKey& key, uint32_t saddr, uint32_t daddr, uint16_t port);

// The cookie of a probe from saddr to (daddr, port), for either family: IPv4 as above, so an
// IPv4 scan's cookies are what they always were; IPv6 the SipHash-2-4 of a 34-byte message
// whose little-endian words are saddr's high and low 64 bits, daddr's, then the port: both
// 128-bit addresses keyed in whole.
uint64_t validation_cookie(const CookieKey& key, IpAddress saddr, IpAddress daddr, uint16_t port);

// Key derived from a user seed (-e), so a seeded scan is reproducible frame for frame.
CookieKey cookie_key_from_seed(uint64_t seed);

}  // namespace anyscan
