#include "engine/af_xdp/xsk_queue.h"

#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

namespace anyscan {
namespace {

constexpr uint32_t kBatch = 64;
constexpr int kRxIdleSleepUs = 500;
constexpr int kBusyRetries = 50;
constexpr int kBusyRetryUs = 20000;

bool transient_send_error(int err) {
  return err == EAGAIN || err == EBUSY || err == ENOBUFS || err == EINTR;
}

}  // namespace

class XskQueue::Rings {
 public:
  xsk_ring_prod fill{};
  xsk_ring_cons completion{};
  xsk_ring_cons rx{};
  xsk_ring_prod tx{};
};

void XskQueue::UmemDeleter::operator()(xsk_umem* umem) const { xsk_umem__delete(umem); }
void XskQueue::SocketDeleter::operator()(xsk_socket* socket) const { xsk_socket__delete(socket); }

int XskQueue::fd() const { return xsk_socket__fd(socket_.get()); }
uint8_t* XskQueue::frame(uint64_t address) const {
  return static_cast<uint8_t*>(xsk_umem__get_data(area_.get(), address));
}

// Transmit side: frames [rx_frames, rx_frames + tx_frames) of the UMEM carry probes.
class XskQueue::Sink final : public PacketSink {
 public:
  explicit Sink(XskQueue& q) : q_(q), rings_(*q.rings_), slots_(kBatch) {
    for (uint32_t i = 0; i < q.tx_frames_; ++i)
      free_.push_back(uint64_t{q.rx_frames_ + i} * q.frame_bytes_);
  }

  std::span<FrameSlot> reserve(size_t max_frames) override {
    reclaim();
    const uint32_t want =
        static_cast<uint32_t>(std::min<size_t>({max_frames, kBatch, free_.size()}));
    if (want == 0 || xsk_ring_prod__reserve(&rings_.tx, want, &tx_index_) != want) {
      if (want != 0) q_.counters_.tx_ring_full.add(1);
      (void)kick();
      return {};
    }
    for (uint32_t i = 0; i < want; ++i) {
      const uint64_t address = free_.back();
      free_.pop_back();
      xsk_ring_prod__tx_desc(&rings_.tx, tx_index_ + i)->addr = address;
      slots_[i] = FrameSlot{q_.frame(address), 0};
    }
    reserved_ = want;
    return std::span<FrameSlot>(slots_.data(), want);
  }

  Result<SendReport> submit(size_t count) override {
    for (size_t i = 0; i < count; ++i)
      xsk_ring_prod__tx_desc(&rings_.tx, tx_index_ + static_cast<uint32_t>(i))->len =
          slots_[i].length;
    for (size_t i = count; i < reserved_; ++i)
      free_.push_back(
          xsk_ring_prod__tx_desc(&rings_.tx, tx_index_ + static_cast<uint32_t>(i))->addr);
    rings_.tx.cached_prod -=
        static_cast<uint32_t>(reserved_ - count);  // un-reserve what was not used
    reserved_ = 0;
    xsk_ring_prod__submit(&rings_.tx, static_cast<uint32_t>(count));
    q_.counters_.sent.add(count);
    if (auto kicked = kick(); !kicked) return tl::unexpected(kicked.error());
    return SendReport{count, 0};
  }

  size_t frame_capacity() const override { return q_.frame_bytes_; }

  Result<SendReport> flush(int timeout_ms) override {
    // Copy mode sends at most a few dozen descriptors per wake-up: keep waking the kernel
    // until every TX frame has come back through the completion ring.
    for (int waited_us = 0; waited_us < timeout_ms * 1000; waited_us += 50) {
      reclaim();
      if (free_.size() == q_.tx_frames_) return SendReport{};
      if (::sendto(q_.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0 &&
          !transient_send_error(errno))
        return make_error(ExitCode::kUnavailable,
                          errno_message("AF_XDP: transmit on " + q_.interface_, errno));
      ::usleep(50);
    }
    reclaim();
    return SendReport{0, q_.tx_frames_ - free_.size()};
  }

 private:
  void reclaim() {
    uint32_t index = 0;
    const uint32_t done = xsk_ring_cons__peek(&rings_.completion, q_.tx_frames_, &index);
    if (done == 0) return;
    for (uint32_t i = 0; i < done; ++i)
      free_.push_back(*xsk_ring_cons__comp_addr(&rings_.completion, index + i));
    xsk_ring_cons__release(&rings_.completion, done);
    q_.counters_.completed.add(done);
  }

  // In copy mode the kernel transmits only when told to (and may ask for it with
  // XDP_RING_NEED_WAKEUP in zero-copy mode).
  Result<void> kick() {
    if (!xsk_ring_prod__needs_wakeup(&rings_.tx)) return {};
    if (::sendto(q_.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0 || transient_send_error(errno))
      return {};
    return make_error(ExitCode::kUnavailable,
                      errno_message("AF_XDP: transmit on " + q_.interface_ + " queue " +
                                        std::to_string(q_.queue_id_),
                                    errno));
  }

  XskQueue& q_;
  Rings& rings_;
  std::vector<uint64_t> free_;
  std::vector<FrameSlot> slots_;
  uint32_t tx_index_ = 0;
  size_t reserved_ = 0;
};

// Receive side: frames [0, rx_frames) of the UMEM circulate between the fill and RX rings.
class XskQueue::Source final : public PacketSource {
 public:
  explicit Source(XskQueue& q) : q_(q), rings_(*q.rings_) { pending_.reserve(q.rx_frames_); }

  Result<size_t> receive(std::span<FrameView> out, int timeout_ms) override {
    uint32_t index = 0;
    uint32_t n = xsk_ring_cons__peek(&rings_.rx, static_cast<uint32_t>(out.size()), &index);
    // Wait on the ring itself rather than poll(): on an XSK socket poll() also runs the
    // copy-mode transmit path, which would compete with the sender for the queue.
    for (int waited_us = 0; n == 0 && waited_us < timeout_ms * 1000; waited_us += kRxIdleSleepUs) {
      if (xsk_ring_prod__needs_wakeup(&rings_.fill))  // zero-copy drivers ask to be woken for RX
        ::recvfrom(q_.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
      ::usleep(kRxIdleSleepUs);
      n = xsk_ring_cons__peek(&rings_.rx, static_cast<uint32_t>(out.size()), &index);
    }
    pending_.clear();
    for (uint32_t i = 0; i < n; ++i) {
      const xdp_desc* desc = xsk_ring_cons__rx_desc(&rings_.rx, index + i);
      out[i] = FrameView{q_.frame(desc->addr), desc->len};
      pending_.push_back(xsk_umem__extract_addr(desc->addr));
    }
    q_.counters_.rx_received.add(n);
    return n;
  }

  void release() override {
    const uint32_t n = static_cast<uint32_t>(pending_.size());
    if (n == 0) return;
    xsk_ring_cons__release(&rings_.rx, n);
    uint32_t index = 0;
    if (xsk_ring_prod__reserve(&rings_.fill, n, &index) != n) {
      q_.counters_.fill_ring_short.add(1);  // cannot happen: the fill ring holds every RX frame
    } else {
      for (uint32_t i = 0; i < n; ++i)
        *xsk_ring_prod__fill_addr(&rings_.fill, index + i) = pending_[i];
      xsk_ring_prod__submit(&rings_.fill, n);
    }
    pending_.clear();
  }

  SourceStats stats() override {
    const KernelStats s = q_.kernel_stats();
    return SourceStats{q_.counters_.rx_received.get(), s.rx_dropped + s.rx_ring_full};
  }

 private:
  XskQueue& q_;
  Rings& rings_;
  std::vector<uint64_t> pending_;
};

XskQueue::~XskQueue() = default;
PacketSink& XskQueue::sink() { return *sink_; }
PacketSource& XskQueue::source() { return *source_; }

XskQueue::KernelStats XskQueue::kernel_stats() const {
  xdp_statistics stats{};
  socklen_t length = sizeof stats;
  ::getsockopt(fd(), SOL_XDP, XDP_STATISTICS, &stats, &length);
  return KernelStats{stats.rx_dropped,   stats.rx_invalid_descs,         stats.tx_invalid_descs,
                     stats.rx_ring_full, stats.rx_fill_ring_empty_descs, stats.tx_ring_empty_descs};
}

Result<void> XskQueue::create_umem() {
  const size_t bytes = size_t{rx_frames_ + tx_frames_} * frame_bytes_;
  void* area = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED)
    return make_error(ExitCode::kUnavailable, errno_message("AF_XDP: allocating the UMEM", errno));
  area_ = MappedMemory(area, bytes);
  // The completion ring must exist even on a receive-only queue; it stays empty there.
  const xsk_umem_config config{rx_frames_, std::max(tx_frames_, 64u), frame_bytes_, 0, 0};
  xsk_umem* umem = nullptr;
  if (int err = xsk_umem__create(&umem, area, bytes, &rings_->fill, &rings_->completion, &config);
      err != 0)
    return make_error(ExitCode::kUnavailable,
                      "AF_XDP: registering a " + std::to_string(bytes / 1024) +
                          " KiB UMEM for queue " + std::to_string(queue_id_) + ": " +
                          std::strerror(-err));
  umem_.reset(umem);
  return {};
}

Result<void> XskQueue::create_socket(const XskBind& bind, int* bind_errno) {
  xsk_socket_config config{};
  config.rx_size = rx_frames_;
  config.tx_size = std::max(tx_frames_, 64u);
  config.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
  config.bind_flags =
      static_cast<uint16_t>(XDP_USE_NEED_WAKEUP | (bind.zerocopy ? XDP_ZEROCOPY : XDP_COPY));
  int err = 0;
  // A socket torn down by the previous rung of the bind ladder releases its queue
  // asynchronously: EBUSY for a few milliseconds is not a verdict.
  for (int tries = 0; tries < kBusyRetries; ++tries) {
    xsk_socket* socket = nullptr;
    err = xsk_socket__create(&socket, interface_.c_str(), queue_id_, umem_.get(), &rings_->rx,
                             bind.transmits ? &rings_->tx : nullptr, &config);
    if (err == 0) {
      socket_.reset(socket);
      return {};
    }
    if (err != -EBUSY) break;
    ::usleep(kBusyRetryUs);
  }
  *bind_errno = -err;
  return make_error(ExitCode::kUnavailable, "binding an AF_XDP socket to " + interface_ +
                                                " queue " + std::to_string(queue_id_) + ": " +
                                                std::strerror(-err));
}

Result<std::unique_ptr<XskQueue>> XskQueue::open(const XskBind& bind, int* bind_errno) {
  std::unique_ptr<XskQueue> q(new XskQueue());
  q->queue_id_ = bind.queue_id;
  q->interface_ = bind.interface;
  q->frame_bytes_ = bind.plan->frame_bytes;
  q->rx_frames_ = bind.plan->rx_frames;
  q->tx_frames_ = bind.transmits ? bind.plan->tx_frames : 0;
  q->rings_ = std::make_unique<Rings>();
  if (auto made = q->create_umem(); !made) return tl::unexpected(made.error());
  if (auto made = q->create_socket(bind, bind_errno); !made) return tl::unexpected(made.error());
  // Every receive frame goes to the kernel's fill ring up front.
  uint32_t index = 0;
  if (xsk_ring_prod__reserve(&q->rings_->fill, q->rx_frames_, &index) != q->rx_frames_)
    return make_error(ExitCode::kUnavailable,
                      "AF_XDP: filling the fill ring of queue " + std::to_string(bind.queue_id));
  for (uint32_t i = 0; i < q->rx_frames_; ++i)
    *xsk_ring_prod__fill_addr(&q->rings_->fill, index + i) = uint64_t{i} * q->frame_bytes_;
  xsk_ring_prod__submit(&q->rings_->fill, q->rx_frames_);
  if (bind.transmits) q->sink_ = std::make_unique<Sink>(*q);
  q->source_ = std::make_unique<Source>(*q);
  return q;
}

Result<void> XskQueue::insert_into(int xsk_map_fd) {
  if (int err = xsk_socket__update_xskmap(socket_.get(), xsk_map_fd); err != 0)
    return make_error(ExitCode::kUnavailable,
                      "AF_XDP: inserting the socket of queue " + std::to_string(queue_id_) +
                          " into the XSK map: " + std::strerror(-err) + " (needs CAP_BPF)");
  return {};
}

}  // namespace anyscan
