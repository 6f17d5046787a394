#include "engine/af_xdp/af_xdp_engine.h"

#include <linux/if_link.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/capabilities.h"
#include "base/log.h"
#include "base/memlock_limit.h"
#include "base/xdp_features.h"

namespace anyscan {

namespace {
constexpr int kCapIpcLock = 14;
}  // namespace

std::vector<std::pair<std::string, uint64_t>> AfXdpEngine::counters() {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& q : queues_) {
    const std::string p = "queue" + std::to_string(q->queue_id()) + ".";
    const XskQueueCounters& c = q->counters();
    const XskQueue::KernelStats s = q->kernel_stats();
    const XdpQueueCounters x = program_.queue_counters(q->queue_id());
    if (q->transmits()) {
      out.push_back({p + "sent", c.sent.get()});
      out.push_back({p + "completed", c.completed.get()});
      out.push_back({p + "tx_ring_full", c.tx_ring_full.get()});
      out.push_back({p + "tx_ring_empty", s.tx_ring_empty});
    }
    out.push_back({p + "xdp_matched", x.matched});
    out.push_back({p + "xdp_redirected", x.redirected});
    out.push_back({p + "xdp_no_socket", x.no_socket});
    out.push_back({p + "xdp_host_socket", x.host_socket});
    out.push_back({p + "rx_received", c.rx_received.get()});
    out.push_back({p + "rx_ring_full", s.rx_ring_full});
    out.push_back({p + "dropped", s.rx_dropped});
    out.push_back({p + "fill_ring_empty", s.fill_ring_empty});
  }
  // Queues the interface gained during the scan (ethtool -L) have no socket: count them.
  uint64_t beyond = 0;
  for (uint32_t q = static_cast<uint32_t>(queues_.size()); q <= XdpProgram::kMaxQueues; ++q)
    beyond += program_.queue_counters(q).no_socket;
  out.push_back({"xdp_no_socket_other_queues", beyond});
  out.push_back({"umem_rx_frames_per_queue", umem_.rx_frames});
  out.push_back({"umem_tx_frames_per_queue", umem_.tx_frames});
  out.push_back({"umem_total_kib", umem_.total_bytes / 1024});
  out.push_back({"bind_mode_zerocopy", bind_mode_.find("zero-copy") != std::string::npos});
  // The driver's XDP features as a netdev xdp-features bit mask (absent: unknown).
  if (nic_features_) out.push_back({"nic_xdp_features", *nic_features_});
  return out;
}

EngineLoss AfXdpEngine::loss() {
  EngineLoss loss = IoEngine::loss();
  for (uint32_t q = 0; q <= XdpProgram::kMaxQueues; ++q)
    loss.not_redirected += program_.queue_counters(q).no_socket;
  return loss;
}

namespace {

std::vector<AfXdpEngine::Attempt> bind_ladder(XdpMode mode, XdpZeroCopy zerocopy) {
  const AfXdpEngine::Attempt native_zc{XDP_FLAGS_DRV_MODE, true, "native, zero-copy"};
  const AfXdpEngine::Attempt native_copy{XDP_FLAGS_DRV_MODE, false, "native, copy"};
  const AfXdpEngine::Attempt skb_copy{XDP_FLAGS_SKB_MODE, false, "skb, copy"};
  std::vector<AfXdpEngine::Attempt> ladder;
  const bool native = mode != XdpMode::kSkb, skb = mode != XdpMode::kNative;
  if (native && zerocopy != XdpZeroCopy::kOff) ladder.push_back(native_zc);
  if (zerocopy != XdpZeroCopy::kForce) {
    if (native) ladder.push_back(native_copy);
    if (skb) ladder.push_back(skb_copy);
  }
  return ladder;
}

// Transmitting queues: one per sender thread (the plan already applied --xdp-queues), within
// what the interface can send on. Receiving queues: all of them.
uint32_t transmit_queues(const EngineConfig& config, uint32_t rx_queues) {
  uint32_t tx = std::min({config.sender_threads, std::max(config.tx_queues, 1u), rx_queues});
  return std::max(tx, 1u);
}

// What the interface's driver says it can do (nullopt: the kernel cannot say, before 6.3).
std::optional<uint64_t> driver_features(const EngineConfig& config) {
  auto asked = read_xdp_features(config.ifindex);
  if (!asked) {
    logf(LogLevel::kDebug, "AF_XDP: %s's XDP features unknown: %s", config.interface.c_str(),
         asked.error().message.c_str());
    return std::nullopt;
  }
  if (!*asked) return std::nullopt;
  return (*asked)->features;
}

// The NIC's own word (kernel 6.3+): rungs its driver says cannot work are not tried (a
// zero-copy try on a driver without it costs ~13 ms of start-up and a failed bind); a mode
// the user forced that it cannot do is an error naming the feature. Unknown: every rung.
Result<std::vector<AfXdpEngine::Attempt>> feasible_rungs(std::vector<AfXdpEngine::Attempt> ladder,
                                                         const EngineConfig& config,
                                                         std::optional<uint64_t> features) {
  if (!features) return ladder;
  const std::string offered =
      config.interface + " offers XDP " + xdp_feature_names(*features) + " (its driver's word)";
  const bool zerocopy = (*features & kXdpXskZerocopy) != 0;
  const bool native = (*features & kXdpNativeAfXdp) == kXdpNativeAfXdp;
  if (config.xdp_zerocopy == XdpZeroCopy::kForce && !zerocopy)
    return make_error(ExitCode::kUnavailable, "AF_XDP: --xdp-zerocopy force: " + config.interface +
                                                  " lacks the XDP feature xsk-zerocopy; " +
                                                  offered);
  if (config.xdp_mode == XdpMode::kNative && !native)
    return make_error(ExitCode::kUnavailable,
                      "AF_XDP: --xdp-mode native: " + config.interface + " lacks the XDP feature " +
                          ((*features & kXdpBasic) == 0 ? "basic" : "redirect") + "; " + offered);
  std::vector<AfXdpEngine::Attempt> kept;
  for (const auto& a : ladder)
    if ((!a.zerocopy || zerocopy) && (a.xdp_flags != XDP_FLAGS_DRV_MODE || native))
      kept.push_back(a);
  if (kept.size() != ladder.size())
    logf(LogLevel::kDebug, "AF_XDP: %s: %s not tried", offered.c_str(),
         !native ? "native mode" : "zero-copy");
  return kept;
}

}  // namespace

Result<void> AfXdpEngine::bind_queues(const EngineConfig& config, const Attempt& attempt,
                                      int* bind_errno) {
  queues_.clear();
  const uint32_t rx_queues = std::max(config.rx_queues, 1u);
  for (uint32_t id = 0; id < rx_queues; ++id) {
    const XskBind bind{config.interface, id, id < tx_queues_, attempt.zerocopy, &umem_};
    auto queue = XskQueue::open(bind, bind_errno);
    if (!queue) return tl::unexpected(queue.error());
    if (auto inserted = (*queue)->insert_into(program_.xsk_map_fd()); !inserted) {
      *bind_errno = 0;  // not a mode problem: no point stepping down the ladder
      return inserted;
    }
    queues_.push_back(std::move(*queue));
  }
  return {};
}

Result<std::unique_ptr<IoEngine>> AfXdpEngine::open(const EngineConfig& config) {
  if (config.ip_layer)  // the plan says so first; this keeps the engine honest on its own
    return make_error(ExitCode::kUnavailable,
                      "af_xdp sends and receives Ethernet frames only: IP packets (-X/--iplayer) "
                      "need --io-engine af_packet");
  route_libbpf_messages_to_log();
  const std::vector<Attempt> asked_for = bind_ladder(config.xdp_mode, config.xdp_zerocopy);
  if (asked_for.empty())
    return make_error(
        ExitCode::kUsage,
        "--xdp-zerocopy force needs native mode (zero-copy is not possible with --xdp-mode skb)");
  const std::optional<uint64_t> nic_features = driver_features(config);
  auto feasible = feasible_rungs(asked_for, config, nic_features);
  if (!feasible) return tl::unexpected(feasible.error());
  const std::vector<Attempt>& ladder = *feasible;
  const uint32_t rx_queues = std::max(config.rx_queues, 1u);
  if (rx_queues > XdpProgram::kMaxQueues)
    return make_error(ExitCode::kUnavailable,
                      "AF_XDP: " + config.interface + " has " + std::to_string(rx_queues) +
                          " receive queues; the XDP program serves at most " +
                          std::to_string(XdpProgram::kMaxQueues));
  auto program = XdpProgram::load(config.filter);
  if (!program) return tl::unexpected(program.error());
  std::unique_ptr<AfXdpEngine> engine(new AfXdpEngine(std::move(*program)));
  engine->nic_features_ = nic_features;
  engine->tx_queues_ = transmit_queues(config, rx_queues);

  const bool ipc_lock = has_effective_capability(kCapIpcLock);
  const uint64_t memlock = memlock_limit_bytes();
  auto umem = plan_umem(rx_queues, static_cast<uint32_t>(engine->tx_queues_), ipc_lock, memlock);
  if (!umem) return tl::unexpected(umem.error());
  engine->umem_ = *umem;
  if (umem->limited_by_memlock)
    logf(LogLevel::kInfo,
         "AF_XDP: no CAP_IPC_LOCK: %u receive and %u transmit frames per queue (%llu KiB of "
         "UMEM) to fit RLIMIT_MEMLOCK %llu KiB",
         umem->rx_frames, umem->tx_frames,
         static_cast<unsigned long long>(umem->total_bytes / 1024),
         static_cast<unsigned long long>(memlock / 1024));

  std::string last_error;
  for (const Attempt& attempt : ladder) {
    if (auto attached = engine->program_.attach(config.ifindex, config.interface, attempt.xdp_flags,
                                                attempt.name);
        !attached) {
      last_error = attached.error().message;
      logf(LogLevel::kInfo, "AF_XDP: %s", last_error.c_str());
      continue;
    }
    int bind_errno = 0;
    auto bound = engine->bind_queues(config, attempt, &bind_errno);
    if (!bound) {
      if (bind_errno == EPERM || bind_errno == EACCES)
        return make_error(ExitCode::kUnavailable, "AF_XDP: creating the AF_XDP socket: " +
                                                      std::string(std::strerror(bind_errno)) +
                                                      " (needs CAP_NET_RAW)");
      if (bind_errno == 0) return tl::unexpected(bound.error());
      last_error = "binding an AF_XDP socket to " + config.interface + " queue " +
                   std::to_string(engine->queues_.size()) + " (" + attempt.name +
                   "): " + std::strerror(bind_errno);
      logf(LogLevel::kDebug, "AF_XDP: %s", last_error.c_str());
      continue;
    }
    engine->bind_mode_ = attempt.name;
    logf(LogLevel::kInfo,
         "AF_XDP: bound %u queue(s) of %s (every receive queue, %zu sending) in %s mode; UMEM %llu "
         "KiB in total "
         "(%u receive, %u transmit frames per queue)",
         rx_queues, config.interface.c_str(), engine->tx_queues_, attempt.name,
         static_cast<unsigned long long>(umem->total_bytes / 1024), umem->rx_frames,
         umem->tx_frames);
    return std::unique_ptr<IoEngine>(std::move(engine));
  }
  std::string wanted;
  for (const Attempt& a : ladder) wanted += (wanted.empty() ? "" : ", then ") + std::string(a.name);
  return make_error(ExitCode::kUnavailable,
                    "AF_XDP: no bind mode worked (tried " + wanted + "); last: " + last_error);
}

}  // namespace anyscan
