#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/af_xdp/umem_plan.h"
#include "engine/af_xdp/xdp_program.h"
#include "engine/af_xdp/xsk_queue.h"
#include "engine/io_engine.h"

namespace anyscan {

// AF_XDP: an XSK socket on every receive queue of the interface (RSS spreads replies over
// all of them), each with its own UMEM sized by plan_umem(); the first T of them also
// transmit, one sender thread each. Our own XDP program (embedded skeleton, attached
// through a bpf_link, so the kernel detaches it when the process dies however it dies)
// redirects only candidate replies to the sockets and counts, per queue, what it could
// not hand to one; all other traffic goes on to the kernel.
class AfXdpEngine final : public IoEngine {
 public:
  static Result<std::unique_ptr<IoEngine>> open(const EngineConfig& config);

  std::string_view name() const override { return engine_name(EngineKind::kAfXdp); }
  size_t sink_count() const override { return tx_queues_; }
  size_t source_count() const override { return queues_.size(); }
  PacketSink& sink(size_t index) override { return queues_[index]->sink(); }
  PacketSource& source(size_t index) override { return queues_[index]->source(); }
  std::vector<std::pair<std::string, uint64_t>> counters() override;
  EngineLoss loss() override;

  // What bound, e.g. "native, copy": for the log and tests.
  const std::string& bind_mode() const { return bind_mode_; }

  // One rung of the bind ladder: attach mode and whether to ask for zero-copy.
  struct Attempt {
    uint32_t xdp_flags;  // XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE
    bool zerocopy;
    const char* name;
  };

 private:
  explicit AfXdpEngine(XdpProgram program) : program_(std::move(program)) {}
  Result<void> bind_queues(const EngineConfig& config, const Attempt& attempt, int* bind_errno);

  // Acquisition order: program (and its link), then the queues. Destruction runs
  // backwards: sockets and UMEMs first, then the program is detached.
  XdpProgram program_;
  UmemPlan umem_;
  std::vector<std::unique_ptr<XskQueue>> queues_;
  size_t tx_queues_ = 0;
  std::string bind_mode_;
  // The driver's XDP features (base/xdp_features.h); nullopt where the kernel cannot say.
  std::optional<uint64_t> nic_features_;
};

}  // namespace anyscan
