#include "target/index_permutation.h"

#include "scan/sender.h"

#include <gtest/gtest.h>

#include <unordered_set>
#include <vector>

namespace anyscan {
namespace {

TEST(IndexPermutation, IsABijectionForManySizes) {
  for (uint64_t size : {1ull, 2ull, 3ull, 4ull, 5ull, 17ull, 255ull, 256ull, 257ull, 1000ull,
                        4096ull, 65537ull, 300000ull}) {
    SCOPED_TRACE(size);
    IndexPermutation permutation(size, 42);
    std::vector<bool> seen(size, false);
    for (uint64_t p = 0; p < size; ++p) {
      const uint64_t v = permutation.at(p);
      ASSERT_LT(v, size);
      ASSERT_FALSE(seen[v]) << "position " << p << " repeats " << v;
      seen[v] = true;
    }
  }
}

TEST(IndexPermutation, SameSeedSameOrderOtherSeedOtherOrder) {
  IndexPermutation a(100000, 7), b(100000, 7), c(100000, 8);
  int differences = 0;
  for (uint64_t p = 0; p < 100000; ++p) {
    ASSERT_EQ(a.at(p), b.at(p));
    differences += a.at(p) != c.at(p);
  }
  EXPECT_GT(differences, 99000);
}

TEST(IndexPermutation, ShuffleIsNotNearIdentity) {
  IndexPermutation permutation(1 << 16, 1);
  int fixed = 0, sequential = 0;
  for (uint64_t p = 0; p + 1 < (1 << 16); ++p) {
    fixed += permutation.at(p) == p;
    sequential += permutation.at(p + 1) == permutation.at(p) + 1;
  }
  EXPECT_LT(fixed, 20);
  EXPECT_LT(sequential, 20);
}

TEST(IndexPermutation, WholeIpv4SpaceTimesAllPortsIs64BitSafe) {
  const uint64_t size = (uint64_t{1} << 32) * 65535;
  IndexPermutation permutation(size, 99);
  std::unordered_set<uint64_t> values;
  // Positions near the top of the range, and a spread sample: all inside, none repeat.
  for (uint64_t p = 0; p < 200000; ++p) {
    const uint64_t position = (p % 2 == 0) ? size - 1 - p : p * 1403617;
    const uint64_t v = permutation.at(position);
    ASSERT_LT(v, size);
    ASSERT_TRUE(values.insert(v).second);
  }
}

TEST(ShardSlice, ShardsAreDisjointAndCompleteForAnyCountUpTo1024) {
  const uint64_t size = 5003;  // prime: no shard count divides it
  IndexPermutation permutation(size, 3);
  for (uint32_t shards : {1u, 2u, 3u, 7u, 64u, 100u, 1000u, 1023u, 1024u}) {
    for (uint32_t threads : {1u, 3u}) {
      SCOPED_TRACE(testing::Message() << shards << " shards, " << threads << " threads");
      std::vector<int> hits(size, 0);
      for (uint32_t shard = 0; shard < shards; ++shard) {
        // Sender threads take turns claiming small chunks of the shard, as in a scan.
        const ShardSlice s = shard_slice(size, shard, shards, UINT64_MAX);
        WorkQueue work(s, 0, 7);
        std::vector<SenderCounters> senders(threads);
        std::vector<bool> done(threads, false);
        for (uint32_t thread = 0, active = threads; active > 0; thread = (thread + 1) % threads) {
          if (done[thread]) continue;
          const auto [begin, end] = work.claim(senders[thread]);
          if (begin == end) {
            done[thread] = true;
            --active;
            continue;
          }
          for (uint64_t k = begin; k < end; ++k)
            ++hits[permutation.at(s.first_position + k * s.stride)];
        }
      }
      for (uint64_t i = 0; i < size; ++i) ASSERT_EQ(hits[i], 1) << "target " << i;
    }
  }
}

TEST(ShardSlice, MoreShardsThanTargetsLeavesSomeEmpty) {
  uint64_t total = 0;
  for (uint32_t shard = 0; shard < 1024; ++shard)
    total += shard_slice(10, shard, 1024, UINT64_MAX).count;
  EXPECT_EQ(total, 10u);
}

TEST(ShardSlice, LimitCapsTheShardNotEachThread) {
  WorkQueue work(shard_slice(1000, 0, 1, 10), 0, 3);
  SenderCounters sender;
  uint64_t total = 0;
  for (int thread = 0; thread < 4 * 10; ++thread) {  // four threads claiming in turn, until empty
    const auto [begin, end] = work.claim(sender);
    total += end - begin;
  }
  EXPECT_EQ(total, 10u);
}

// The checkpoint's progress: below the low-water mark every position was submitted, even
// when threads finish their chunks out of order; a resumed queue starts there.
TEST(WorkQueue, LowWaterTrailsTheSlowestSenderAndAResumeStartsThere) {
  WorkQueue work(shard_slice(100, 0, 1, UINT64_MAX), 0, 10);
  SenderCounters a, b;
  const std::vector<const SenderCounters*> both = {&a, &b};
  EXPECT_EQ(work.low_water(both), 0u);
  EXPECT_EQ(work.claim(a), std::make_pair(uint64_t{0}, uint64_t{10}));
  EXPECT_EQ(work.claim(b), std::make_pair(uint64_t{10}, uint64_t{20}));
  EXPECT_EQ(work.low_water(both), 0u);
  a.pending_from = 4;           // a submitted 0..3
  b.pending_from = UINT64_MAX;  // b finished its chunk
  EXPECT_EQ(work.low_water(both), 4u);
  a.pending_from = UINT64_MAX;
  EXPECT_EQ(work.low_water(both), 20u);  // nothing claimed is pending: the next claim
  EXPECT_EQ(work.claim(b), std::make_pair(uint64_t{20}, uint64_t{30}));
  EXPECT_EQ(work.low_water(both), 20u);

  WorkQueue resumed(shard_slice(100, 0, 1, UINT64_MAX), 95, 10);
  SenderCounters c;
  EXPECT_EQ(resumed.claim(c), std::make_pair(uint64_t{95}, uint64_t{100}));
  EXPECT_EQ(resumed.claim(c).first, resumed.claim(c).second);
}

}  // namespace
}  // namespace anyscan

namespace anyscan {
namespace {

TEST(IndexPermutation, ManyAtOnceIsTheSameAsOneAtATime) {
  // Sizes just above a power of 4 walk the most (the domain is up to 4x the size).
  for (uint64_t size :
       {uint64_t{1}, uint64_t{5}, uint64_t{65537}, uint64_t{1310720}, (uint64_t{1} << 40) + 3}) {
    const IndexPermutation permutation(size, size * 31 + 7);
    uint64_t positions[IndexPermutation::kManyAtOnce], out[IndexPermutation::kManyAtOnce];
    for (uint64_t start = 0; start < std::min<uint64_t>(size, 4096);
         start += IndexPermutation::kManyAtOnce) {
      const size_t count =
          static_cast<size_t>(std::min<uint64_t>(IndexPermutation::kManyAtOnce, size - start));
      for (size_t i = 0; i < count; ++i) positions[i] = (start + i) * 7919 % size;
      permutation.at_many(positions, out, count);
      for (size_t i = 0; i < count; ++i)
        ASSERT_EQ(out[i], permutation.at(positions[i])) << size << " " << positions[i];
      permutation.at_many_scalar(positions, out, count);
      for (size_t i = 0; i < count; ++i)
        ASSERT_EQ(out[i], permutation.at(positions[i])) << size << " " << positions[i];
    }
  }
}

}  // namespace
}  // namespace anyscan

namespace anyscan {
namespace {

TEST(IndexPermutation, PositionOfInvertsAt) {
  for (uint64_t size :
       {uint64_t{1}, uint64_t{7}, uint64_t{65537}, uint64_t{1310720}, (uint64_t{1} << 48) - 5}) {
    const IndexPermutation permutation(size, size ^ 0x5eed);
    for (uint64_t i = 0; i < std::min<uint64_t>(size, 3000); ++i) {
      const uint64_t position = i * 1000003 % size;
      ASSERT_EQ(permutation.position_of(permutation.at(position)), position) << size;
    }
  }
}

TEST(ShardSlice, ContainsExactlyItsPositions) {
  const ShardSlice slice = shard_slice(100, 2, 4, 10);  // positions 2, 6, ..., 38
  for (uint64_t p = 0; p < 100; ++p) EXPECT_EQ(slice.contains(p), p % 4 == 2 && p <= 38) << p;
}

}  // namespace
}  // namespace anyscan
