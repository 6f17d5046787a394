#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace anyscan {

// How the AF_XDP engine lays out its memory: one UMEM per receive queue, each holding
// rx_frames receive frames (all handed to the fill ring), and for the queues that also
// transmit, tx_frames more. Every queue of the interface gets a socket (receiving is per
// interface, whatever RSS does), so when memory is short every queue gets fewer frames;
// never are queues left out.
struct UmemPlan {
  uint32_t frame_bytes = 0;
  uint32_t rx_frames = 0;  // per queue, a power of two
  uint32_t tx_frames = 0;  // per transmitting queue, a power of two
  uint64_t total_bytes = 0;
  bool limited_by_memlock = false;  // smaller than wanted because of RLIMIT_MEMLOCK

  uint64_t queue_bytes(bool transmits) const {
    return uint64_t{frame_bytes} * (rx_frames + (transmits ? tx_frames : 0));
  }
};

struct UmemLimits {
  static constexpr uint32_t kFrameBytes = 2048;
  // Receive frames for all queues together: what the kernel can place while the receiver
  // threads are not running. When every probe is answered at the top rate (~500k replies/s
  // on the test machine), a receiver can be kept off its CPU for 5-9 ms at a time by the
  // softirq work of the send path (measured; see README, "Reply storms"); 16384 frames are
  // 33 ms of that. Split between the queues, at least kTxFrames each.
  static constexpr uint32_t kRxFramesTotal = 16384;
  static constexpr uint32_t kTxFrames = 2048;  // per sending queue: a few send batches
  static constexpr uint32_t kMinFrames = 64;   // below this a queue drops bursts
  // All UMEMs together: a 32-queue interface fits in this (2 sending queues: 34 MiB).
  static constexpr uint64_t kTotalBudgetBytes = uint64_t{64} << 20;
  // Without CAP_IPC_LOCK the UMEMs are charged to RLIMIT_MEMLOCK, which also pays for the
  // rings and the kernel's own pinning: a quarter of it stays free.
  static constexpr uint64_t kMemlockShareNum = 3, kMemlockShareDen = 4;
};

// Pure: frames per ring for `rx_queues` receiving queues of which `tx_queues` also send.
// Without ipc_lock the total must fit memlock_bytes (UINT64_MAX = unlimited); when even
// kMinFrames per ring does not fit, the error (kUnavailable) gives the numbers.
Result<UmemPlan> plan_umem(uint32_t rx_queues, uint32_t tx_queues, bool ipc_lock,
                           uint64_t memlock_bytes);

}  // namespace anyscan
