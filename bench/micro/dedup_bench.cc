// Candidates for the scanner's exact result dedup (issue: results at scale), measured at
// 10^5..10^8 distinct results, sparse (keys spread over a 2^50 space, as in a many-port
// scan of the IPv4 space) and dense (keys filling [0, 2^k) at more than half density, as in
// a small space where most probes are answered). Reported per candidate:
//   ns/insert      wall time per insert (every key new, then every key again: a duplicate)
//   bytes/result   heap growth (mallinfo2: arena in use + mmapped) per distinct result
//   max_pause_us   the longest time one batch of 256 inserts took (a receive batch): what
//                  a receiver stalls for while a table grows
// Run: build-dev/bench/micro/anyscan_dedup_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <absl/container/flat_hash_set.h>
#include <roaring/roaring64map.hh>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "store/result_dedup.h"

namespace {

size_t heap_bytes() {
  const struct mallinfo2 info = ::mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Bijections on [0, 2^bits): distinct inputs give distinct keys.
uint64_t spread(uint64_t i, unsigned bits) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t x = (i * 0x9E3779B97F4A7C15ULL) & mask;
  x ^= x >> (bits / 2);
  return (x * 0xBF58476D1CE4E5B9ULL) & mask;
}

unsigned bits_for(uint64_t n) {
  unsigned bits = 1;
  while ((uint64_t{1} << bits) < n) ++bits;
  return bits;
}

uint64_t make_key(uint64_t i, uint64_t n, bool sparse) {
  return sparse ? spread(i, 50) : spread(i, bits_for(n));
}

// The old design: one bit per possible result in 32 KiB pages made on first touch.
class PagedBitmap {
 public:
  bool insert(uint64_t key) {
    auto& page = pages_[key >> 18];
    if (!page) page = std::make_unique<uint64_t[]>((1 << 18) / 64);
    uint64_t& word = page[(key & ((1 << 18) - 1)) / 64];
    const uint64_t mask = uint64_t{1} << (key % 64);
    if (word & mask) return false;
    word |= mask;
    return true;
  }

 private:
  std::unordered_map<uint64_t, std::unique_ptr<uint64_t[]>> pages_;
};

class Roaring64 {
 public:
  bool insert(uint64_t key) { return set_.addChecked(key); }

 private:
  Roaring64Map set_;  // CRoaring 0.2.66 (bookworm) has no namespace
};

class FlatHashSet {
 public:
  bool insert(uint64_t key) { return set_.insert(key).second; }

 private:
  absl::flat_hash_set<uint64_t> set_;
};

class Sharded {
 public:
  bool insert(uint64_t key) { return set_.insert(key, 0); }

 private:
  anyscan::ResultDedup set_{1, 0x1234};
};

template <typename Set>
void BM_Dedup(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const bool sparse = state.range(1) != 0;
  double bytes_per_result = 0, max_pause_us = 0, total_ns = 0;
  for (auto _ : state) {
    const auto began = std::chrono::steady_clock::now();
    const size_t before = heap_bytes();
    auto set = std::make_unique<Set>();
    uint64_t fresh = 0;
    for (int pass = 0; pass < 2; ++pass) {
      for (uint64_t batch = 0; batch < n; batch += 256) {
        const auto start = std::chrono::steady_clock::now();
        const uint64_t end = std::min(n, batch + 256);
        for (uint64_t i = batch; i < end; ++i) fresh += set->insert(make_key(i, n, sparse));
        const std::chrono::duration<double, std::micro> took =
            std::chrono::steady_clock::now() - start;
        max_pause_us = std::max(max_pause_us, took.count());
      }
    }
    total_ns +=
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - began).count();
    if (fresh != n) state.SkipWithError("a distinct key was taken for a duplicate");
    bytes_per_result = static_cast<double>(heap_bytes() - before) / static_cast<double>(n);
    state.PauseTiming();
    set.reset();
    state.ResumeTiming();
  }
  state.counters["bytes/result"] = bytes_per_result;
  state.counters["max_pause_us"] = max_pause_us;
  state.counters["ns/insert"] =
      total_ns / static_cast<double>(2 * n * static_cast<uint64_t>(state.iterations()));
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int64_t sparse : {1, 0})
    for (int64_t n : {100000, 1000000, 10000000, 100000000}) b->Args({n, sparse});
  b->ArgNames({"results", "sparse"})->Unit(benchmark::kMillisecond)->Iterations(1);
}

BENCHMARK_TEMPLATE(BM_Dedup, Sharded)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_Dedup, FlatHashSet)->Apply(sizes);
// Roaring64Map needs ~85-170 bytes and ~2.8 us per sparse result (one array container per
// result): 10^8 of them would take ~10 minutes and ~8 GiB, so it stops at 10^7.
BENCHMARK_TEMPLATE(BM_Dedup, Roaring64)
    ->Args({100000, 1})
    ->Args({1000000, 1})
    ->Args({10000000, 1})
    ->Args({100000, 0})
    ->Args({1000000, 0})
    ->Args({10000000, 0})
    ->Args({100000000, 0})
    ->ArgNames({"results", "sparse"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
// The old paged bitmap needs ~14 KiB per sparse result: 10^6 of them already take 14 GiB.
BENCHMARK_TEMPLATE(BM_Dedup, PagedBitmap)
    ->Args({100000, 1})
    ->Args({100000, 0})
    ->Args({10000000, 0})
    ->ArgNames({"results", "sparse"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
