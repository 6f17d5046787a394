#pragma once

#include <atomic>
#include <cstdint>

namespace anyscan {

// Time source for the senders, injected so the limiter can be tested with a fake clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t now_ns() = 0;
  virtual void sleep_until_ns(uint64_t deadline_ns) = 0;
};

// CLOCK_MONOTONIC; sleeps with clock_nanosleep(TIMER_ABSTIME) and spins the last 50 us.
class MonotonicClock final : public Clock {
 public:
  uint64_t now_ns() override;
  void sleep_until_ns(uint64_t deadline_ns) override;
};

// One global send schedule shared by all sender threads: packet k of the scan is due at
// start + k / rate. Threads claim consecutive packet numbers in batches with one atomic
// add, so the total rate holds whatever the number of threads and however unevenly they
// run, and nothing is locked per packet.
class RateLimiter {
 public:
  // rate_pps 0 = unlimited.
  RateLimiter(uint64_t rate_pps, uint64_t start_ns);

  bool unlimited() const { return rate_pps_ == 0; }
  // Frames per claim that keep the limiter accurate at this rate: about 1 ms of sending,
  // 1..max_batch.
  uint32_t batch_size(uint32_t max_batch) const;
  // Claims count consecutive packet numbers; returns when the first of them is due.
  uint64_t claim(uint32_t count);
  // Pure schedule: when packet number `sequence` is due.
  uint64_t due_ns(uint64_t sequence) const;

 private:
  uint64_t rate_pps_;
  uint64_t start_ns_;
  std::atomic<uint64_t> next_{0};
};

// Packets per second that fit in bandwidth_bps for frames of frame_bytes, counting what
// Ethernet adds on the wire (minimum frame 60 bytes, FCS 4, preamble 8, gap 12), as zmap.
uint64_t bandwidth_to_pps(uint64_t bandwidth_bps, uint64_t frame_bytes);

}  // namespace anyscan
