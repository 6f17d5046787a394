#pragma once

#include <absl/container/flat_hash_set.h>

#include <array>
#include <cstdint>

namespace anyscan {

// Exact duplicate filter over (target index, classification), in memory proportional to
// the distinct results (about 10-20 bytes each, 15 at 10^7), whatever the size of the
// target space. Keys are spread by a keyed bijective mix, so the set stores the mixed
// value itself; the top bits pick one of 16384 open-addressing tables (Abseil's
// flat_hash_set), so a table that grows rehashes 1/16384 of the results, not all of them:
// the receiver never stalls for a whole-set rehash (at 10^8 results the longest insert
// measured 3 ms; with 4096 tables, 15 ms, mostly the kernel mapping the larger tables).
// bench/micro/dedup_bench.cc compares this with one flat_hash_set, CRoaring's Roaring64Map and the
// former paged bitmap. Single-threaded (callers lock).
class ResultDedup {
 public:
  static constexpr unsigned kShardBits = 14;

  // `classes`: classifications per target; `key`: the scan's secret, so no reply can pick
  // which table its result lands in.
  ResultDedup(uint32_t classes, uint64_t key) : classes_(classes), key_(key) {}

  // True the first time (index, class) is seen.
  bool insert(uint64_t target_index, uint32_t classification);
  // Room for `results` without growing (a run that expects that many).
  void reserve(uint64_t results);
  uint64_t size() const { return size_; }
  // Heap bytes the tables hold (slots and control bytes), for the metadata.
  uint64_t memory_bytes() const;

 private:
  // The mixed value is its own hash: already uniform, and flat_hash_set takes its slot
  // from bits 7 and up and its 7-bit tag from the bottom, independent of the shard bits.
  struct Identity {
    size_t operator()(uint64_t mixed) const { return mixed; }
  };
  using Table = absl::flat_hash_set<uint64_t, Identity>;

  uint32_t classes_;
  uint64_t key_;
  uint64_t size_ = 0;
  std::array<Table, size_t{1} << kShardBits> shards_;
};

}  // namespace anyscan
