#include "scan/receiver.h"

#include <sys/time.h>

#include <array>

namespace anyscan {

Receiver::Receiver(const ScanPlan& plan, const ProbeModule& module,
                   std::vector<PacketSource*> sources, ResultCollector& collector,
                   ReceiverCounters& counters)
    : plan_(plan),
      module_(module),
      sources_(std::move(sources)),
      collector_(collector),
      counters_(counters) {}

void Receiver::add_counts(uint64_t frames, const BatchCounts& b) {
  counters_.received.fetch_add(frames, std::memory_order_relaxed);
  counters_.validation_failed.fetch_add(b.invalid, std::memory_order_relaxed);
  counters_.unrelated.fetch_add(b.unrelated, std::memory_order_relaxed);
  counters_.results.fetch_add(b.results, std::memory_order_relaxed);
  counters_.duplicates.fetch_add(b.duplicates, std::memory_order_relaxed);
  counters_.success.fetch_add(b.success, std::memory_order_relaxed);
  counters_.filtered.fetch_add(b.filtered, std::memory_order_relaxed);
  counters_.other_shard.fetch_add(b.other_shard, std::memory_order_relaxed);
  counters_.withdrawn.fetch_add(b.withdrawn, std::memory_order_relaxed);
  counters_.invalid_fragment.fetch_add(
      b.invalid_by_reason[static_cast<size_t>(InvalidReason::kNonFirstFragment)],
      std::memory_order_relaxed);
  counters_.invalid_header_chain.fetch_add(
      b.invalid_by_reason[static_cast<size_t>(InvalidReason::kHeaderChain)],
      std::memory_order_relaxed);
  counters_.results_ipv6.fetch_add(b.results_ipv6, std::memory_order_relaxed);
  for (int c = 0; c < Totals::kClasses; ++c)
    if (b.by_class[c] != 0)
      counters_.results_by_class[c].fetch_add(b.by_class[c], std::memory_order_relaxed);
}

Result<void> Receiver::handle(const FrameView* frames, size_t count) {
  std::array<ReplyVerdict, kBatch> verdicts;
  std::array<Reply, kBatch> replies;
  module_.classify(frames, count, verdicts.data(), replies.data());
  timeval now{};
  ::gettimeofday(&now, nullptr);
  BatchCounts b;
  static_assert(Totals::kClasses == kClassificationCount);
  const bool cooldown = collector_.cooldown.load(std::memory_order_relaxed);
  const AddressSet* excluded =
      collector_.exclusions != nullptr ? collector_.exclusions->current() : nullptr;
  std::lock_guard<std::mutex> lock(collector_.mutex);
  for (size_t i = 0; i < count; ++i) {
    if (verdicts[i] == ReplyVerdict::kUnrelated) {
      ++b.unrelated;
      continue;
    }
    if (verdicts[i] == ReplyVerdict::kInvalid) {
      ++b.invalid;
      ++b.invalid_by_reason[static_cast<size_t>(replies[i].invalid_reason) % kInvalidReasonCount];
      continue;
    }
    const Reply& reply = replies[i];
    // A valid cookie for an address or port outside the plan cannot answer our probe.
    const auto target_index = plan_.target_index_of(reply.saddr, reply.sport);
    if (!target_index) {
      ++b.invalid;
      continue;
    }
    if (collector_.permutation != nullptr &&
        !collector_.slice.contains(collector_.permutation->position_of(*target_index))) {
      ++b.other_shard;
      continue;
    }
    if (!collector_.dedup.insert(*target_index, static_cast<uint32_t>(reply.classification))) {
      ++b.duplicates;
      continue;
    }
    if (excluded != nullptr && excluded->contains(reply.saddr)) {
      ++b.withdrawn;  // new and valid, but opted out: counted once, never written
      continue;
    }
    if (collector_.limit_reached.load(std::memory_order_relaxed)) continue;
    // The kernel's receive time when the engine has it, else this batch's.
    const int64_t received_ns = frames[i].received_ns;
    ResultRecord record;
    record.reply = reply;
    record.time_s = received_ns > 0 ? received_ns / 1000000000 : now.tv_sec;
    record.time_us = received_ns > 0 ? static_cast<int32_t>(received_ns % 1000000000 / 1000)
                                     : static_cast<int32_t>(now.tv_usec);
    record.cooldown = cooldown;
    record.aliased = plan_.is_aliased(reply.saddr);
    const bool counts = collector_.filter != nullptr ? collector_.filter->matches(record)
                                                     : classification_success(reply.classification);
    if (collector_.filter != nullptr && !counts) {
      ++b.filtered;
      continue;
    }
    if (collector_.sink != nullptr) {
      auto written = collector_.sink->write(record);
      if (!written) return written;
    }
    ++b.results;
    b.results_ipv6 += !reply.saddr.is_ipv4();
    ++b.by_class[static_cast<size_t>(reply.classification) % Totals::kClasses];
    b.success += classification_success(reply.classification);
    if (counts && collector_.max_results != 0 && ++collector_.counted >= collector_.max_results)
      collector_.limit_reached.store(true, std::memory_order_relaxed);
  }
  add_counts(count, b);
  return {};
}

Result<size_t> Receiver::serve(PacketSource& source, std::span<FrameView> frames, int timeout_ms) {
  auto n = source.receive(frames, timeout_ms);
  if (!n) return n;
  auto handled = *n > 0 ? handle(frames.data(), *n) : Result<void>{};
  source.release();
  if (!handled) return tl::unexpected(handled.error());
  return n;
}

Result<void> Receiver::run(const std::atomic<bool>& finish) {
  std::array<FrameView, kBatch> frames;
  bool draining = false;
  const bool single = sources_.size() == 1;
  while (true) {
    if (!draining && finish.load(std::memory_order_acquire)) draining = true;
    size_t got = 0;
    for (PacketSource* source : sources_) {
      auto n = serve(*source, frames, draining || !single ? 0 : kWaitMs);
      if (!n) return tl::unexpected(n.error());
      got += *n;
    }
    if (got > 0) continue;
    if (draining) return {};
    if (!single) {
      auto n = serve(*sources_.front(), frames, kIdleWaitMs);
      if (!n) return tl::unexpected(n.error());
    }
  }
}

}  // namespace anyscan
