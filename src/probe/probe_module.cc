#include "probe/probe_module.h"

#include "probe/icmp_echo_probe.h"
#include "probe/tcp_syn_probe.h"

namespace anyscan {

const std::vector<ProbeModuleInfo>& probe_modules() {
  static const std::vector<ProbeModuleInfo> modules = {
      {"tcp_synscan", "TCP SYN to each (address, port); SYN-ACK = open, RST = closed", true,
       &make_tcp_syn_probe},
      {"icmp_echoscan", "ICMP echo request to each address; echo reply = up", false,
       &make_icmp_echo_probe},
  };
  return modules;
}

const ProbeModuleInfo* find_probe_module(std::string_view name) {
  for (const auto& info : probe_modules())
    if (info.name == name) return &info;
  return nullptr;
}

std::string probe_module_names(std::string_view separator) {
  std::string names;
  for (const auto& info : probe_modules())
    names += (names.empty() ? "" : std::string(separator)) + std::string(info.name);
  return names;
}

Result<std::unique_ptr<ProbeModule>> make_probe_module(std::string_view name,
                                                       const ProbeParams& params) {
  if (const ProbeModuleInfo* info = find_probe_module(name)) return info->create(params);
  return make_error(ExitCode::kUsage, "unknown probe module '" + std::string(name) +
                                          "' (known: " + probe_module_names(", ") + ")");
}

}  // namespace anyscan
