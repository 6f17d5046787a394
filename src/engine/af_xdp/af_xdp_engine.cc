#include "engine/af_xdp/af_xdp_engine.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "base/log.h"
#include "base/memlock_limit.h"
#include "base/mapped_memory.h"
#include "base/unique_fd.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "engine/af_xdp/reply_filter.skel.h"
#pragma GCC diagnostic pop

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

namespace anyscan {
namespace {

constexpr uint32_t kFrameBytes = 2048;
constexpr uint32_t kMaxFramesPerQueue = 4096;
constexpr uint32_t kMinFramesPerQueue = 256;
constexpr uint32_t kBatch = 64;
constexpr int kRxIdleSleepUs = 500;

int print_to_log(enum libbpf_print_level level, const char* format, va_list args) {
  if (!log_enabled(level == LIBBPF_WARN ? LogLevel::kDebug : LogLevel::kTrace)) return 0;
  char buffer[512];
  std::vsnprintf(buffer, sizeof buffer, format, args);
  size_t n = std::strlen(buffer);
  while (n > 0 && buffer[n - 1] == '\n') buffer[--n] = '\0';
  log_message(LogLevel::kDebug, std::string("libbpf: ") + buffer);
  return 0;
}

int print_libxdp(enum libxdp_print_level level, const char* format, va_list args) {
  return print_to_log(static_cast<libbpf_print_level>(level), format, args);
}

bool has_capability(int cap) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("CapEff:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> cap) & 1;
  return false;
}

tl::unexpected<Error> fail(const std::string& step, int err, const std::string& hint) {
  return make_error(ExitCode::kUnavailable,
                    "AF_XDP: " + step + ": " + std::strerror(err) + (hint.empty() ? "" : " (" + hint + ")"));
}

}  // namespace

struct AfXdpEngine::Program {
  reply_filter* skeleton = nullptr;
  UniqueFd link;  // the bpf_link: closing it (or dying) detaches the program
  uint32_t attached_flags = 0;
  ~Program() {
    link.reset();
    if (skeleton) reply_filter__destroy(skeleton);
  }
};

struct AfXdpEngine::Queue {
  // Acquisition order; see ~Queue for the teardown order.
  MappedMemory area;
  xsk_umem* umem = nullptr;
  xsk_ring_prod fill{};
  xsk_ring_cons completion{};
  xsk_socket* socket = nullptr;
  xsk_ring_cons rx{};
  xsk_ring_prod tx{};
  uint32_t frames = 0;
  uint32_t queue_id = 0;
  std::string interface;

  struct Counters {
    uint64_t sent = 0, completed = 0, tx_ring_full = 0, rx_received = 0, fill_ring_short = 0;
  } counters;

  class Sink;
  class Source;
  std::unique_ptr<PacketSink> sink;
  std::unique_ptr<PacketSource> source;

  ~Queue() {
    sink.reset();
    source.reset();
    if (socket) xsk_socket__delete(socket);  // sockets before the UMEM they use
    if (umem) xsk_umem__delete(umem);
  }
  int fd() const { return xsk_socket__fd(socket); }
  uint8_t* data(uint64_t address) { return static_cast<uint8_t*>(xsk_umem__get_data(area.get(), address)); }

  xdp_statistics statistics() const {
    xdp_statistics stats{};
    socklen_t length = sizeof stats;
    ::getsockopt(xsk_socket__fd(socket), SOL_XDP, XDP_STATISTICS, &stats, &length);
    return stats;
  }
};

class AfXdpEngine::Queue::Sink final : public PacketSink {
 public:
  explicit Sink(Queue& q) : q_(q) {
    // The upper half of the UMEM carries probes.
    for (uint32_t i = q.frames / 2; i < q.frames; ++i) free_.push_back(uint64_t{i} * kFrameBytes);
    slots_.resize(kBatch);
  }

  std::span<FrameSlot> reserve(size_t max_frames) override {
    reclaim();
    uint32_t want = static_cast<uint32_t>(std::min<size_t>({max_frames, kBatch, free_.size()}));
    if (want == 0) {
      kick();
      return {};
    }
    if (xsk_ring_prod__reserve(&q_.tx, want, &tx_index_) != want) {
      ++q_.counters.tx_ring_full;
      kick();
      return {};
    }
    for (uint32_t i = 0; i < want; ++i) {
      const uint64_t address = free_.back();
      free_.pop_back();
      xsk_ring_prod__tx_desc(&q_.tx, tx_index_ + i)->addr = address;
      slots_[i] = FrameSlot{q_.data(address), 0};
    }
    reserved_ = want;
    return std::span<FrameSlot>(slots_.data(), want);
  }

  Result<SendReport> submit(size_t count) override {
    for (size_t i = 0; i < count; ++i) xsk_ring_prod__tx_desc(&q_.tx, tx_index_ + static_cast<uint32_t>(i))->len = slots_[i].length;
    for (size_t i = count; i < reserved_; ++i)
      free_.push_back(xsk_ring_prod__tx_desc(&q_.tx, tx_index_ + static_cast<uint32_t>(i))->addr);
    q_.tx.cached_prod -= static_cast<uint32_t>(reserved_ - count);  // un-reserve what was not used
    reserved_ = 0;
    xsk_ring_prod__submit(&q_.tx, static_cast<uint32_t>(count));
    q_.counters.sent += count;
    if (auto kicked = kick(); !kicked) return tl::unexpected(kicked.error());
    return SendReport{count, 0};
  }

  size_t frame_capacity() const override { return kFrameBytes; }

  Result<SendReport> flush(int timeout_ms) override {
    // Copy mode sends at most a few dozen descriptors per wake-up: keep waking the kernel
    // until every TX frame has come back through the completion ring.
    const uint32_t tx_frames = q_.frames - q_.frames / 2;
    for (int waited_us = 0; waited_us < timeout_ms * 1000; waited_us += 50) {
      reclaim();
      if (free_.size() == tx_frames) return SendReport{};
      if (::sendto(q_.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0 && errno != EAGAIN && errno != EBUSY &&
          errno != ENOBUFS && errno != EINTR)
        return make_error(ExitCode::kUnavailable, errno_message("AF_XDP: transmit on " + q_.interface, errno));
      ::usleep(50);
    }
    reclaim();
    return SendReport{0, tx_frames - free_.size()};
  }

 private:
  void reclaim() {
    uint32_t index = 0;
    const uint32_t done = xsk_ring_cons__peek(&q_.completion, q_.frames / 2, &index);
    if (done == 0) return;
    for (uint32_t i = 0; i < done; ++i) free_.push_back(*xsk_ring_cons__comp_addr(&q_.completion, index + i));
    xsk_ring_cons__release(&q_.completion, done);
    q_.counters.completed += done;
  }

  // In copy mode the kernel transmits only when told to (and may ask for it with
  // XDP_RING_NEED_WAKEUP in zero-copy mode).
  Result<void> kick() {
    if (!xsk_ring_prod__needs_wakeup(&q_.tx)) return {};
    if (::sendto(q_.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) return {};
    const int err = errno;
    if (err == EAGAIN || err == EBUSY || err == ENOBUFS || err == EINTR) return {};
    return make_error(ExitCode::kUnavailable, errno_message("AF_XDP: transmit on " + q_.interface + " queue " +
                                                                std::to_string(q_.queue_id), err));
  }

  Queue& q_;
  std::vector<uint64_t> free_;
  std::vector<FrameSlot> slots_;
  uint32_t tx_index_ = 0;
  size_t reserved_ = 0;
};

class AfXdpEngine::Queue::Source final : public PacketSource {
 public:
  explicit Source(Queue& q) : q_(q) { pending_.reserve(256); }

  Result<size_t> receive(std::span<FrameView> out, int timeout_ms) override {
    uint32_t index = 0;
    uint32_t n = xsk_ring_cons__peek(&q_.rx, static_cast<uint32_t>(out.size()), &index);
    // Wait on the ring itself rather than poll(): on an XSK socket poll() also runs the
    // copy-mode transmit path, which would compete with the sender for the queue.
    for (int waited_us = 0; n == 0 && waited_us < timeout_ms * 1000; waited_us += kRxIdleSleepUs) {
      if (xsk_ring_prod__needs_wakeup(&q_.fill))  // zero-copy drivers ask to be woken for RX
        ::recvfrom(q_.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
      ::usleep(kRxIdleSleepUs);
      n = xsk_ring_cons__peek(&q_.rx, static_cast<uint32_t>(out.size()), &index);
    }
    pending_.clear();
    for (uint32_t i = 0; i < n; ++i) {
      const xdp_desc* desc = xsk_ring_cons__rx_desc(&q_.rx, index + i);
      out[i] = FrameView{q_.data(desc->addr), desc->len};
      pending_.push_back(xsk_umem__extract_addr(desc->addr));
    }
    q_.counters.rx_received += n;
    received_ += n;
    return n;
  }

  void release() override {
    const uint32_t n = static_cast<uint32_t>(pending_.size());
    if (n == 0) return;
    xsk_ring_cons__release(&q_.rx, n);
    uint32_t index = 0;
    if (xsk_ring_prod__reserve(&q_.fill, n, &index) != n) {
      ++q_.counters.fill_ring_short;  // cannot happen with equal ring and frame counts
    } else {
      for (uint32_t i = 0; i < n; ++i) *xsk_ring_prod__fill_addr(&q_.fill, index + i) = pending_[i];
      xsk_ring_prod__submit(&q_.fill, n);
    }
    pending_.clear();
  }

  SourceStats stats() override {
    const xdp_statistics s = q_.statistics();
    return SourceStats{received_, s.rx_dropped + s.rx_ring_full};
  }

 private:
  Queue& q_;
  std::vector<uint64_t> pending_;
  uint64_t received_ = 0;
};

AfXdpEngine::~AfXdpEngine() {
  queues_.clear();  // sockets and UMEMs first
  program_.reset();
}

size_t AfXdpEngine::sink_count() const { return queues_.size(); }
size_t AfXdpEngine::source_count() const { return queues_.size(); }
PacketSink& AfXdpEngine::sink(size_t queue) { return *queues_[queue]->sink; }
PacketSource& AfXdpEngine::source(size_t queue) { return *queues_[queue]->source; }

std::vector<std::pair<std::string, uint64_t>> AfXdpEngine::counters() {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& q : queues_) {
    const std::string p = "queue" + std::to_string(q->queue_id) + ".";
    const xdp_statistics s = q->statistics();
    out.push_back({p + "sent", q->counters.sent});
    out.push_back({p + "completed", q->counters.completed});
    out.push_back({p + "tx_ring_full", q->counters.tx_ring_full});
    out.push_back({p + "rx_received", q->counters.rx_received});
    out.push_back({p + "fill_ring_empty", s.rx_fill_ring_empty_descs});
    out.push_back({p + "dropped", s.rx_dropped});
    out.push_back({p + "rx_ring_full", s.rx_ring_full});
    out.push_back({p + "tx_ring_empty", s.tx_ring_empty_descs});
  }
  out.push_back({"bind_mode_zerocopy", bind_mode_.find("zero-copy") != std::string::npos});
  return out;
}

namespace {

struct Attempt {
  uint32_t xdp_flags;  // XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE
  bool zerocopy;
  const char* name;
};

std::vector<Attempt> bind_ladder(XdpMode mode, XdpZeroCopy zerocopy) {
  const Attempt native_zc{XDP_FLAGS_DRV_MODE, true, "native, zero-copy"};
  const Attempt native_copy{XDP_FLAGS_DRV_MODE, false, "native, copy"};
  const Attempt skb_copy{XDP_FLAGS_SKB_MODE, false, "skb, copy"};
  std::vector<Attempt> ladder;
  const bool native = mode != XdpMode::kSkb, skb = mode != XdpMode::kNative;
  if (native && zerocopy != XdpZeroCopy::kOff) ladder.push_back(native_zc);
  if (zerocopy != XdpZeroCopy::kForce) {
    if (native) ladder.push_back(native_copy);
    if (skb) ladder.push_back(skb_copy);
  }
  return ladder;
}

}  // namespace

Result<std::unique_ptr<IoEngine>> AfXdpEngine::open(const EngineConfig& config) {
  libbpf_set_print(print_to_log);
  libxdp_set_print(print_libxdp);
  const std::vector<Attempt> ladder = bind_ladder(config.xdp_mode, config.xdp_zerocopy);
  if (ladder.empty())
    return make_error(ExitCode::kUsage, "--xdp-zerocopy force needs native mode (zero-copy is not possible with --xdp-mode skb)");

  std::unique_ptr<AfXdpEngine> engine(new AfXdpEngine());
  engine->program_ = std::make_unique<Program>();
  Program& program = *engine->program_;
  program.skeleton = reply_filter__open();
  if (!program.skeleton) return fail("opening the embedded XDP program", errno, "");
  program.skeleton->rodata->cfg_local_ip = htonl(config.filter.local_ip.value);
  program.skeleton->rodata->cfg_port_first = config.filter.port_first;
  program.skeleton->rodata->cfg_port_last = config.filter.port_last;
  program.skeleton->rodata->cfg_protocol = config.filter.ip_protocol;
  if (int err = reply_filter__load(program.skeleton); err != 0)
    return fail("loading the XDP program", -err, "needs CAP_BPF and CAP_NET_ADMIN");
  const int program_fd = bpf_program__fd(program.skeleton->progs.anyscan_reply_filter);
  const int map_fd = bpf_map__fd(program.skeleton->maps.xsks_map);

  // Queues: every queue the interface has (or --xdp-queues), capped by sender threads.
  uint32_t queues = config.xdp_queues != 0 ? config.xdp_queues : std::max(config.interface_queues, 1u);
  queues = std::max(1u, std::min(queues, config.sender_threads));
  const bool ipc_lock = has_capability(14);
  const uint64_t memlock_bytes = memlock_limit_bytes();
  uint32_t frames = kMaxFramesPerQueue;
  if (!ipc_lock) {
    // UMEM is charged to RLIMIT_MEMLOCK without CAP_IPC_LOCK: fit it (AF_XDP-NOTES.md).
    const uint64_t budget = memlock_bytes / 4 * 3 / queues;
    while (frames > kMinFramesPerQueue && uint64_t{frames} * kFrameBytes > budget) frames /= 2;
    if (uint64_t{frames} * kFrameBytes > budget)
      return make_error(ExitCode::kUnavailable,
                        "AF_XDP: RLIMIT_MEMLOCK " + std::to_string(memlock_bytes / 1024) +
                            " KiB is too small for a " + std::to_string(kMinFramesPerQueue * kFrameBytes / 1024) +
                            " KiB UMEM per queue (needs CAP_IPC_LOCK or a larger limit)");
    if (frames < kMaxFramesPerQueue)
      logf(LogLevel::kInfo, "AF_XDP: no CAP_IPC_LOCK: UMEM sized to %u KiB per queue to fit RLIMIT_MEMLOCK %llu KiB",
           frames * kFrameBytes / 1024, static_cast<unsigned long long>(memlock_bytes / 1024));
  }

  std::string last_error;
  for (const Attempt& attempt : ladder) {
    if (program.attached_flags != attempt.xdp_flags) {
      program.link.reset();
      program.attached_flags = 0;
      bpf_link_create_opts options{};  // LIBBPF_OPTS is a C99 compound literal
      options.sz = sizeof options;
      options.flags = attempt.xdp_flags;
      const int link = bpf_link_create(program_fd, config.ifindex, BPF_XDP, &options);
      if (link < 0) {
        last_error = "attaching the XDP program to " + config.interface + " (" + attempt.name + "): " +
                     std::strerror(errno) + " (needs CAP_NET_ADMIN and CAP_BPF)";
        logf(LogLevel::kDebug, "AF_XDP: %s", last_error.c_str());
        continue;
      }
      program.link.reset(link);
      program.attached_flags = attempt.xdp_flags;
    }
    engine->queues_.clear();
    bool bound = true;
    for (uint32_t id = 0; id < queues && bound; ++id) {
      auto q = std::make_unique<Queue>();
      q->queue_id = id;
      q->interface = config.interface;
      q->frames = frames;
      void* area = ::mmap(nullptr, size_t{frames} * kFrameBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (area == MAP_FAILED) return fail("allocating the UMEM", errno, "");
      q->area = MappedMemory(area, size_t{frames} * kFrameBytes);
      xsk_umem_config umem_config{frames / 2, frames / 2, kFrameBytes, 0, 0};
      if (int err = xsk_umem__create(&q->umem, area, size_t{frames} * kFrameBytes, &q->fill, &q->completion, &umem_config); err != 0) {
        q->umem = nullptr;
        return fail("registering a " + std::to_string(frames * kFrameBytes / 1024) + " KiB UMEM", -err,
                    ipc_lock ? "" : "RLIMIT_MEMLOCK is " + std::to_string(memlock_bytes / 1024) +
                                         " KiB and CAP_IPC_LOCK is not held");
      }
      xsk_socket_config socket_config{};
      socket_config.rx_size = frames / 2;
      socket_config.tx_size = frames / 2;
      socket_config.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
      socket_config.bind_flags = static_cast<uint16_t>(XDP_USE_NEED_WAKEUP | (attempt.zerocopy ? XDP_ZEROCOPY : XDP_COPY));
      int err = 0;
      // A socket torn down by the previous rung releases its queue asynchronously: EBUSY
      // for a few milliseconds is not a verdict.
      for (int tries = 0; tries < 50; ++tries) {
        err = xsk_socket__create(&q->socket, config.interface.c_str(), id, q->umem, &q->rx, &q->tx, &socket_config);
        if (err != -EBUSY) break;
        q->socket = nullptr;
        ::usleep(20000);
      }
      if (err != 0) {
        q->socket = nullptr;
        if (-err == EPERM || -err == EACCES) return fail("creating the AF_XDP socket", -err, "needs CAP_NET_RAW");
        last_error = "binding an AF_XDP socket to " + config.interface + " queue " + std::to_string(id) + " (" +
                     attempt.name + "): " + std::strerror(-err);
        logf(LogLevel::kDebug, "AF_XDP: %s", last_error.c_str());
        bound = false;
        break;
      }
      if (int err = xsk_socket__update_xskmap(q->socket, map_fd); err != 0)
        return fail("inserting the socket into the XSK map", -err, "needs CAP_BPF");
      // Every receive frame goes to the kernel's fill ring up front.
      uint32_t index = 0;
      const uint32_t rx_frames = frames / 2;
      if (xsk_ring_prod__reserve(&q->fill, rx_frames, &index) != rx_frames) return fail("filling the fill ring", ENOSPC, "");
      for (uint32_t i = 0; i < rx_frames; ++i) *xsk_ring_prod__fill_addr(&q->fill, index + i) = uint64_t{i} * kFrameBytes;
      xsk_ring_prod__submit(&q->fill, rx_frames);
      q->sink = std::make_unique<Queue::Sink>(*q);
      q->source = std::make_unique<Queue::Source>(*q);
      engine->queues_.push_back(std::move(q));
    }
    if (!bound) continue;
    engine->bind_mode_ = attempt.name;
    logf(LogLevel::kInfo, "AF_XDP: bound %u queue(s) of %s in %s mode, UMEM %u KiB per queue", queues,
         config.interface.c_str(), attempt.name, frames * kFrameBytes / 1024);
    return std::unique_ptr<IoEngine>(std::move(engine));
  }
  std::string wanted;
  for (const Attempt& a : ladder) wanted += (wanted.empty() ? "" : ", then ") + std::string(a.name);
  return make_error(ExitCode::kUnavailable, "AF_XDP: no bind mode worked (tried " + wanted + "); last: " + last_error);
}

}  // namespace anyscan
