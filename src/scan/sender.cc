#include "scan/sender.h"

#include <sched.h>

#include <algorithm>
#include <array>
#include <tuple>

namespace anyscan {

Sender::Sender(const ScanPlan& plan, const IndexPermutation& permutation, WorkQueue& work,
               uint32_t probes, const ProbeModule& module, PacketSink& sink, RateLimiter& limiter,
               Clock& clock, const std::atomic<bool>& stop, SenderCounters& counters,
               const Exclusions* exclusions)
    : plan_(plan),
      permutation_(permutation),
      work_(work),
      probes_(probes),
      module_(module),
      sink_(sink),
      limiter_(limiter),
      clock_(clock),
      stop_(stop),
      counters_(counters),
      exclusions_(exclusions) {}

uint64_t Sender::target_index(uint64_t k, uint64_t end) {
  if (next_index_ == ready_) {
    const ShardSlice& slice = work_.slice();
    ready_ = static_cast<size_t>(std::min<uint64_t>(positions_.size(), end - k));
    for (size_t i = 0; i < ready_; ++i)
      positions_[i] = slice.first_position + (k + i) * slice.stride;
    permutation_.at_many(positions_.data(), indices_.data(), ready_);
    next_index_ = 0;
  }
  return indices_[next_index_++];
}

bool Sender::wait_for_slots(uint32_t n) {
  // In slices, so that a stop (-t, a signal) is seen within 10 ms even at a low rate; the
  // batch is then not sent (its targets stay pending for a resume).
  constexpr uint64_t kSliceNs = 10 * 1000 * 1000;
  const uint64_t due = limiter_.claim(n);
  for (uint64_t now = clock_.now_ns(); now + kSliceNs < due; now = clock_.now_ns()) {
    if (stop_.load(std::memory_order_relaxed)) return false;
    clock_.sleep_until_ns(now + kSliceNs);
  }
  if (stop_.load(std::memory_order_relaxed)) return false;
  clock_.sleep_until_ns(due);
  return true;
}

const AddressSet* Sender::newest_exclusions(uint64_t* targets) {
  if (exclusions_ == nullptr) return nullptr;
  // Live opt-out: the batch is built with the newest list (epoch first, then the set), and
  // saying so here is what lets a reload be logged as in effect: every frame submitted from
  // now on was checked against it. The rest of a target cut by the last batch included.
  const uint32_t epoch = exclusions_->epoch();
  const AddressSet* excluded = exclusions_->current();
  counters_.exclusion_epoch.store(epoch, std::memory_order_release);
  if (excluded != nullptr && probe_ != 0 && excluded->contains(current_.daddr)) {
    probe_ = 0;
    ++k_;
    ++*targets;
  }
  return excluded;
}

uint32_t Sender::fill_batch(std::span<ProbeTarget> batch, uint64_t* targets) {
  const uint64_t port_count = plan_.ports.size();
  const bool skips = plan_.has_skips();
  const AddressSet* excluded = newest_exclusions(targets);
  uint32_t n = 0;
  while (n < batch.size()) {
    if (probe_ == 0) {
      if (k_ == end_) {
        std::tie(k_, end_) = work_.claim(counters_);
        if (k_ == end_) break;
        next_index_ = ready_ = 0;
      }
      const uint64_t index = target_index(k_, end_);
      const uint64_t address_index = index / port_count;
      if (skips && plan_.skipped(address_index)) {  // a detected alias beyond the limit
        ++k_;
        ++*targets;
        continue;
      }
      const IpAddress address = plan_.target_address(address_index);
      if (excluded != nullptr && excluded->contains(address)) {
        ++k_;
        ++*targets;
        ++opted_out_;
        continue;
      }
      current_ = ProbeTarget{
          address, plan_.ports.at(static_cast<size_t>(index - address_index * port_count)), 0};
    }
    batch[n] = current_;
    batch[n++].probe_number = static_cast<uint16_t>(probe_);
    if (++probe_ == probes_) {
      probe_ = 0;
      ++k_;
      ++*targets;
    }
  }
  return n;
}

Result<void> Sender::send_batch(const ProbeTarget* batch, uint32_t n, uint64_t* sent,
                                uint64_t* failed) {
  uint32_t done = 0;
  while (done < n) {
    std::span<FrameSlot> slots = sink_.reserve(n - done);
    if (slots.empty()) {
      if (stop_.load(std::memory_order_relaxed)) break;
      ::sched_yield();
      continue;
    }
    module_.build(batch + done, slots.size(), slots.data());
    auto report = sink_.submit(slots.size());
    if (!report) return tl::unexpected(report.error());
    *sent += report->sent;
    *failed += report->failed;
    done += static_cast<uint32_t>(slots.size());
  }
  return {};
}

Result<void> Sender::run() {
  std::array<ProbeTarget, kMaxBatch> batch;
  const uint32_t batch_frames = limiter_.batch_size(kMaxBatch);
  uint64_t sent = 0, failed = 0;

  while (!stop_.load(std::memory_order_relaxed)) {
    uint64_t targets_in_batch = 0;
    const uint32_t n = fill_batch(std::span(batch).first(batch_frames), &targets_in_batch);
    if (n == 0) {  // nothing left to claim: what the last targets came to still counts
      counters_.targets_done.fetch_add(targets_in_batch, std::memory_order_relaxed);
      counters_.opted_out.store(opted_out_, std::memory_order_relaxed);
      counters_.pending_from.store(UINT64_MAX, std::memory_order_relaxed);
      break;
    }
    if (!limiter_.unlimited() && !wait_for_slots(n)) break;
    if (auto sent_batch = send_batch(batch.data(), n, &sent, &failed); !sent_batch) {
      counters_.finished.store(true, std::memory_order_release);
      return sent_batch;
    }
    counters_.sent.store(sent, std::memory_order_relaxed);
    counters_.failed.store(failed, std::memory_order_relaxed);
    counters_.targets_done.fetch_add(targets_in_batch, std::memory_order_relaxed);
    counters_.opted_out.store(opted_out_, std::memory_order_relaxed);
    // What is left of the chunk (target k, maybe partly probed) is still pending.
    counters_.pending_from.store(k_ < end_ || probe_ != 0 ? k_ : UINT64_MAX,
                                 std::memory_order_relaxed);
  }
  // Frames still queued in a ring are not sent yet: wait for them before reporting done.
  auto flushed = sink_.flush(kFlushTimeoutMs);
  if (!flushed) {
    counters_.finished.store(true, std::memory_order_release);
    return tl::unexpected(flushed.error());
  }
  counters_.failed.store(failed + flushed->failed, std::memory_order_relaxed);
  counters_.sent.store(sent - flushed->failed, std::memory_order_relaxed);
  counters_.finished.store(true, std::memory_order_release);
  return {};
}

}  // namespace anyscan
