#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <atomic>

#include "base/mapped_memory.h"
#include "base/relaxed_counter.h"
#include "base/unique_fd.h"
#include "engine/packet_source.h"
#include "net/reply_filter_spec.h"

namespace anyscan {

// Receive queue on a packet socket with a TPACKET_V3 ring: the kernel filters with a
// classic BPF program (only candidate replies are copied), skips our own outgoing frames
// (PACKET_IGNORE_OUTGOING), and fills whole blocks that we walk without a syscall.
// Cooked (`ip_layer`): a SOCK_DGRAM socket, whose packets start at the IP header; each is
// handed over behind a synthetic Ethernet header written into the 16 bytes the kernel
// leaves before it (tpacket_rcv: netoff = TPACKET_ALIGN(tp_hdrlen) + 16 on a SOCK_DGRAM
// socket), zero MACs and its IP version's EtherType, so one frame parser serves both.
class AfPacketSource final : public PacketSource {
 public:
  // 16 MiB in 256 KiB blocks: the kernel allocates each block as one high-order page, and
  // order-8 (1 MiB) blocks took 28 ms of compaction at start-up where order-6 take 1 ms
  // (bench/README.md, start-up).
  static constexpr uint32_t kBlockBytes = 1u << 18;
  static constexpr uint32_t kBlockCount = 64;
  static constexpr uint32_t kFrameBytes = 2048;
  static constexpr uint32_t kSnapBytes = 256;
  static constexpr uint32_t kBlockTimeoutMs = 10;

  static Result<std::unique_ptr<AfPacketSource>> open(int ifindex, const std::string& interface,
                                                      const ReplyFilterSpec& filter,
                                                      bool ip_layer = false);

  Result<size_t> receive(std::span<FrameView> out, int timeout_ms) override;
  void release() override;
  SourceStats stats() override;

 private:
  AfPacketSource(UniqueFd fd, MappedMemory ring, bool ip_layer);
  uint8_t* block(uint32_t index) const {
    return static_cast<uint8_t*>(ring_.get()) + size_t{index} * kBlockBytes;
  }

  UniqueFd fd_;
  MappedMemory ring_;
  uint32_t current_block_ = 0;
  uint32_t packets_left_ = 0;  // in the current block, not yet handed out
  uint8_t* next_packet_ = nullptr;
  bool ip_layer_;
  bool block_open_ = false;           // current block is ours (TP_STATUS_USER)
  bool block_done_ = false;           // ...and every packet in it was handed out
  RelaxedCounter received_;           // written by the receiver thread only
  std::atomic<uint64_t> dropped_{0};  // the kernel's drop counts, summed (reading resets them)
};

}  // namespace anyscan
