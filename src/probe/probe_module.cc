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

std::vector<std::string_view> probe_module_names() {
  std::vector<std::string_view> names;
  for (const auto& info : probe_modules()) names.push_back(info.name);
  return names;
}

Result<std::unique_ptr<ProbeModule>> make_probe_module(std::string_view name,
                                                       const ProbeParams& params) {
  if (const ProbeModuleInfo* info = find_probe_module(name)) return info->create(params);
  std::string known;
  for (std::string_view n : probe_module_names())
    known += (known.empty() ? "" : ", ") + std::string(n);
  return make_error(ExitCode::kUsage,
                    "unknown probe module '" + std::string(name) + "' (known: " + known + ")");
}

}  // namespace anyscan
