#include "engine/io_engine.h"

#include "engine/af_packet/af_packet_engine.h"
#include "engine/af_xdp/af_xdp_engine.h"

namespace anyscan {

const std::vector<IoEngineInfo>& io_engines() {
  static const std::vector<IoEngineInfo> engines = {
      {EngineKind::kAfPacket, &AfPacketEngine::open},
      {EngineKind::kAfXdp, &AfXdpEngine::open},
  };
  return engines;
}

Result<std::unique_ptr<IoEngine>> open_io_engine(EngineKind kind, const EngineConfig& config) {
  for (const auto& info : io_engines())
    if (info.kind == kind) return info.open(config);
  return make_error(ExitCode::kSoftware,
                    "I/O engine " + std::string(engine_name(kind)) + " is not in the registry");
}

}  // namespace anyscan
