#include "engine/io_engine.h"

#include "engine/af_packet/af_packet_engine.h"
#include "engine/af_xdp/af_xdp_engine.h"

namespace anyscan {

const std::vector<IoEngineInfo>& io_engines() {
  static const std::vector<IoEngineInfo> engines = {
      {"af_packet", &AfPacketEngine::open},
      {"af_xdp", &AfXdpEngine::open},
  };
  return engines;
}

Result<std::unique_ptr<IoEngine>> open_io_engine(std::string_view name, const EngineConfig& config) {
  for (const auto& info : io_engines())
    if (info.name == name) return info.open(config);
  return make_error(ExitCode::kUsage, "unknown I/O engine '" + std::string(name) + "' (known: af_packet, af_xdp)");
}

}  // namespace anyscan
