#include "engine/af_packet/af_packet_engine.h"

namespace anyscan {

Result<std::unique_ptr<IoEngine>> AfPacketEngine::open(const EngineConfig& config) {
  auto engine = std::make_unique<AfPacketEngine>();
  // Receive first: no reply to the first probe can arrive before the ring exists.
  auto source =
      AfPacketSource::open(config.ifindex, config.interface, config.filter, config.ip_layer);
  if (!source) return tl::unexpected(source.error());
  engine->sources_.push_back(std::move(*source));
  for (uint32_t i = 0; i < config.sender_threads; ++i) {
    auto sink = AfPacketSink::open(config.ifindex, config.interface, config.retries,
                                   config.frame_bytes, config.ip_layer);
    if (!sink) return tl::unexpected(sink.error());
    engine->sinks_.push_back(std::move(*sink));
  }
  return std::unique_ptr<IoEngine>(std::move(engine));
}

}  // namespace anyscan
