#pragma once

#include <cstdint>
#include <string_view>

namespace anyscan {

// CRC-32 (IEEE 802.3, the zlib/PNG polynomial, reflected): crc32("123456789") = 0xCBF43926.
// Detects torn and corrupted records; not a defence against a forger.
uint32_t crc32(std::string_view bytes);

}  // namespace anyscan
