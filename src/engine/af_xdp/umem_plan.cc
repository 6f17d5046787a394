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
  UmemPlan plan;
  plan.frame_bytes = L::kFrameBytes;
  plan.rx_frames = plan.tx_frames = std::min(L::kMaxFrames, power_of_two_floor(fit));
  plan.total_bytes = rings * plan.rx_frames * L::kFrameBytes;
  plan.limited_by_memlock = plan.rx_frames < L::kMaxFrames && !ipc_lock &&
                            rings * L::kMaxFrames * L::kFrameBytes > memlock_share &&
                            memlock_share < L::kTotalBudgetBytes;
  return plan;
}

}  // namespace anyscan
