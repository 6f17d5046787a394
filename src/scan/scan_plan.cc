#include "scan/scan_plan.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include "base/log.h"
#include "host/netlink_client.h"
#include "probe/udp_payloads.h"
#include "scan/builtin_blocklist.h"
#include "scan/rate_limiter.h"
#include "target/target_parser.h"

namespace anyscan {

namespace {

constexpr uint32_t kMaxDefaultSenderThreads = 8;

// A -I, -w or -b file; with --ignore-invalid-hosts, lines that are not targets are skipped
// and counted in the log.
Result<AddressSet> read_list(const ScanConfig& config, const std::string& path) {
  uint64_t skipped = 0;
  auto set = load_target_file(path, config.ignore_invalid_hosts, &skipped);
  if (set && skipped != 0)
    logf(LogLevel::kWarn, "%s: skipped %llu lines that are not targets (--ignore-invalid-hosts)",
         path.c_str(), static_cast<unsigned long long>(skipped));
  return set;
}

// Which blocklist entry took the targets, and how to scan them anyway.
std::string all_excluded(const AddressSet& targets, const AddressSet& block, const ScanPlan& plan) {
  std::string why = "all " + count_text(targets.count()) + " target addresses are excluded";
  const AddressSet blocked = targets.intersect(block);
  if (blocked.empty()) return why + " by --restrict-to";
  const IpAddress first = blocked.ranges().front().first;
  for (const AddressRange& r : block.ranges())
    if (r.first <= first && first <= r.last) {
      why += " by the blocklist " + plan.blocklist_source + " (" + to_string(r.first) + "-" +
             to_string(r.last);
      break;
    }
  why += blocked.count() == targets.count() ? ")" : ", and the rest by --restrict-to)";
  return why +
         ": scan only networks you may scan; -b FILE names the blocklist (the IANA "
         "special-purpose ranges stay blocked beside it unless --allow-special-purpose; "
         "-b /dev/null: none)";
}

// The targets; `restricted` (when given) keeps the --restrict-to set, read once.
Result<AddressSet> listed_targets(const ScanConfig& config, AddressSet* restricted) {
  std::vector<AddressRange> ranges;
  for (const auto& text : config.targets) {
    auto parsed = parse_target(text);
    if (!parsed) return make_error(ExitCode::kUsage, parsed.error().message);
    for (size_t i = 0; i < parsed->count; ++i) ranges.push_back(parsed->ranges[i]);
  }
  AddressSet targets(std::move(ranges));
  if (!config.list_of_ips_file.empty()) {
    auto listed = read_list(config, config.list_of_ips_file);
    if (!listed) return tl::unexpected(with_context(listed.error(), "-I"));
    if (targets.empty())
      targets = std::move(*listed);  // a hitlist alone: no copy of it
    else
      targets.add(listed->ranges());
  }
  if (!config.allowlist_file.empty()) {  // zmap 4.x: alone the targets, else a union
    auto allow = read_list(config, config.allowlist_file);
    if (!allow) return tl::unexpected(with_context(allow.error(), "-w"));
    if (targets.empty())
      targets = std::move(*allow);
    else
      targets.add(allow->ranges());
  }
  if (!config.restrict_file.empty()) {
    auto allowed = read_list(config, config.restrict_file);
    if (!allowed) return tl::unexpected(with_context(allowed.error(), "--restrict-to"));
    targets = targets.intersect(*allowed);
    if (restricted != nullptr) *restricted = std::move(*allowed);
  }
  return targets;
}

Result<void> plan_seed(const ScanConfig& config, ScanPlan& plan) {
  if (config.seed) {
    plan.seed = *config.seed;
    plan.key = cookie_key_from_seed(plan.seed);
    return {};
  }
  uint64_t random[3];
  if (::getrandom(random, sizeof random, 0) != sizeof random)
    return make_error(ExitCode::kSoftware, errno_message("getrandom", errno));
  plan.seed = random[0];
  plan.key.words = {random[1], random[2]};
  return {};
}

// udp's payload table (--probe-args, --probe-payloads), read before anything of the host
// is asked, so a bad payload file fails first; null for the other modules.
Result<std::shared_ptr<const UdpPayloadTable>> plan_payloads(const ScanConfig& config) {
  if (config.probe_module != "udp") return nullptr;
  std::vector<std::string> notices;
  auto payloads = load_udp_payloads(config.probe_args, config.probe_payloads, &notices);
  if (!payloads) return tl::unexpected(payloads.error());
  for (const std::string& notice : notices) logf(LogLevel::kWarn, "%s", notice.c_str());
  return std::make_shared<const UdpPayloadTable>(std::move(*payloads));
}

void plan_probe(const ScanConfig& config, std::shared_ptr<const UdpPayloadTable> payloads,
                ScanPlan& plan) {
  ProbeParams params;
  params.udp_payloads = std::move(payloads);
  params.source_mac = plan.network.source_mac;
  params.gateway_mac = plan.network.gateway_mac;
  params.gateway6_mac = plan.network.gateway6_mac;
  params.source_ips = plan.network.source_ips;
  uint32_t first = config.source_port_first;
  uint32_t count = static_cast<uint32_t>(config.source_port_last - config.source_port_first + 1);
  // At least 1024 ports a shard (about ten bits of the cookie in the port), else they share.
  if (const uint32_t per = count / std::max(config.shards, 1u);
      config.shards > 1 && per >= std::max(config.probes, 1024u)) {
    first += config.shard * per;
    count = per;
  }
  plan.source_port_first = static_cast<uint16_t>(first);
  plan.source_port_count = static_cast<uint16_t>(count);
  params.source_port_first = plan.source_port_first;
  params.source_port_count = plan.source_port_count;
  params.probes_per_target = config.probes;
  params.ttl = config.probe_ttl;
  params.key = plan.key;
  plan.probe = plan.module_info->create(params);
}

// --aliased-prefixes: at most aliased_limit targets in each prefix, the rest left out.
Result<void> plan_aliased(const ScanConfig& config, ScanPlan& plan) {
  plan.aliased_limit = config.aliased_limit;  // --detect-aliases caps by it too
  if (config.aliased_prefixes_file.empty()) return {};
  auto list = load_prefix_list(config.aliased_prefixes_file);
  if (!list) return tl::unexpected(with_context(list.error(), "--aliased-prefixes"));
  plan.aliased = AliasedPrefixes(std::move(*list));
  const uint128_t before = plan.addresses.count() + plan.windows.count();
  const AddressSet extra = plan.aliased.over_limit(plan.addresses, plan.aliased_limit);
  if (!extra.empty()) plan.addresses = plan.addresses.minus(extra);
  const AddressSet extra_windows =
      plan.aliased.windows_over_limit(plan.windows, plan.window, plan.aliased_limit);
  if (!extra_windows.empty()) plan.windows = plan.windows.minus(extra_windows);
  const uint128_t left_out = before - plan.addresses.count() - plan.windows.count();
  plan.aliased_capped = left_out > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(left_out);
  logf(LogLevel::kInfo,
       "%zu aliased prefixes (%s): at most %llu targets in each, %s targets left out",
       plan.aliased.size(), config.aliased_prefixes_file.c_str(),
       static_cast<unsigned long long>(plan.aliased_limit), count_text(left_out).c_str());
  return {};
}

}  // namespace

std::string_view builtin_blocklist() { return kBuiltinBlocklist; }

Result<AddressSet> load_blocklist(const ScanConfig& config, std::string* source) {
  if (config.blocklist_file == kDefaultBlocklistFile &&
      ::access(kDefaultBlocklistFile, F_OK) != 0) {
    *source = "built-in (IANA special-purpose ranges)";
    logf(LogLevel::kDebug, "%s not found: using the built-in blocklist", kDefaultBlocklistFile);
    return parse_target_list(builtin_blocklist(), "built-in blocklist");
  }
  auto loaded = read_list(config, config.blocklist_file);
  if (!loaded) return tl::unexpected(with_context(loaded.error(), "-b"));
  *source = config.blocklist_file;
  // A list of the user's own does not silently drop the IANA special-purpose protections
  // (zmap's -b does): they stay blocked beside it, unless --allow-special-purpose, or the
  // list is /dev/null, the documented "no blocklist at all".
  if (config.blocklist_file != kDefaultBlocklistFile && config.blocklist_file != "/dev/null" &&
      !config.allow_special_purpose) {
    auto special = parse_target_list(builtin_blocklist(), "built-in blocklist");
    if (!special) return tl::unexpected(special.error());
    loaded->add(special->ranges());
    *source += " and the built-in IANA special-purpose ranges";
    logf(LogLevel::kDebug,
         "-b %s: the IANA special-purpose ranges stay blocked as well (--allow-special-purpose "
         "drops them, as zmap's -b does)",
         config.blocklist_file.c_str());
  }
  return loaded;
}

Result<void> plan_targets(const ScanConfig& config, ScanPlan& plan) {
  // What --detect-aliases must also stay within (kept only when it is asked for).
  AddressSet restricted;
  auto targets = listed_targets(config, config.detect_aliases != 0 ? &restricted : nullptr);
  if (!targets) return tl::unexpected(targets.error());
  auto block = load_blocklist(config, &plan.blocklist_source);
  if (!block) return tl::unexpected(block.error());
  if (!config.checkpoint_file.empty()) plan.blocklist = *block;
  const uint128_t before = targets->count();
  plan.window.length = config.prefix_window;
  plan.window.iid = config.iid;
  plan.window.fixed = config.iid_fixed;
  plan.window.key = plan.key.words;
  WindowedTargets split = split_into_windows(std::move(*targets), plan.window);
  plan.windows = windows_not_blocked(split.windows, *block, plan.window);
  if (block->empty()) {
    // -b /dev/null: nothing to take away, and a hitlist is not copied to find that out.
    plan.addresses = std::move(split.addresses);
  } else {
    plan.addresses = split.addresses.minus(*block);
    if (plan.addresses.empty() && plan.windows.empty() && !split.addresses.empty())
      return make_error(ExitCode::kDataErr, all_excluded(split.addresses, *block, plan));
    split.addresses = AddressSet();
  }
  if (plan.addresses.empty() && plan.windows.empty())
    return make_error(
        ExitCode::kDataErr,
        before == 0 ? "no target addresses"
                    : "every --prefix-window target is in the blocklist " + plan.blocklist_source);
  if (!plan.window.enabled() && before != plan.addresses.count())
    logf(LogLevel::kInfo, "%s of %s target addresses excluded by allowlist/blocklist",
         count_text(before - plan.addresses.count()).c_str(), count_text(before).c_str());
  if (plan.window.enabled())
    logf(LogLevel::kInfo, "prefix windows /%d: %s windows (%s excluded), %s single addresses",
         plan.window.length, count_text(plan.windows.count()).c_str(),
         count_text(split.windows.count() - plan.windows.count()).c_str(),
         count_text(plan.addresses.count()).c_str());
  if (auto capped = plan_aliased(config, plan); !capped) return capped;
  if (config.detect_aliases != 0) {  // what detection addresses must avoid, as the targets do
    plan.alias_forbidden = *block;
    if (!config.restrict_file.empty())
      plan.alias_forbidden.add(AddressSet::everything().minus(restricted).ranges());
  }
  plan.ports = plan.module_info->needs_ports ? PortSet(config.ports) : PortSet({0});
  // Every (address, port) has an index the permutation runs over: a space larger than it
  // can hold is refused, never wrapped.
  const uint128_t probed = plan.addresses.count() + plan.windows.count();
  const uint128_t space = probed * plan.ports.size();
  if (probed > IndexPermutation::kMaxSize || space > IndexPermutation::kMaxSize)
    return make_error(ExitCode::kUsage,
                      "the target space is " + count_text(probed) + " addresses x " +
                          std::to_string(plan.ports.size()) +
                          (plan.ports.size() == 1 ? " port = " : " ports = ") + count_text(space) +
                          " targets, more than the " + count_text(IndexPermutation::kMaxSize) +
                          " a scan can index: scan smaller prefixes" +
                          (plan.window.enabled() ? " or a shorter --prefix-window"
                                                 : ", or one address per sub-prefix with "
                                                   "--prefix-window LEN"));
  uint64_t limit = config.max_targets == 0 ? UINT64_MAX : config.max_targets;
  if (config.max_targets_ppm != 0) {  // -n P%: of this shard's targets, at least one
    const uint64_t mine =
        shard_slice(plan.target_count(), config.shard, config.shards, UINT64_MAX).count;
    // Rounded down as zmap does (0.0001% of 2^32 is 4294), without overflow; where that is
    // none, one (zmap's 0 would mean no limit at all).
    const uint64_t ppm = config.max_targets_ppm;
    limit = std::max<uint64_t>(1, mine / 1000000 * ppm + mine % 1000000 * ppm / 1000000);
  }
  plan.slice = shard_slice(plan.target_count(), config.shard, config.shards, limit);
  plan.max_targets = limit == UINT64_MAX ? 0 : limit;
  return {};
}

namespace {

// The first target of a family, whose route stands for all of that family's.
std::optional<IpAddress> first_of(const AddressSet& targets, IpFamily family) {
  for (const AddressRange& r : targets.ranges())
    if (r.first.family() == family) return r.first;
  return std::nullopt;
}

// The gateway MAC for one family's next hop: the neighbour table, else the kernel asked to
// resolve it (ARP or neighbour solicitation, by the kernel) and the table read again for up
// to kResolveMs. Never a broadcast or multicast fallback.
constexpr int kResolveMs = 3000;
Result<MacAddress> next_hop_mac(NetlinkClient& netlink, const InterfaceInfo& interface,
                                IpAddress next_hop, std::string* source) {
  auto mac = netlink.neighbour_mac(interface.ifindex, next_hop);
  if (!mac) return tl::unexpected(mac.error());
  std::string how = "neighbour table (" + to_string(next_hop) + ")";
  if (!*mac) {
    if (auto asked = netlink.request_neighbour(interface.ifindex, next_hop); asked) {
      for (int waited = 0; waited < kResolveMs && !*mac; waited += 20) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        mac = netlink.neighbour_mac(interface.ifindex, next_hop);
        if (!mac) return tl::unexpected(mac.error());
      }
      how = "resolved by the kernel (" + to_string(next_hop) + ")";
    } else {
      logf(LogLevel::kDebug, "%s", asked.error().message.c_str());
    }
  }
  if (!*mac)
    return make_error(ExitCode::kUnavailable,
                      "cannot find the gateway MAC: no neighbour entry for " + to_string(next_hop) +
                          " on " + interface.name + " (resolving it needs CAP_NET_ADMIN, or it " +
                          "did not answer within 3 s); pass -G/--gateway-mac (or ping " +
                          to_string(next_hop) + " once first)");
  *source = how;
  return **mac;
}

// One family's route and source addresses; the interface is the same for every family.
Result<void> plan_family(const ScanConfig& config, NetlinkClient& netlink, IpAddress first,
                         std::optional<InterfaceInfo>& interface, NetworkPlan& net) {
  const IpFamily family = first.family();
  const char* name = family == IpFamily::kIpv4 ? "IPv4" : "IPv6";
  std::optional<RouteInfo> route;
  if (interface) {
    if (auto r = netlink.route_to(first, interface->ifindex)) route = *r;
  } else {
    auto r = netlink.route_to(first);
    if (!r)
      return make_error(ExitCode::kUnavailable,
                        r.error().message + ": pass -i/--interface, -S and -G");
    route = *r;
    auto info = netlink.interface_by_index(route->ifindex);
    if (!info) return tl::unexpected(info.error());
    interface = *info;
  }
  if (route && route->ifindex != interface->ifindex && config.interface.empty())
    return make_error(ExitCode::kUnavailable, std::string("the ") + name +
                                                  " targets route through another interface than " +
                                                  interface->name +
                                                  ": one scan uses one interface (pass -i)");
  std::vector<IpAddress> given;
  for (IpAddress a : config.source_ips)
    if (a.family() == family) given.push_back(a);
  if (given.empty()) {
    if (route && route->preferred_source && route->preferred_source->family() == family) {
      given.push_back(*route->preferred_source);
    } else {
      for (IpAddress a : interface->addresses)
        if (a.family() == family) {
          given.push_back(a);
          break;
        }
    }
  }
  if (given.empty())
    return make_error(ExitCode::kUnavailable, "interface " + interface->name + " has no " + name +
                                                  " address for the " + name +
                                                  " targets: pass -S/--source-ip");
  net.source_ips.insert(net.source_ips.end(), given.begin(), given.end());
  if (link_has_no_header(interface->link_type)) {  // nothing to address frames to
    (family == IpFamily::kIpv4 ? net.gateway_source : net.gateway6_source) =
        "none (" + interface->name + " has no link-layer header)";
    return {};
  }
  if (config.gateway_mac) {
    (family == IpFamily::kIpv4 ? net.gateway_mac : net.gateway6_mac) = *config.gateway_mac;
    (family == IpFamily::kIpv4 ? net.gateway_source : net.gateway6_source) = "-G";
    return {};
  }
  // The next hop is the route's gateway, or for an on-link route the target itself.
  const IpAddress next_hop = route && route->gateway ? *route->gateway : first;
  std::string source;
  auto mac = next_hop_mac(netlink, *interface, next_hop, &source);
  if (!mac) return tl::unexpected(mac.error());
  (family == IpFamily::kIpv4 ? net.gateway_mac : net.gateway6_mac) = *mac;
  (family == IpFamily::kIpv4 ? net.gateway_source : net.gateway6_source) = source;
  return {};
}

}  // namespace

Result<NetworkPlan> plan_network(const ScanConfig& config, const AddressSet& targets) {
  NetworkPlan net;
  const std::optional<IpAddress> firsts[] = {first_of(targets, IpFamily::kIpv4),
                                             first_of(targets, IpFamily::kIpv6)};
  for (const auto& first : firsts) {
    if (!first) continue;
    bool have = false;
    for (IpAddress a : config.source_ips) have = have || a.family() == first->family();
    if (!have && !config.source_ips.empty())
      return make_error(ExitCode::kUsage, std::string("-S names no ") +
                                              (first->is_ipv4() ? "IPv4" : "IPv6") +
                                              " address, and the targets "
                                              "include " +
                                              (first->is_ipv4() ? "IPv4" : "IPv6") + " ones (" +
                                              to_string(*first) + ")");
  }
  const bool all_given = !config.interface.empty() && !config.source_ips.empty() &&
                         config.gateway_mac && config.source_mac;
  if (all_given && config.dryrun) {
    // A dry run with everything given needs no interface to exist (root-free tests).
    net.interface = config.interface;
    for (IpAddress a : config.source_ips)
      if ((a.is_ipv4() && firsts[0]) || (!a.is_ipv4() && firsts[1])) net.source_ips.push_back(a);
    net.source_ip = net.source_ips.front();
    net.source_mac = *config.source_mac;
    net.gateway_mac = net.gateway6_mac = *config.gateway_mac;
    net.gateway_source = net.gateway6_source = "-G";
    net.ip_layer = config.ip_layer;
    return net;
  }
  auto netlink = NetlinkClient::open();
  if (!netlink) return tl::unexpected(netlink.error());
  std::optional<InterfaceInfo> interface;
  if (!config.interface.empty()) {
    auto info = netlink->interface_by_name(config.interface);
    if (!info) return tl::unexpected(with_context(info.error(), "-i"));
    interface = *info;
  }
  for (const auto& first : firsts)
    if (first)
      if (auto planned = plan_family(config, *netlink, *first, interface, net); !planned)
        return tl::unexpected(planned.error());
  if (!interface->up) logf(LogLevel::kWarn, "interface %s is down", interface->name.c_str());
  net.interface = interface->name;
  net.ifindex = interface->ifindex;
  if (auto queues = interface_queues(interface->name)) {
    net.rx_queues = queues->rx;
    net.tx_queues = queues->tx;
  } else {
    logf(LogLevel::kWarn, "%s: assuming one receive and one transmit queue",
         queues.error().message.c_str());
  }
  net.source_ip = net.source_ips.front();
  net.source_mac = config.source_mac ? *config.source_mac : interface->mac;
  net.link_without_header = link_has_no_header(interface->link_type);
  net.ip_layer = config.ip_layer || net.link_without_header;
  if (net.link_without_header && !config.ip_layer)
    logf(LogLevel::kInfo, "%s has no link-layer header: sending IP packets (-X/--iplayer)",
         interface->name.c_str());
  if (net.source_mac.is_zero() && !net.link_without_header)
    return make_error(
        ExitCode::kUnavailable,
        "interface " + interface->name + " has no MAC address (not Ethernet?): pass --source-mac");
  return net;
}

void plan_threads(const ScanConfig& config, uint32_t cores, ScanPlan& plan) {
  const NetworkPlan& net = plan.network;
  cores = std::max(cores, 1u);
  if (plan.engine == EngineKind::kAfXdp && !config.dryrun) {
    // AF_XDP sends on one queue per thread; a queue that can both send and receive.
    uint32_t queues = std::min(net.tx_queues, net.rx_queues);
    if (config.xdp_queues != 0) queues = std::min(queues, config.xdp_queues);
    plan.sender_threads =
        config.sender_threads != 0 ? config.sender_threads : std::min(queues, cores);
    if (plan.sender_threads > queues) {
      logf(LogLevel::kInfo,
           "-T %u: af_xdp sends on one queue per thread and %s has %u usable: using %u sender "
           "threads",
           plan.sender_threads, net.interface.c_str(), queues, queues);
      plan.sender_threads = queues;
    }
    const uint32_t wanted =
        config.receiver_threads != 0 ? config.receiver_threads : std::min(net.rx_queues, cores);
    plan.receiver_threads = std::min(wanted, net.rx_queues);
    return;
  }
  // AF_PACKET sends on any queue (the kernel picks it per CPU): threads are a CPU choice.
  plan.sender_threads = config.sender_threads != 0 ? config.sender_threads
                                                   : std::min(cores, kMaxDefaultSenderThreads);
  plan.receiver_threads = 1;
  if (config.receiver_threads > 1)
    logf(LogLevel::kInfo,
         "--receiver-threads %u: af_packet receives every queue on one ring, with one thread",
         config.receiver_threads);
}

std::optional<uint64_t> ScanPlan::target_index_of(IpAddress saddr, uint16_t sport) const {
  auto address_index = addresses.index_of(saddr);
  if (!address_index && !windows.empty() && !saddr.is_ipv4()) {
    // A window's target answers from the one address its strategy picked, or it is not one.
    const uint128_t number = window.number_of(saddr);
    if (window.address(number) == saddr)
      if (const auto w = windows.index_of(IpAddress{number})) address_index = addresses.size() + *w;
  }
  const int32_t port_index = probe->uses_ports() ? ports.index_of(sport) : 0;
  if (!address_index || port_index < 0) return std::nullopt;
  return *address_index * ports.size() + static_cast<uint64_t>(port_index);
}

Result<ScanPlan> build_scan_plan(const ScanConfig& config, std::optional<SeedAndKey> resumed) {
  ScanPlan plan;
  plan.module_info = find_probe_module(config.probe_module);
  if (plan.module_info == nullptr)
    return make_error(ExitCode::kUsage, "unknown probe module " + config.probe_module);
  plan.engine = config.io_engine;
  auto payloads = plan_payloads(config);
  if (!payloads) return tl::unexpected(payloads.error());
  // The seed and key first: a window's random interface identifier is keyed by them.
  if (resumed) {
    plan.seed = resumed->seed;
    plan.key = resumed->key;
  } else if (auto seeded = plan_seed(config, plan); !seeded) {
    return tl::unexpected(seeded.error());
  }
  if (auto targets = plan_targets(config, plan); !targets) return tl::unexpected(targets.error());
  // The network facts of each family probed: a window stands for its address.
  AddressSet families = plan.addresses;
  if (!plan.windows.empty())
    families.add({AddressRange{plan.target_address(plan.addresses.size()),
                               plan.target_address(plan.addresses.size())}});
  auto network = plan_network(config, families);
  if (!network) return tl::unexpected(network.error());
  plan.network = std::move(*network);
  if (plan.engine == EngineKind::kAfXdp && plan.network.ip_layer && !config.dryrun)
    // Exit 69: the launcher runs the scan with af_packet instead, saying why.
    return make_error(
        ExitCode::kUnavailable,
        "af_xdp sends and receives Ethernet frames only, and " +
            (plan.network.link_without_header ? plan.network.interface + " has no link-layer header"
                                              : std::string("-X/--iplayer asks for IP packets")) +
            ": use --io-engine af_packet");
  plan_probe(config, std::move(*payloads), plan);
  plan.rate_pps = config.bandwidth_bps != 0
                      ? bandwidth_to_pps(config.bandwidth_bps, plan.probe->frame_bytes())
                      : config.rate_pps;
  plan_threads(config, std::thread::hardware_concurrency(), plan);
  return plan;
}

namespace {

// FNV-1a 64 over ranges, as bytes: an IPv4 range's two 32-bit ends (as every version wrote
// them, so a checkpoint of an IPv4 scan still resumes), an IPv6 one's (or a window
// number's) 128-bit ends.
uint64_t ranges_hash(const std::vector<AddressRange>& ranges) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const AddressRange& r : ranges)
    for (IpAddress v : {r.first, r.last})
      for (int shift = 0; shift < (v.is_ipv4() ? 32 : 128); shift += 8) {
        hash ^= static_cast<uint64_t>(v.value >> shift) & 0xFF;
        hash *= 0x100000001b3ULL;
      }
  return hash;
}

}  // namespace

ScanIdentity scan_identity(const ScanPlan& plan, const ScanConfig& config) {
  ScanIdentity id;
  const uint64_t hash = ranges_hash(plan.addresses.ranges());
  id.targets = checkpoint_hex64(hash) + "/" + std::to_string(plan.addresses.size());
  if (plan.window.enabled()) {  // the windows, and how each picks its address
    id.targets += " windows /" + plan.window.text() + " " +
                  checkpoint_hex64(ranges_hash(plan.windows.ranges())) + "/" +
                  std::to_string(plan.windows.size());
  }
  if (!plan.aliased.empty()) {  // which prefixes count as aliased, and the limit in each
    id.targets += " aliased " + checkpoint_hex64(ranges_hash(plan.aliased.prefixes())) + "/" +
                  std::to_string(plan.aliased.size()) + " limit " +
                  std::to_string(plan.aliased_limit);
  }
  if (config.detect_aliases != 0)  // the outcome is kept beside the checkpoint, not in it
    id.targets += " detect " + std::to_string(config.detect_aliases) + "/" +
                  std::to_string(config.alias_prefix_length) + " limit " +
                  std::to_string(config.aliased_limit);
  id.ports = plan.module_info->needs_ports ? format_ports(plan.ports) : "";
  id.module = plan.module_info->name;
  if (const std::string parameters = plan.probe->parameters(); !parameters.empty())
    id.module += " " + parameters;
  id.probes = config.probes;
  id.shard = std::to_string(config.shard) + "/" + std::to_string(config.shards);
  id.source_ports =
      std::to_string(config.source_port_first) + "-" + std::to_string(config.source_port_last);
  id.max_targets = plan.max_targets;
  id.output = config.output_format == OutputFormat::kJson ? "json:" : "csv:";
  for (size_t i = 0; i < config.output_fields.size(); ++i)
    id.output += (i ? "," : "") + std::string(output_field_name(config.output_fields[i]));
  // A filter changes what the file holds, so it is part of it too.
  if (!config.output_filter.empty()) id.output += " filter:" + config.output_filter;
  return id;
}

}  // namespace anyscan
