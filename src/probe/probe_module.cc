#include "probe/probe_module.h"

#include <algorithm>

#include "probe/icmp_echo_probe.h"
#include "probe/tcp_syn_probe.h"
#include "probe/udp_probe.h"

namespace anyscan {

SourceChoice::SourceChoice(const std::vector<IpAddress>& sources, const CookieKey& key)
    : salt_(key.words[0] ^ 0x5ca1ab1e5ca1ab1eULL) {
  for (const IpAddress& a : sources) {
    if (a.is_ipv4())
      v4_.push_back(a.ipv4());
    else
      v6_.push_back(a);
  }
  std::sort(v4_.begin(), v4_.end());
  v4_.erase(std::unique(v4_.begin(), v4_.end()), v4_.end());
  std::sort(v6_.begin(), v6_.end());
  v6_.erase(std::unique(v6_.begin(), v6_.end()), v6_.end());
  if (v4_.empty() && v6_.empty()) v4_.push_back(0);  // a module made without addresses (tests)
}

bool SourceChoice::contains(IpAddress address) const {
  if (address.is_ipv4()) return std::binary_search(v4_.begin(), v4_.end(), address.ipv4());
  return std::binary_search(v6_.begin(), v6_.end(), address);
}

void SourceChoice::fill_filter(ReplyFilterSpec& spec) const {
  spec.has_ipv4 = !v4_.empty();
  if (spec.has_ipv4) {
    spec.local_first = Ipv4Address{v4_.front()};
    spec.local_last = Ipv4Address{v4_.back()};
  }
  spec.has_ipv6 = !v6_.empty();
  if (spec.has_ipv6) {
    spec.local6_first = v6_.front();
    spec.local6_last = v6_.back();
  }
}

ReplyVerdict reply_ip_layer(const FrameView& view, const SourceChoice& sources, IpFrame* ip,
                            Reply* reply) {
  const FrameStatus status = parse_ip_frame(view.data, view.length, ip);
  if (status == FrameStatus::kNotIp || !sources.contains(ip->daddr))
    return ReplyVerdict::kUnrelated;
  if (status == FrameStatus::kOk) return ReplyVerdict::kValid;
  if (ip->family == IpFamily::kIpv4) return ReplyVerdict::kUnrelated;  // as IPv4 always was
  reply->invalid_reason = status == FrameStatus::kNonFirstFragment
                              ? InvalidReason::kNonFirstFragment
                              : InvalidReason::kHeaderChain;
  return ReplyVerdict::kInvalid;
}

const std::vector<ProbeModuleInfo>& probe_modules() {
  static const std::vector<ProbeModuleInfo> modules = {
      {"tcp_synscan", "TCP SYN to each (address, port), IPv4 or IPv6; SYN-ACK = open, RST = closed",
       true, &make_tcp_syn_probe},
      {"icmp_echoscan",
       "ICMP or ICMPv6 echo request to each address (also icmp6_echoscan); echo reply = up", false,
       &make_icmp_echo_probe},
      {"udp",
       "UDP datagram to each (address, port), payload by port (--probe-args, "
       "--probe-payloads), IPv4 or IPv6; reply = open, ICMP(v6) port unreachable = closed",
       true, &make_udp_probe},
  };
  return modules;
}

const ProbeModuleInfo* find_probe_module(std::string_view name) {
  // zmap's IPv6 forks call the echo module icmp6_echoscan; here one module does both.
  if (name == "icmp6_echoscan") name = "icmp_echoscan";
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
