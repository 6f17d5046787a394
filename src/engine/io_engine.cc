#include "engine/io_engine.h"

#include "engine/af_packet/af_packet_engine.h"

namespace anyscan {

const std::vector<IoEngineInfo>& io_engines() {
  static const std::vector<IoEngineInfo> engines = {
      {"af_packet", &AfPacketEngine::open},
  };
  return engines;
}

Result<std::unique_ptr<IoEngine>> open_io_engine(std::string_view name, const EngineConfig& config) {
  for (const auto& info : io_engines())
    if (info.name == name) return info.open(config);
  if (name == "af_xdp")  // a known engine this build lacks: unavailable (69), so the launcher falls back
    return make_error(ExitCode::kUnavailable, "AF_XDP engine: not available in this build of anyscan");
  return make_error(ExitCode::kUsage, "unknown I/O engine '" + std::string(name) + "' (known: af_packet, af_xdp)");
}

}  // namespace anyscan
