#include "scan/rate_limiter.h"

#include <time.h>

#include <algorithm>

namespace anyscan {

uint64_t MonotonicClock::now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

void MonotonicClock::sleep_until_ns(uint64_t deadline_ns) {
  constexpr uint64_t kSpinNs = 50000;
  const uint64_t now = now_ns();
  if (deadline_ns <= now) return;
  if (deadline_ns - now > kSpinNs) {
    const uint64_t wake = deadline_ns - kSpinNs;
    timespec ts{static_cast<time_t>(wake / 1000000000ULL), static_cast<long>(wake % 1000000000ULL)};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
    }
  }
  while (now_ns() < deadline_ns) {
  }
}

RateLimiter::RateLimiter(uint64_t rate_pps, uint64_t start_ns)
    : rate_pps_(rate_pps), start_ns_(start_ns) {}

uint32_t RateLimiter::batch_size(uint32_t max_batch) const {
  if (unlimited()) return max_batch;
  return static_cast<uint32_t>(std::clamp<uint64_t>(rate_pps_ / 1000, 1, max_batch));
}

uint64_t RateLimiter::claim(uint32_t count) {
  const uint64_t first = next_.fetch_add(count, std::memory_order_relaxed);
  return due_ns(first);
}

uint64_t RateLimiter::due_ns(uint64_t sequence) const {
  if (unlimited()) return 0;
  // sequence * 1e9 / rate without overflow for any realistic scan (128-bit product).
  __extension__ using uint128 = unsigned __int128;
  const uint128 offset = static_cast<uint128>(sequence) * 1000000000ULL / rate_pps_;
  return start_ns_ + static_cast<uint64_t>(offset);
}

uint64_t bandwidth_to_pps(uint64_t bandwidth_bps, uint64_t frame_bytes) {
  const uint64_t wire_bytes = std::max<uint64_t>(frame_bytes, 60) + 4 + 8 + 12;
  return std::max<uint64_t>(1, bandwidth_bps / (wire_bytes * 8));
}

}  // namespace anyscan
