#include "scan/scan_plan.h"

#include <sys/random.h>
#include <unistd.h>

#include <thread>

#include "base/log.h"
#include "scan/builtin_blocklist.h"
#include "target/target_parser.h"

namespace anyscan {

std::string_view builtin_blocklist() { return kBuiltinBlocklist; }

Result<ScanPlan> plan_targets(const ScanConfig& config) {
  ScanPlan plan;
  std::vector<AddressRange> ranges;
  for (const auto& text : config.targets) {
    auto range = parse_target(text);
    if (!range) return make_error(ExitCode::kUsage, range.error().message);
    ranges.push_back(*range);
  }
  AddressSet targets(std::move(ranges));
  if (!config.list_of_ips_file.empty()) {
    auto listed = load_target_file(config.list_of_ips_file);
    if (!listed) return tl::unexpected(with_context(listed.error(), "-I"));
    for (const auto& r : listed->ranges()) targets.add(r);
  }
  if (!config.allowlist_file.empty()) {
    auto allow = load_target_file(config.allowlist_file);
    if (!allow) return tl::unexpected(with_context(allow.error(), "-w"));
    targets = targets.intersect(*allow);
  }
  AddressSet block;
  if (config.blocklist_file == kDefaultBlocklistFile && ::access(kDefaultBlocklistFile, F_OK) != 0) {
    block = *parse_target_list(builtin_blocklist(), "built-in blocklist");
    plan.blocklist_source = "built-in (IANA special-purpose ranges)";
    logf(LogLevel::kDebug, "%s not found: using the built-in blocklist", kDefaultBlocklistFile);
  } else {
    auto loaded = load_target_file(config.blocklist_file);
    if (!loaded) return tl::unexpected(with_context(loaded.error(), "-b"));
    block = std::move(*loaded);
    plan.blocklist_source = config.blocklist_file;
  }
  const uint64_t before = targets.size();
  plan.addresses = targets.minus(block);
  if (plan.addresses.empty())
    return make_error(ExitCode::kDataErr, before == 0 ? "no target addresses"
                                                      : "all " + std::to_string(before) + " target addresses are excluded by the blocklist " +
                                                            plan.blocklist_source + " or allowlist");
  if (before != plan.addresses.size())
    logf(LogLevel::kInfo, "%llu of %llu target addresses excluded by allowlist/blocklist",
         static_cast<unsigned long long>(before - plan.addresses.size()), static_cast<unsigned long long>(before));

  if (config.probe_module == "tcp_synscan") {
    auto ports = parse_ports(config.ports);
    if (!ports) return tl::unexpected(ports.error());
    plan.ports = std::move(*ports);
  } else {
    plan.ports = PortSet({0});
  }
  if (plan.target_count() / plan.ports.size() != plan.addresses.size() || plan.target_count() > (uint64_t{1} << 62))
    return make_error(ExitCode::kUsage, "target space too large");

  if (config.seed) {
    plan.seed = *config.seed;
    plan.key = cookie_key_from_seed(plan.seed);
  } else {
    uint64_t random[3];
    if (::getrandom(random, sizeof random, 0) != sizeof random)
      return make_error(ExitCode::kSoftware, errno_message("getrandom", errno));
    plan.seed = random[0];
    plan.key.words = {random[1], random[2]};
  }
  return plan;
}

Result<void> plan_network(const ScanConfig& config, ScanPlan& plan) {
  const Ipv4Address first_target{plan.addresses.at(0)};
  const bool all_given = !config.interface.empty() && config.source_ip && config.gateway_mac && config.source_mac;
  if (all_given && config.dryrun) {
    // A dry run with everything given needs no interface to exist (root-free tests).
    plan.interface = config.interface;
    plan.source_ip = *config.source_ip;
    plan.source_mac = *config.source_mac;
    plan.gateway_mac = *config.gateway_mac;
    plan.gateway_source = "-G";
    return {};
  }
  auto netlink = NetlinkClient::open();
  if (!netlink) return tl::unexpected(netlink.error());
  InterfaceInfo interface;
  std::optional<RouteInfo> route;
  if (!config.interface.empty()) {
    auto info = netlink->interface_by_name(config.interface);
    if (!info) return tl::unexpected(with_context(info.error(), "-i"));
    interface = *info;
    auto r = netlink->route_to(first_target, interface.ifindex);
    if (r) route = *r;
  } else {
    auto r = netlink->route_to(first_target);
    if (!r) return make_error(ExitCode::kUnavailable, r.error().message + ": pass -i/--interface, -S and -G");
    route = *r;
    auto info = netlink->interface_by_index(route->ifindex);
    if (!info) return tl::unexpected(info.error());
    interface = *info;
  }
  if (!interface.up) logf(LogLevel::kWarn, "interface %s is down", interface.name.c_str());
  plan.interface = interface.name;
  plan.ifindex = interface.ifindex;
  plan.interface_queues = active_rx_queues(interface.name);

  if (config.source_ip) plan.source_ip = *config.source_ip;
  else if (route && route->preferred_source) plan.source_ip = *route->preferred_source;
  else if (!interface.addresses.empty()) plan.source_ip = interface.addresses.front();
  else return make_error(ExitCode::kUnavailable, "interface " + interface.name + " has no IPv4 address: pass -S/--source-ip");

  plan.source_mac = config.source_mac ? *config.source_mac : interface.mac;
  if (plan.source_mac.is_zero())
    return make_error(ExitCode::kUnavailable, "interface " + interface.name + " has no MAC address (not Ethernet?): pass --source-mac");

  if (config.gateway_mac) {
    plan.gateway_mac = *config.gateway_mac;
    plan.gateway_source = "-G";
    return {};
  }
  // The next hop is the route's gateway, or for an on-link route the target itself.
  const Ipv4Address next_hop = route && route->gateway ? *route->gateway : first_target;
  auto mac = netlink->neighbour_mac(interface.ifindex, next_hop);
  if (!mac) return tl::unexpected(mac.error());
  if (!*mac)
    return make_error(ExitCode::kUnavailable,
                      "cannot find the gateway MAC: no neighbour entry for " + to_string(next_hop) + " on " +
                          interface.name + "; pass -G/--gateway-mac (or ping " + to_string(next_hop) + " once first)");
  plan.gateway_mac = **mac;
  plan.gateway_source = "neighbour table (" + to_string(next_hop) + ")";
  return {};
}

}  // namespace anyscan
