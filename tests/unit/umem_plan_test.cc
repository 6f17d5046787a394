// The AF_XDP memory plan: every receive queue gets a socket, memory shrinks per queue (never
// the number of queues), and what cannot fit is refused with the numbers.
#include "engine/af_xdp/umem_plan.h"

#include <gtest/gtest.h>

#include <array>

namespace anyscan {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

TEST(UmemPlan, ThirtyTwoQueuesFitSixtyFourMebibytesWithIpcLock) {
  for (uint32_t senders : {1u, 2u, 8u, 32u}) {
    SCOPED_TRACE(senders);
    auto plan = plan_umem(32, senders, true, 8 * kMiB);  // the limit does not apply with IPC_LOCK
    ASSERT_TRUE(plan) << plan.error().message;
    EXPECT_LE(plan->total_bytes, 64 * kMiB);
    EXPECT_GE(plan->rx_frames, UmemLimits::kMinFrames);
    EXPECT_EQ(plan->total_bytes,
              (32ull * plan->rx_frames + senders * plan->tx_frames) * plan->frame_bytes);
    EXPECT_FALSE(plan->limited_by_memlock);
  }
}

TEST(UmemPlan, WithoutIpcLockFewerFramesPerQueueNeverFewerQueues) {
  // 8 MiB RLIMIT_MEMLOCK, as on these hosts: 3/4 of it may be locked.
  auto plan = plan_umem(32, 2, false, 8 * kMiB);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_LE(plan->total_bytes, 6 * kMiB);
  EXPECT_EQ(plan->rx_frames, 64u);
  EXPECT_TRUE(plan->limited_by_memlock);
  auto one = plan_umem(1, 1, false, 8 * kMiB);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->rx_frames, 1024u);  // 4 MiB of 6 usable
  auto unlimited = plan_umem(1, 1, false, UINT64_MAX);
  ASSERT_TRUE(unlimited);
  EXPECT_EQ(unlimited->rx_frames, UmemLimits::kRxFramesTotal);
  EXPECT_FALSE(unlimited->limited_by_memlock);
}

// Replies in a storm need receive frames more than probes need transmit frames: the receive
// budget is shared by the queues, and shrinks first when memory is short.
TEST(UmemPlan, ReceiveFramesAreSharedByTheQueuesAndShrinkFirst) {
  // {queues, receive frames, transmit frames}; 16 queues x 2048 + 2 x 2048 would be 72 MiB.
  const std::array<uint32_t, 3> expected[] = {
      {1, 16384, 2048}, {2, 8192, 2048}, {4, 4096, 2048}, {8, 2048, 2048}, {16, 1024, 1024}};
  for (auto [queues, rx, tx] : expected) {
    SCOPED_TRACE(queues);
    auto plan = plan_umem(queues, std::min(queues, 2u), true, 0);
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->rx_frames, rx);
    EXPECT_EQ(plan->tx_frames, tx);
  }
  // 12 MiB lockable: 1 queue wants 16384 + 2048 frames (36 MiB); receive shrinks to 4096.
  auto short_memory = plan_umem(1, 1, false, 16 * kMiB);
  ASSERT_TRUE(short_memory);
  EXPECT_EQ(short_memory->rx_frames, 4096u);
  EXPECT_EQ(short_memory->tx_frames, 2048u);
  EXPECT_EQ(short_memory->total_bytes, 12 * kMiB);
  EXPECT_TRUE(short_memory->limited_by_memlock);
}

TEST(UmemPlan, TooLittleLockableMemoryIsRefusedWithTheNumbers) {
  auto plan = plan_umem(32, 2, false, 1 * kMiB);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, ExitCode::kUnavailable);
  EXPECT_NE(plan.error().message.find("32 receive queues need at least 4352 KiB"),
            std::string::npos)
      << plan.error().message;
  EXPECT_NE(plan.error().message.find("RLIMIT_MEMLOCK 1024 KiB"), std::string::npos)
      << plan.error().message;
}

TEST(UmemPlan, RingsArePowersOfTwo) {
  for (uint32_t queues = 1; queues <= 256; queues += 7) {
    auto plan = plan_umem(queues, 2, true, 0);
    ASSERT_TRUE(plan) << queues;
    EXPECT_EQ(plan->rx_frames & (plan->rx_frames - 1), 0u) << queues;
    EXPECT_LE(plan->total_bytes, UmemLimits::kTotalBudgetBytes) << queues;
  }
}

}  // namespace
}  // namespace anyscan
