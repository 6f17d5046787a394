#include "scan/receiver.h"

#include <sys/time.h>

#include <array>

namespace anyscan {

Receiver::Receiver(const ScanPlan& plan, const ProbeModule& module, PacketSource& source,
                   ResultCollector& collector, ReceiverCounters& counters)
    : plan_(plan), module_(module), source_(source), collector_(collector), counters_(counters) {}

Result<void> Receiver::handle(const FrameView* frames, size_t count) {
  std::array<ReplyVerdict, kBatch> verdicts;
  std::array<Reply, kBatch> replies;
  module_.classify(frames, count, verdicts.data(), replies.data());
  timeval now{};
  ::gettimeofday(&now, nullptr);
  uint64_t invalid = 0, unrelated = 0, results = 0, duplicates = 0, success = 0;
  std::lock_guard<std::mutex> lock(collector_.mutex);
  for (size_t i = 0; i < count; ++i) {
    if (verdicts[i] == ReplyVerdict::kUnrelated) { ++unrelated; continue; }
    if (verdicts[i] == ReplyVerdict::kInvalid) { ++invalid; continue; }
    const Reply& reply = replies[i];
    // A valid cookie for an address or port outside the plan cannot answer our probe.
    const auto address_index = plan_.addresses.index_of(reply.saddr);
    const int32_t port_index = module_.uses_ports() ? plan_.ports.index_of(reply.sport) : 0;
    if (!address_index || port_index < 0) { ++invalid; continue; }
    const uint64_t target_index = *address_index * plan_.ports.size() + static_cast<uint64_t>(port_index);
    if (!collector_.dedup.insert(target_index, static_cast<uint32_t>(reply.classification))) {
      ++duplicates;
      continue;
    }
    if (collector_.limit_reached.load(std::memory_order_relaxed)) continue;
    if (collector_.sink != nullptr) {
      // The kernel's receive time when the engine has it, else this batch's.
      const int64_t received_ns = frames[i].received_ns;
      const ResultRecord record =
          received_ns > 0 ? ResultRecord{reply, received_ns / 1000000000, static_cast<int32_t>(received_ns % 1000000000 / 1000)}
                          : ResultRecord{reply, now.tv_sec, static_cast<int32_t>(now.tv_usec)};
      auto written = collector_.sink->write(record);
      if (!written) return written;
    }
    ++results;
    success += classification_success(reply.classification);
    if (collector_.max_results != 0 &&
        counters_.results.load(std::memory_order_relaxed) + results >= collector_.max_results)
      collector_.limit_reached.store(true, std::memory_order_relaxed);
  }
  counters_.received.fetch_add(count, std::memory_order_relaxed);
  counters_.validation_failed.fetch_add(invalid, std::memory_order_relaxed);
  counters_.unrelated.fetch_add(unrelated, std::memory_order_relaxed);
  counters_.results.fetch_add(results, std::memory_order_relaxed);
  counters_.duplicates.fetch_add(duplicates, std::memory_order_relaxed);
  counters_.success.fetch_add(success, std::memory_order_relaxed);
  return {};
}

Result<void> Receiver::run(const std::atomic<bool>& finish) {
  std::array<FrameView, kBatch> frames;
  bool draining = false;
  while (true) {
    if (!draining && finish.load(std::memory_order_acquire)) draining = true;
    auto n = source_.receive(frames, draining ? 0 : 50);
    if (!n) return tl::unexpected(n.error());
    if (*n > 0) {
      auto handled = handle(frames.data(), *n);
      source_.release();
      if (!handled) return handled;
    } else {
      source_.release();
      if (draining) return {};
    }
  }
}

}  // namespace anyscan
