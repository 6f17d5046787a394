#include "net/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace anyscan {
namespace {

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3 example bytes: sum 0xddf2, checksum 0x220d.
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_fold(checksum_partial(data, sizeof data)), 0xddf2);
  EXPECT_EQ(checksum(data, sizeof data), 0x220d);
}

TEST(Checksum, IncrementalUpdateMatchesFullRecomputation) {
  std::mt19937_64 random(7);
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<uint8_t> data(20);
    for (auto& b : data) b = static_cast<uint8_t>(random());
    size_t word = (random() % 9) * 2;  // any word but the checksum field (10-11)
    if (word >= 10) word += 2;
    data[10] = data[11] = 0;
    const uint16_t before = checksum(data.data(), data.size());
    const uint16_t old_word = static_cast<uint16_t>(data[word] << 8 | data[word + 1]);
    const uint16_t new_word = static_cast<uint16_t>(random());
    data[word] = static_cast<uint8_t>(new_word >> 8);
    data[word + 1] = static_cast<uint8_t>(new_word);
    const uint16_t adjusted = checksum_adjust16(before, old_word, new_word);
    // Verify the way a receiver does: the sum over data with the checksum is 0xffff.
    std::vector<uint8_t> with = data;
    with[10] = static_cast<uint8_t>(adjusted >> 8);
    with[11] = static_cast<uint8_t>(adjusted);
    SCOPED_TRACE(trial);
    ASSERT_EQ(checksum_fold(checksum_partial(with.data(), with.size())), 0xffff);
  }
}

}  // namespace
}  // namespace anyscan
