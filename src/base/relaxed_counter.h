#pragma once

#include <atomic>
#include <cstdint>

namespace anyscan {

// A counter written by one thread and read by others (the status reporter) while it
// runs. add() is a plain load and store, not a locked read-modify-write: with a single
// writer nothing is lost, and readers see a value that was true at some moment.
class RelaxedCounter {
 public:
  void add(uint64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(uint64_t n) { value_.store(n, std::memory_order_relaxed); }
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

}  // namespace anyscan
