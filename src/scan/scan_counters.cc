#include "scan/scan_counters.h"

namespace anyscan {

ScanCounters::ScanCounters(size_t senders, size_t receivers) {
  for (size_t i = 0; i < senders; ++i) senders_.push_back(std::make_unique<SenderCounters>());
  for (size_t i = 0; i < receivers; ++i) receivers_.push_back(std::make_unique<ReceiverCounters>());
}

size_t ScanCounters::active_senders() const {
  size_t active = 0;
  for (const auto& c : senders_) active += !c->finished.load(std::memory_order_acquire);
  return active;
}

bool ScanCounters::all_senders_finished() const { return active_senders() == 0; }

bool ScanCounters::senders_use(uint32_t epoch) const {
  for (const auto& c : senders_)
    if (!c->finished.load(std::memory_order_acquire) &&
        c->exclusion_epoch.load(std::memory_order_acquire) < epoch)
      return false;
  return true;
}

Totals ScanCounters::totals(uint64_t targets_total) const {
  Totals s;
  s.targets_total = targets_total;
  for (const auto& c : senders_) {
    s.sent += c->sent.load(std::memory_order_relaxed);
    s.failed += c->failed.load(std::memory_order_relaxed);
    s.targets_done += c->targets_done.load(std::memory_order_relaxed);
    s.opted_out += c->opted_out.load(std::memory_order_relaxed);
  }
  for (const auto& c : receivers_) {
    s.received += c->received.load(std::memory_order_relaxed);
    s.validation_failed += c->validation_failed.load(std::memory_order_relaxed);
    s.unrelated += c->unrelated.load(std::memory_order_relaxed);
    s.results += c->results.load(std::memory_order_relaxed);
    s.duplicates += c->duplicates.load(std::memory_order_relaxed);
    s.success += c->success.load(std::memory_order_relaxed);
    s.filtered += c->filtered.load(std::memory_order_relaxed);
    s.other_shard += c->other_shard.load(std::memory_order_relaxed);
    s.withdrawn += c->withdrawn.load(std::memory_order_relaxed);
    s.invalid_fragment += c->invalid_fragment.load(std::memory_order_relaxed);
    s.invalid_header_chain += c->invalid_header_chain.load(std::memory_order_relaxed);
    s.results_ipv6 += c->results_ipv6.load(std::memory_order_relaxed);
    for (int k = 0; k < Totals::kClasses; ++k)
      s.*kResultsByClass[k] += c->results_by_class[k].load(std::memory_order_relaxed);
  }
  return s;
}

}  // namespace anyscan
