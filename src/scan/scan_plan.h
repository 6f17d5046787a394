#pragma once

#include <string>

#include "base/result.h"
#include "host/netlink_client.h"
#include "probe/validation_cookie.h"
#include "scan/scan_config.h"
#include "target/address_set.h"
#include "target/port_set.h"

namespace anyscan {

// What a validated ScanConfig resolves to: the exact target space and the network facts.
struct ScanPlan {
  AddressSet addresses;     // (targets [∩ allowlist]) − blocklist
  PortSet ports;            // tcp: the ports; icmp: the single pseudo-port 0
  uint64_t seed = 0;
  CookieKey key;
  std::string blocklist_source;  // file name, or "built-in" when the default file is absent

  std::string interface;
  int ifindex = 0;
  uint32_t interface_queues = 1;
  Ipv4Address source_ip;
  MacAddress source_mac;
  MacAddress gateway_mac;
  std::string gateway_source;  // "-G", "neighbour table (gateway 198.18.0.1)", ...

  uint32_t sender_threads = 1;
  uint64_t rate_pps = 0;  // resolved from -r/-B; 0 = unlimited

  uint64_t target_count() const { return addresses.size() * ports.size(); }
};

// Targets, ports, allowlist and blocklist. CLI target errors are kUsage; file errors kDataErr.
Result<ScanPlan> plan_targets(const ScanConfig& config);
// Interface, source address/MAC and gateway MAC: from the flags, else rtnetlink. Never
// falls back to broadcast: a missing gateway MAC is an error naming -G.
Result<void> plan_network(const ScanConfig& config, ScanPlan& plan);

// The IANA special-purpose ranges compiled in from etc/blocklist.conf.
std::string_view builtin_blocklist();

}  // namespace anyscan
