#include "engine/af_packet/af_packet_sink.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/frame_layout.h"

namespace anyscan {

Result<std::unique_ptr<AfPacketSink>> AfPacketSink::open(int ifindex, const std::string& interface,
                                                         uint32_t retries, size_t frame_bytes,
                                                         bool ip_layer) {
  UniqueFd fd(::socket(AF_PACKET, (ip_layer ? SOCK_DGRAM : SOCK_RAW) | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    const int err = errno;
    const ExitCode code =
        (err == EPERM || err == EACCES) ? ExitCode::kNoPerm : ExitCode::kUnavailable;
    return make_error(code, errno_message("creating AF_PACKET send socket", err) +
                                (code == ExitCode::kNoPerm ? " (needs CAP_NET_RAW)" : ""));
  }
  const int one = 1;
  if (::setsockopt(fd.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0)
    return make_error(ExitCode::kUnavailable,
                      errno_message("PACKET_QDISC_BYPASS on " + interface, errno));
  // Bound with protocol 0: sends need no per-message address (less to copy per frame in
  // sendmmsg), and the socket is still registered for no protocol, so it receives nothing.
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = 0;
  address.sll_ifindex = ifindex;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return make_error(ExitCode::kUnavailable,
                      errno_message("binding send socket to " + interface, errno));
  return std::unique_ptr<AfPacketSink>(
      new AfPacketSink(std::move(fd), interface, ifindex, retries, frame_bytes, ip_layer));
}

AfPacketSink::AfPacketSink(UniqueFd fd, std::string interface, int ifindex, uint32_t retries,
                           size_t frame_bytes, bool ip_layer)
    : fd_(std::move(fd)),
      interface_(std::move(interface)),
      retries_(retries),
      frame_capacity_((std::max<size_t>(frame_bytes, 64) + 63) / 64 * 64),
      buffers_(kBatch * frame_capacity_),
      slots_(kBatch),
      iovecs_(kBatch),
      messages_(kBatch),
      ifindex_(ifindex),
      ip_layer_(ip_layer),
      addresses_(ip_layer ? kBatch : 0) {
  for (size_t i = 0; i < kBatch; ++i) {
    slots_[i] = FrameSlot{buffers_.data() + i * frame_capacity_, 0};
    std::memset(&messages_[i], 0, sizeof messages_[i]);
    messages_[i].msg_hdr.msg_iov = &iovecs_[i];
    messages_[i].msg_hdr.msg_iovlen = 1;
    if (ip_layer_) {
      messages_[i].msg_hdr.msg_name = &addresses_[i];
      messages_[i].msg_hdr.msg_namelen = sizeof addresses_[i];
    }
  }
}

std::span<FrameSlot> AfPacketSink::reserve(size_t max_frames) {
  return std::span<FrameSlot>(slots_.data(), std::min(max_frames, kBatch));
}

Result<SendReport> AfPacketSink::submit(size_t count) {
  SendReport report;
  if (ip_layer_) {
    for (size_t i = 0; i < count; ++i) {
      const uint8_t* f = slots_[i].data;
      sockaddr_ll& a = addresses_[i];
      a = sockaddr_ll{};
      a.sll_family = AF_PACKET;
      std::memcpy(&a.sll_protocol, f + frame::kEthType, 2);  // both in network order
      a.sll_ifindex = ifindex_;
      a.sll_halen = 6;
      std::memcpy(a.sll_addr, f + frame::kEthDst, 6);
      iovecs_[i].iov_base = slots_[i].data + frame::kEthHeaderBytes;
      iovecs_[i].iov_len = slots_[i].length - frame::kEthHeaderBytes;
    }
  } else {
    for (size_t i = 0; i < count; ++i) {
      iovecs_[i].iov_base = slots_[i].data;
      iovecs_[i].iov_len = slots_[i].length;
    }
  }
  size_t done = 0;
  uint32_t failures = 0;
  while (done < count) {
    const int sent =
        ::sendmmsg(fd_.get(), messages_.data() + done, static_cast<unsigned>(count - done), 0);
    if (sent > 0) {
      done += static_cast<size_t>(sent);
      report.sent += static_cast<size_t>(sent);
      continue;
    }
    const int err = errno;
    if (err == ENETDOWN || err == ENXIO || err == ENODEV || err == EPERM || err == EACCES)
      return make_error(ExitCode::kUnavailable, errno_message("sending on " + interface_, err));
    if (err != EINTR && ++failures > retries_) {
      // Give up on the frame at the head of the batch only; the rest get their own tries.
      ++report.failed;
      ++done;
      failures = 0;
    }
  }
  return report;
}

}  // namespace anyscan
