#pragma once

#include <memory>
#include <vector>

#include "engine/af_packet/af_packet_sink.h"
#include "engine/af_packet/af_packet_source.h"
#include "engine/io_engine.h"

namespace anyscan {

// One send socket per sender thread, one filtered receive ring.
class AfPacketEngine final : public IoEngine {
 public:
  static Result<std::unique_ptr<IoEngine>> open(const EngineConfig& config);

  std::string_view name() const override { return engine_name(EngineKind::kAfPacket); }
  size_t sink_count() const override { return sinks_.size(); }
  size_t source_count() const override { return sources_.size(); }
  PacketSink& sink(size_t queue) override { return *sinks_[queue]; }
  PacketSource& source(size_t queue) override { return *sources_[queue]; }

 private:
  std::vector<std::unique_ptr<AfPacketSink>> sinks_;
  std::vector<std::unique_ptr<AfPacketSource>> sources_;
};

}  // namespace anyscan
