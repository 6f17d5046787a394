#include "net/checksum.h"

namespace anyscan {

uint32_t checksum_partial(const uint8_t* data, size_t bytes, uint32_t sum) {
  uint64_t wide = sum;
  size_t i = 0;
  for (; i + 1 < bytes; i += 2) wide += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (i < bytes) wide += static_cast<uint32_t>(data[i] << 8);
  while (wide >> 32) wide = (wide & 0xffffffff) + (wide >> 32);
  return static_cast<uint32_t>(wide);
}

uint16_t checksum_fold(uint32_t sum) {
  uint64_t wide = sum;
  while (wide >> 16) wide = (wide & 0xffff) + (wide >> 16);
  return static_cast<uint16_t>(wide);
}

uint16_t checksum(const uint8_t* data, size_t bytes) {
  return static_cast<uint16_t>(~checksum_fold(checksum_partial(data, bytes)));
}

uint32_t pseudo_header_sum(uint32_t saddr, uint32_t daddr, uint8_t protocol, uint16_t length) {
  uint64_t sum =
      (saddr >> 16) + (saddr & 0xffff) + (daddr >> 16) + (daddr & 0xffff) + protocol + length;
  while (sum >> 32) sum = (sum & 0xffffffff) + (sum >> 32);
  return static_cast<uint32_t>(sum);
}

uint32_t pseudo_header_sum6(const uint8_t* saddr, const uint8_t* daddr, uint8_t next_header,
                            uint32_t length) {
  uint32_t sum = checksum_partial(saddr, 16);
  sum = checksum_partial(daddr, 16, sum);
  sum += (length >> 16) + (length & 0xffff) + next_header;
  return sum;
}

}  // namespace anyscan
