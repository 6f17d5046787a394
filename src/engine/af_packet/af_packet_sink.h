#pragma once

#include <linux/if_packet.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "engine/packet_sink.h"

namespace anyscan {

// Transmit queue on a packet socket: frames are built in a batch of buffers and handed to
// the kernel with one sendmmsg() (measured: a PACKET_TX_RING sender was 10% slower on veth),
// bypassing the qdisc (PACKET_QDISC_BYPASS). The socket has protocol 0, so it never
// receives anything. Cooked (`ip_layer`): a SOCK_DGRAM socket is handed each frame's IP
// packet with its Ethernet header turned into the message's address (EtherType as the
// protocol, destination MAC as the link address), and the kernel writes the interface's own
// link header: none on WireGuard, tun or ipip.
class AfPacketSink final : public PacketSink {
 public:
  static constexpr size_t kBatch = 64;
  // Each slot holds `frame_bytes` (the probe module's largest frame), rounded up to a cache
  // line.
  static Result<std::unique_ptr<AfPacketSink>> open(int ifindex, const std::string& interface,
                                                    uint32_t retries, size_t frame_bytes,
                                                    bool ip_layer = false);

  std::span<FrameSlot> reserve(size_t max_frames) override;
  Result<SendReport> submit(size_t count) override;
  size_t frame_capacity() const override { return frame_capacity_; }

 private:
  AfPacketSink(UniqueFd fd, std::string interface, int ifindex, uint32_t retries,
               size_t frame_bytes, bool ip_layer);

  UniqueFd fd_;
  std::string interface_;
  uint32_t retries_;
  size_t frame_capacity_;
  std::vector<uint8_t> buffers_;
  std::vector<FrameSlot> slots_;
  std::vector<iovec> iovecs_;
  std::vector<mmsghdr> messages_;
  int ifindex_;
  bool ip_layer_;
  std::vector<sockaddr_ll> addresses_;  // cooked: one per message
};

}  // namespace anyscan
