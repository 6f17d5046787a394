#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "scan/receiver.h"
#include "scan/sender.h"
#include "store/scan_totals.h"

namespace anyscan {

// Per-thread counters (each written by its thread only), read by the status reporter.
class ScanCounters {
 public:
  ScanCounters(size_t senders, size_t receivers);

  SenderCounters& sender(size_t index) { return *senders_[index]; }
  ReceiverCounters& receiver(size_t index) { return *receivers_[index]; }
  size_t active_senders() const;
  bool all_senders_finished() const;
  // Every sender still running builds its frames with Exclusions epoch `epoch` or newer.
  bool senders_use(uint32_t epoch) const;
  // Sums of the thread counters; the engine's loss counters are added by the caller.
  Totals totals(uint64_t targets_total) const;

 private:
  std::vector<std::unique_ptr<SenderCounters>> senders_;
  std::vector<std::unique_ptr<ReceiverCounters>> receivers_;
};

}  // namespace anyscan
