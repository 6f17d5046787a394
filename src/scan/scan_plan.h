#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "cli/scan_config.h"
#include "engine/engine_kind.h"
#include "net/ip_address.h"
#include "net/mac_address.h"
#include "probe/probe_module.h"
#include "probe/validation_cookie.h"
#include "store/checkpoint.h"
#include "target/address_set.h"
#include "target/aliased_prefixes.h"
#include "target/index_permutation.h"
#include "target/port_set.h"
#include "target/prefix_windows.h"

namespace anyscan {

// Where and how the probes leave: the interface and the addresses on both ends.
struct NetworkPlan {
  std::string interface;
  int ifindex = 0;
  uint32_t rx_queues = 1;             // active receive queues (ETHTOOL_GCHANNELS)
  uint32_t tx_queues = 1;             // active transmit queues
  IpAddress source_ip;                // the first of source_ips
  std::vector<IpAddress> source_ips;  // every probe goes out from one of these of its family
  MacAddress source_mac;
  // The next hop's MAC for IPv4 targets and for IPv6 targets (the routers may differ).
  MacAddress gateway_mac;
  std::string gateway_source;  // "-G", "neighbour table (198.18.0.1)", ...
  MacAddress gateway6_mac;
  std::string gateway6_source;
  // Probes leave as IP packets (-X/--iplayer, or an interface with no link-layer header):
  // the engine sends them on a cooked socket (the kernel writes whatever link header the
  // interface has, from the frame's destination MAC) and hands replies over from their IP
  // header. `link_without_header`: the interface has none (no MACs needed at all).
  bool ip_layer = false;
  bool link_without_header = false;
};

// Everything a validated ScanConfig resolves to, decided once before anything is opened:
// the exact target space, the network facts, the probe module, rate and threads. Built by
// build_scan_plan() and only read after that.
struct ScanPlan {
  AddressSet addresses;  // (targets [∩ allowlist]) − blocklist, probed one by one
  // --prefix-window: the whole /LEN sub-prefixes of the targets, as window numbers, each one
  // target (window.address(number)); empty without the option. Their indexes follow the
  // addresses'.
  AddressSet windows;
  WindowSpec window;
  // --aliased-prefixes: at most aliased_limit targets in each; results in them flagged.
  AliasedPrefixes aliased;
  uint64_t aliased_limit = 0;
  uint64_t aliased_capped = 0;  // targets (addresses and windows) the limit left out
  // --detect-aliases (scan/alias_detection.h): what the scan may not probe besides its own
  // targets (blocklist, and outside --restrict-to), kept for the detection's addresses; the
  // prefixes found, and the targets beyond --aliased-limit in them, which the senders skip
  // (the target space stays as planned, so shards and resumes keep their positions).
  AddressSet alias_forbidden;
  AliasedPrefixes detected;
  AddressSet skip_addresses, skip_windows;  // skip_windows: window numbers
  uint64_t detected_capped = 0;             // targets (x ports) skipped in the whole scan
  uint64_t detection_probes = 0;            // addresses the detection probed (0: kept outcome)
  uint64_t detection_replies = 0;
  PortSet ports;  // the module's ports; a module without ports: the pseudo-port 0
  uint64_t seed = 0;
  CookieKey key;
  std::string blocklist_source;  // file name, or "built-in" when the default file is absent
  // The blocklist itself, kept when the scan is checkpointed: a resume plans with the list
  // the scan started with (kept beside the checkpoint), so positions stay what they were.
  AddressSet blocklist;
  ShardSlice slice{0, 1, 0};  // this shard's positions of the permutation (-n applied)
  // The source ports this run's probes leave from: -s, or with several shards the shard's
  // own part of it, so shards on one host have disjoint reply filters (an AF_XDP program
  // takes the frames its rule matches from whatever runs after it).
  uint16_t source_port_first = 0;
  uint16_t source_port_count = 0;

  NetworkPlan network;
  const ProbeModuleInfo* module_info = nullptr;
  std::shared_ptr<const ProbeModule> probe;  // immutable; shared by every thread

  EngineKind engine = EngineKind::kAfPacket;
  uint32_t sender_threads = 1;
  uint32_t receiver_threads = 1;
  uint64_t rate_pps = 0;     // resolved from -r/-B; 0 = unlimited
  uint64_t max_targets = 0;  // resolved from -n N or -n P%; 0 = all

  // Addresses probed: one by one, then one per window (at most IndexPermutation::kMaxSize).
  uint64_t address_count() const { return addresses.size() + windows.size(); }
  uint64_t target_count() const { return address_count() * ports.size(); }
  // The address with index `index` < address_count().
  IpAddress target_address(uint64_t index) const {
    return index < addresses.size() ? addresses.at(index)
                                    : window.address(windows.at(index - addresses.size()).value);
  }
  // Whether the senders skip the address with index `index` (a detected alias over the limit).
  bool skipped(uint64_t index) const {
    return index < addresses.size() ? skip_addresses.contains(addresses.at(index))
                                    : skip_windows.contains(windows.at(index - addresses.size()));
  }
  bool has_skips() const { return !skip_addresses.empty() || !skip_windows.empty(); }
  // Whether a result's address is in an aliased prefix (listed or detected).
  bool is_aliased(IpAddress address) const {
    return (!aliased.empty() && aliased.contains(address)) ||
           (!detected.empty() && detected.contains(address));
  }
  // The target a reply or a result names: address index x ports + port index (the port
  // ignored by modules without ports); nullopt for an address or port this scan does not
  // probe. The receiver and a resume's reload must agree on it: both ask here.
  std::optional<uint64_t> target_index_of(IpAddress saddr, uint16_t sport) const;
};

// Resolves everything: targets and lists, ports, seed and key, interface and addresses
// (rtnetlink, ethtool), the probe module, rate and thread counts. Opens nothing that
// outlives the call. Errors name the option or file at fault.
// `resumed`: the seed and key of the scan a checkpoint records (a resume keeps them, so the
// replies to probes of the interrupted run still validate).
struct SeedAndKey {
  uint64_t seed;
  CookieKey key;
};
Result<ScanPlan> build_scan_plan(const ScanConfig& config,
                                 std::optional<SeedAndKey> resumed = std::nullopt);

// The parts, exposed for tests. Targets, ports, allowlist and blocklist (CLI target errors
// are kUsage; file errors kDataErr).
Result<void> plan_targets(const ScanConfig& config, ScanPlan& plan);
// Interface, source addresses/MAC and gateway MACs for each family `targets` holds: from
// the flags, else rtnetlink (a missing neighbour entry is asked of the kernel, NTF_USE, and
// waited for). Never falls back to broadcast or multicast: a gateway MAC that cannot be
// found is an error naming -G.
Result<NetworkPlan> plan_network(const ScanConfig& config, const AddressSet& targets);
// Sender and receiver threads for the engine and the interface's queues.
void plan_threads(const ScanConfig& config, uint32_t cores, ScanPlan& plan);

// The identity of the scan a plan and its configuration describe (what a checkpoint and a
// shard merge compare).
ScanIdentity scan_identity(const ScanPlan& plan, const ScanConfig& config);

// The blocklist -b names (the built-in ranges when the default file is absent; beside a list
// of the user's own unless --allow-special-purpose or /dev/null); *source says which, for
// the log and the metadata. What the start and a reload (scan/opt_out.h) both read.
Result<AddressSet> load_blocklist(const ScanConfig& config, std::string* source);

// The IANA special-purpose ranges compiled in from etc/blocklist.conf.
std::string_view builtin_blocklist();

}  // namespace anyscan
