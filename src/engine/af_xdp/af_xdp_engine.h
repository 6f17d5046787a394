#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/io_engine.h"

namespace anyscan {

// AF_XDP: one XSK socket per (interface, queue), each with its own UMEM (half its frames
// feed the fill ring for receiving, half carry probes), fill/completion/RX/TX rings and
// XDP_USE_NEED_WAKEUP. Our own XDP program (embedded skeleton, attached through a
// bpf_link, so the kernel detaches it when the process dies however it dies) redirects
// only candidate replies to the sockets; all other traffic goes on to the kernel.
class AfXdpEngine final : public IoEngine {
 public:
  static Result<std::unique_ptr<IoEngine>> open(const EngineConfig& config);
  ~AfXdpEngine() override;

  std::string_view name() const override { return "af_xdp"; }
  size_t sink_count() const override;
  size_t source_count() const override;
  PacketSink& sink(size_t queue) override;
  PacketSource& source(size_t queue) override;
  std::vector<std::pair<std::string, uint64_t>> counters() override;

  // What bound, e.g. "native, copy": for the log and tests.
  const std::string& bind_mode() const { return bind_mode_; }

  struct Program;
  struct Queue;

 private:
  AfXdpEngine() = default;

  // Acquisition order: program and its link, then the queues (each: UMEM, then socket).
  // Destruction runs backwards: sockets, UMEMs, then the program is detached.
  std::unique_ptr<Program> program_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::string bind_mode_;
};

}  // namespace anyscan
