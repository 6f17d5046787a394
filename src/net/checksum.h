#pragma once

#include <cstddef>
#include <cstdint>

namespace anyscan {

// Internet checksum (RFC 1071) helpers. Sums are over 16-bit big-endian words; the
// returned checksum is in host order, to be stored big-endian.

// One's-complement sum of data (odd length padded with a zero byte), not yet folded.
uint32_t checksum_partial(const uint8_t* data, size_t bytes, uint32_t sum = 0);
uint16_t checksum_fold(uint32_t sum);
// Full checksum: ~fold(sum of data).
uint16_t checksum(const uint8_t* data, size_t bytes);

// TCP/UDP pseudo-header sum (RFC 793 section 3.1): saddr, daddr, zero+protocol, length.
uint32_t pseudo_header_sum(uint32_t saddr, uint32_t daddr, uint8_t protocol, uint16_t length);

// The IPv6 pseudo-header sum (RFC 8200 section 8.1): both 16-byte addresses (network
// order), the upper-layer length and the next header.
uint32_t pseudo_header_sum6(const uint8_t* saddr, const uint8_t* daddr, uint8_t next_header,
                            uint32_t length);

// A checksum over data that held zeros where `partial` (a checksum_partial of the new
// bytes, at an even offset) now stands: ~(~HC + partial), RFC 1624 in one step.
inline uint16_t checksum_add(uint16_t checksum, uint32_t partial) {
  uint64_t sum = uint64_t{static_cast<uint16_t>(~checksum)} + partial;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// RFC 1624 eqn. 3 incremental update: HC' = ~(~HC + ~m + m') for one changed 16-bit word.
// Used per probe so a frame patched from the template never needs a full re-sum.
inline uint16_t checksum_adjust16(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  uint32_t sum = static_cast<uint16_t>(~checksum) +
                 static_cast<uint32_t>(static_cast<uint16_t>(~old_word)) + new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

inline uint16_t checksum_adjust32(uint16_t checksum, uint32_t old_value, uint32_t new_value) {
  checksum = checksum_adjust16(checksum, static_cast<uint16_t>(old_value >> 16),
                               static_cast<uint16_t>(new_value >> 16));
  return checksum_adjust16(checksum, static_cast<uint16_t>(old_value),
                           static_cast<uint16_t>(new_value));
}

}  // namespace anyscan
