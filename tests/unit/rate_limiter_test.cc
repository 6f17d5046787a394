#include "scan/rate_limiter.h"

#include <gtest/gtest.h>

#include <vector>

namespace anyscan {
namespace {

// A clock that only moves when someone sleeps, or when the test advances it to model the
// time a send takes.
class FakeClock final : public Clock {
 public:
  uint64_t now_ns() override { return now_; }
  void sleep_until_ns(uint64_t deadline) override { now_ = std::max(now_, deadline); }
  void advance(uint64_t ns) { now_ += ns; }

 private:
  uint64_t now_ = 1000000000ULL;
};

// Sends `packets` frames through `threads` simulated senders taking turns, each batch costing
// send_cost_ns of clock time; returns the achieved packets per second.
double simulate(uint64_t rate, uint32_t threads, uint64_t packets, uint64_t send_cost_ns) {
  FakeClock clock;
  RateLimiter limiter(rate, clock.now_ns());
  const uint64_t start = clock.now_ns();
  const uint32_t batch = limiter.batch_size(64);
  uint64_t sent = 0;
  uint32_t turn = 0;
  while (sent < packets) {
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(batch, packets - sent));
    clock.sleep_until_ns(limiter.claim(n));
    clock.advance(send_cost_ns);
    sent += n;
    turn = (turn + 1) % threads;
  }
  return static_cast<double>(packets) / (static_cast<double>(clock.now_ns() - start) / 1e9);
}

TEST(RateLimiter, HoldsTheTotalRateWithinFivePercentFrom100ppsUp) {
  for (uint64_t rate : {100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 5000000ull}) {
    for (uint32_t threads : {1u, 2u, 8u}) {
      SCOPED_TRACE(testing::Message() << rate << " pps, " << threads << " threads");
      const uint64_t packets = std::max<uint64_t>(rate * 2, 1000);  // two seconds' worth
      const double achieved = simulate(rate, threads, packets, 200);
      EXPECT_NEAR(achieved, static_cast<double>(rate), 0.05 * static_cast<double>(rate));
    }
  }
}

TEST(RateLimiter, SlowSenderIsNotThrottledFurther) {
  // If sending itself takes longer than the schedule allows, the limiter adds no sleep.
  const double achieved = simulate(1000000, 1, 100000, 200000);  // 200 us per 64-frame batch
  EXPECT_NEAR(achieved, 64.0 / 200e-6, 0.05 * 64.0 / 200e-6);
}

TEST(RateLimiter, ScheduleIsExactAndMonotonic) {
  RateLimiter limiter(3, 0);
  EXPECT_EQ(limiter.due_ns(0), 0u);
  EXPECT_EQ(limiter.due_ns(3), 1000000000u);
  EXPECT_EQ(limiter.due_ns(1), 333333333u);
  // Huge sequence numbers do not overflow.
  EXPECT_EQ(RateLimiter(1, 0).due_ns(uint64_t{1} << 40), (uint64_t{1} << 40) * 1000000000ULL);
}

TEST(RateLimiter, UnlimitedNeverWaits) {
  RateLimiter limiter(0, 123);
  EXPECT_TRUE(limiter.unlimited());
  EXPECT_EQ(limiter.claim(64), 0u);
  EXPECT_EQ(limiter.batch_size(64), 64u);
}

TEST(RateLimiter, BatchKeepsLowRatesSmooth) {
  EXPECT_EQ(RateLimiter(100, 0).batch_size(64), 1u);
  EXPECT_EQ(RateLimiter(10000, 0).batch_size(64), 10u);
  EXPECT_EQ(RateLimiter(10000000, 0).batch_size(64), 64u);
}

TEST(Bandwidth, ConvertsBitsToFramesOnTheWire) {
  // 58-byte frame -> 60 + 4 FCS + 8 preamble + 12 gap = 84 bytes = 672 bits.
  EXPECT_EQ(bandwidth_to_pps(1000000000ULL, 58), 1488095u);
  EXPECT_EQ(bandwidth_to_pps(672, 58), 1u);
  EXPECT_EQ(bandwidth_to_pps(1, 58), 1u);
}

}  // namespace
}  // namespace anyscan
