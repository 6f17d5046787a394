#include "probe/probe_module.h"

#include "probe/icmp_echo_probe.h"
#include "probe/tcp_syn_probe.h"

namespace anyscan {

const std::vector<ProbeModuleInfo>& probe_modules() {
  static const std::vector<ProbeModuleInfo> modules = {
      {"tcp_synscan", "TCP SYN to each (address, port); SYN-ACK = open, RST = closed",
       &make_tcp_syn_probe},
      {"icmp_echoscan", "ICMP echo request to each address; echo reply = up", &make_icmp_echo_probe},
  };
  return modules;
}

Result<std::unique_ptr<ProbeModule>> make_probe_module(std::string_view name,
                                                       const ProbeParams& params) {
  for (const auto& info : probe_modules())
    if (info.name == name) return info.create(params);
  std::string known;
  for (const auto& info : probe_modules()) known += (known.empty() ? "" : ", ") + std::string(info.name);
  return make_error(ExitCode::kUsage, "unknown probe module '" + std::string(name) + "' (known: " + known + ")");
}

}  // namespace anyscan
