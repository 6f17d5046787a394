#include "engine/af_packet/af_packet_source.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "engine/af_packet/reply_bpf_filter.h"
#include "net/frame_layout.h"

namespace anyscan {

Result<std::unique_ptr<AfPacketSource>> AfPacketSource::open(int ifindex,
                                                             const std::string& interface,
                                                             const ReplyFilterSpec& filter,
                                                             bool ip_layer) {
  // Protocol 0 at socket(): nothing is queued before the filter and ring are in place and
  // bind() names the protocol.
  UniqueFd fd(::socket(AF_PACKET, (ip_layer ? SOCK_DGRAM : SOCK_RAW) | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    const int err = errno;
    const ExitCode code =
        (err == EPERM || err == EACCES) ? ExitCode::kNoPerm : ExitCode::kUnavailable;
    return make_error(code, errno_message("creating AF_PACKET receive socket", err) +
                                (code == ExitCode::kNoPerm ? " (needs CAP_NET_RAW)" : ""));
  }
  auto program = reply_bpf_filter(filter, kSnapBytes, ip_layer);
  sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0)
    return make_error(ExitCode::kUnavailable,
                      errno_message("attaching reply filter on " + interface, errno));
  const int version = TPACKET_V3;
  if (::setsockopt(fd.get(), SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0)
    return make_error(ExitCode::kUnavailable, errno_message("TPACKET_V3 on " + interface, errno));
  const int one = 1;
  if (::setsockopt(fd.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0)
    return make_error(ExitCode::kUnavailable,
                      errno_message("PACKET_IGNORE_OUTGOING on " + interface, errno));
  tpacket_req3 request{};
  request.tp_block_size = kBlockBytes;
  request.tp_block_nr = kBlockCount;
  request.tp_frame_size = kFrameBytes;
  request.tp_frame_nr = kBlockBytes / kFrameBytes * kBlockCount;
  request.tp_retire_blk_tov = kBlockTimeoutMs;
  if (::setsockopt(fd.get(), SOL_PACKET, PACKET_RX_RING, &request, sizeof request) != 0)
    return make_error(ExitCode::kUnavailable,
                      errno_message("PACKET_RX_RING on " + interface, errno));
  const size_t ring_bytes = size_t{kBlockBytes} * kBlockCount;
  void* ring =
      ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd.get(), 0);
  if (ring == MAP_FAILED)  // MAP_LOCKED can exceed RLIMIT_MEMLOCK: it only avoids page faults
    ring = ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (ring == MAP_FAILED)
    return make_error(ExitCode::kUnavailable,
                      errno_message("mapping receive ring on " + interface, errno));
  MappedMemory mapping(ring, ring_bytes);
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  // One family: its EtherType, so the kernel hands the socket nothing else. Both: every
  // protocol, and the filter keeps IPv4 and IPv6 replies (outgoing frames are ignored).
  address.sll_protocol =
      htons(filter.has_ipv6 ? (filter.has_ipv4 ? ETH_P_ALL : ETH_P_IPV6) : ETH_P_IP);
  address.sll_ifindex = ifindex;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return make_error(ExitCode::kUnavailable,
                      errno_message("binding receive socket to " + interface, errno));
  return std::unique_ptr<AfPacketSource>(
      new AfPacketSource(std::move(fd), std::move(mapping), ip_layer));
}

AfPacketSource::AfPacketSource(UniqueFd fd, MappedMemory ring, bool ip_layer)
    : fd_(std::move(fd)), ring_(std::move(ring)), ip_layer_(ip_layer) {}

namespace {
tpacket_block_desc* descriptor(uint8_t* block) {
  return reinterpret_cast<tpacket_block_desc*>(block);
}
uint32_t block_status(uint8_t* block) {
  return __atomic_load_n(&descriptor(block)->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
}
}  // namespace

Result<size_t> AfPacketSource::receive(std::span<FrameView> out, int timeout_ms) {
  if (block_done_) release();
  if (!block_open_) {
    if ((block_status(block(current_block_)) & TP_STATUS_USER) == 0) {
      pollfd p{fd_.get(), POLLIN | POLLERR, 0};
      const int ready = ::poll(&p, 1, timeout_ms);
      if (ready < 0 && errno != EINTR)
        return make_error(ExitCode::kUnavailable, errno_message("poll on receive socket", errno));
      if ((block_status(block(current_block_)) & TP_STATUS_USER) == 0) return 0;
    }
    tpacket_block_desc* desc = descriptor(block(current_block_));
    block_open_ = true;
    block_done_ = false;
    packets_left_ = desc->hdr.bh1.num_pkts;
    next_packet_ = block(current_block_) + desc->hdr.bh1.offset_to_first_pkt;
  }
  size_t n = 0;
  while (n < out.size() && packets_left_ > 0) {
    auto* header = reinterpret_cast<tpacket3_hdr*>(next_packet_);
    const int64_t ns = int64_t{header->tp_sec} * 1000000000 + header->tp_nsec;
    if (ip_layer_) {
      uint8_t* ip = next_packet_ + header->tp_net;
      uint8_t* f = ip - frame::kEthHeaderBytes;  // inside the kernel's 16 spare bytes
      std::memset(f, 0, frame::kEthType);
      const uint8_t version = header->tp_snaplen > 0 ? ip[0] >> 4 : 0;
      store_be16(f + frame::kEthType, version == 4   ? frame::kEthTypeIpv4
                                      : version == 6 ? frame::kEthTypeIpv6
                                                     : 0);
      out[n++] = FrameView{f, header->tp_snaplen + uint32_t{frame::kEthHeaderBytes}, ns};
    } else {
      out[n++] = FrameView{next_packet_ + header->tp_mac, header->tp_snaplen, ns};
    }
    next_packet_ += header->tp_next_offset;
    --packets_left_;
  }
  received_.add(n);
  if (packets_left_ == 0) block_done_ = true;
  return n;
}

void AfPacketSource::release() {
  if (!block_open_ || !block_done_) return;
  __atomic_store_n(&descriptor(block(current_block_))->hdr.bh1.block_status, TP_STATUS_KERNEL,
                   __ATOMIC_RELEASE);
  current_block_ = (current_block_ + 1) % kBlockCount;
  block_open_ = false;
  block_done_ = false;
}

SourceStats AfPacketSource::stats() {
  tpacket_stats_v3 kernel{};
  socklen_t length = sizeof kernel;
  // Reading resets the kernel's counters, so they are accumulated here.
  if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &kernel, &length) == 0)
    dropped_.fetch_add(kernel.tp_drops, std::memory_order_relaxed);
  return SourceStats{received_.get(), dropped_.load(std::memory_order_relaxed)};
}

}  // namespace anyscan
