#include "probe/probe_module.h"

#include <algorithm>

#include "probe/icmp_echo_probe.h"
#include "probe/tcp_syn_probe.h"
#include "probe/udp_probe.h"

namespace anyscan {

SourceChoice::SourceChoice(const std::vector<Ipv4Address>& sources, const CookieKey& key)
    : salt_(key.words[0] ^ 0x5ca1ab1e5ca1ab1eULL) {
  for (const Ipv4Address& a : sources) sources_.push_back(a.value);
  std::sort(sources_.begin(), sources_.end());
  sources_.erase(std::unique(sources_.begin(), sources_.end()), sources_.end());
  if (sources_.empty()) sources_.push_back(0);  // a module made without addresses (tests)
}

bool SourceChoice::contains(uint32_t address) const {
  return std::binary_search(sources_.begin(), sources_.end(), address);
}

const std::vector<ProbeModuleInfo>& probe_modules() {
  static const std::vector<ProbeModuleInfo> modules = {
      {"tcp_synscan", "TCP SYN to each (address, port); SYN-ACK = open, RST = closed", true,
       &make_tcp_syn_probe},
      {"icmp_echoscan", "ICMP echo request to each address; echo reply = up", false,
       &make_icmp_echo_probe},
      {"udp",
       "UDP datagram to each (address, port), payload by port (--probe-args, "
       "--probe-payloads); reply = open, ICMP port unreachable = closed",
       true, &make_udp_probe},
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
