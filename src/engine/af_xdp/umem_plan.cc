#include "engine/af_xdp/umem_plan.h"

#include <algorithm>

namespace anyscan {

namespace {
uint32_t power_of_two_floor(uint64_t n) {
  uint32_t p = 1;
  while (uint64_t{p} * 2 <= n && p < (1u << 30)) p *= 2;
  return p;
}
}  // namespace

Result<UmemPlan> plan_umem(uint32_t rx_queues, uint32_t tx_queues, bool ipc_lock,
                           uint64_t memlock_bytes) {
  using L = UmemLimits;
  rx_queues = std::max(rx_queues, 1u);
  tx_queues = std::min(tx_queues, rx_queues);
  const uint64_t rings = uint64_t{rx_queues} + tx_queues;
  uint64_t budget = L::kTotalBudgetBytes;
  const uint64_t memlock_share = memlock_bytes == UINT64_MAX
                                     ? UINT64_MAX
                                     : memlock_bytes / L::kMemlockShareDen * L::kMemlockShareNum;
  if (!ipc_lock) budget = std::min(budget, memlock_share);
  const uint64_t fit = budget / (rings * L::kFrameBytes);
  if (fit < L::kMinFrames)
    return make_error(
        ExitCode::kUnavailable,
        "AF_XDP: " + std::to_string(rx_queues) + " receive queues need at least " +
            std::to_string(rings * L::kMinFrames * L::kFrameBytes / 1024) + " KiB of UMEM, but " +
            (ipc_lock ? "the budget is " + std::to_string(L::kTotalBudgetBytes / 1024) + " KiB"
                      : "without CAP_IPC_LOCK only " + std::to_string(memlock_share / 1024) +
                            " KiB (3/4 of RLIMIT_MEMLOCK " + std::to_string(memlock_bytes / 1024) +
                            " KiB) can be locked") +
            ": grant CAP_IPC_LOCK or raise LimitMEMLOCK=");
  // Wanted: kRxFramesTotal receive frames spread over the queues and kTxFrames per sender;
  // when that does not fit, receive frames shrink first (down to the transmit count), then
  // both, halving, so every ring stays a power of two.
  UmemPlan plan;
  plan.frame_bytes = L::kFrameBytes;
  plan.tx_frames = L::kTxFrames;
  plan.rx_frames = std::max(L::kTxFrames, power_of_two_floor(L::kRxFramesTotal / rx_queues));
  auto bytes = [&] {
    return (uint64_t{rx_queues} * plan.rx_frames + uint64_t{tx_queues} * plan.tx_frames) *
           L::kFrameBytes;
  };
  const uint64_t wanted = bytes();
  while (bytes() > budget) {
    if (plan.rx_frames > plan.tx_frames) {
      plan.rx_frames /= 2;
    } else {
      plan.rx_frames /= 2;
      plan.tx_frames /= 2;
    }
  }
  plan.total_bytes = bytes();
  plan.limited_by_memlock = !ipc_lock && memlock_share < std::min(wanted, L::kTotalBudgetBytes);
  return plan;
}

}  // namespace anyscan
