#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/dryrun/dryrun_engine.h"
#include "engine/engine_kind.h"
#include "engine/io_engine.h"
#include "net/ip_address.h"
#include "net/mac_address.h"
#include "output/output_field.h"
#include "target/prefix_windows.h"

namespace anyscan {

inline constexpr const char* kDefaultBlocklistFile = "/etc/anyscan/blocklist.conf";
inline constexpr uint64_t kDefaultRatePps = 10000;  // zmap's default
inline constexpr uint32_t kDefaultCooldownSeconds = 8;
inline constexpr uint16_t kDefaultSourcePortFirst = 32768;  // zmap's default range
inline constexpr uint16_t kDefaultSourcePortLast = 61000;
inline constexpr uint32_t kDefaultRetries = 10;
inline constexpr uint32_t kMaxShards = 65535;

enum class OutputFormat { kCsv, kJson };
enum class ConfigAction {
  kScan,
  kHelp,
  kVersion,
  kListProbeModules,
  kListOutputFields,
  kListOutputModules
};

// Every scan option, as parsed from -C FILE then the command line. Validated once by
// validate_config(), then treated as immutable.
struct ScanConfig {
  ConfigAction action = ConfigAction::kScan;

  std::vector<std::string> targets;  // positional / ANYSCAN_TARGETS
  std::string list_of_ips_file;
  // -w: zmap 4.x's rules: alone, the targets; with targets, added to them (a union).
  // --restrict-to: only addresses in FILE are probed (targets ∩ FILE; what -w did before).
  std::string allowlist_file;
  std::string restrict_file;
  std::string blocklist_file = kDefaultBlocklistFile;
  // A custom -b FILE keeps the IANA special-purpose ranges blocked as well (zmap's -b drops
  // them silently); --allow-special-purpose drops them, as zmap does. -b /dev/null is the
  // explicit "no blocklist at all".
  bool allow_special_purpose = false;
  std::vector<uint16_t> ports;  // sorted, unique; parsed once from -p

  std::string interface;
  // -S: one address, a range a-b or a comma list of both (sorted, at most 256); empty: the
  // route's preferred source.
  std::vector<IpAddress> source_ips;  // -S, of either family
  // --prefix-window LEN (0: off) and --iid: IPv6 sub-prefixes as targets (target/prefix_windows.h).
  int prefix_window = 0;
  // --aliased-prefixes FILE and --aliased-limit K (target/aliased_prefixes.h).
  std::string aliased_prefixes_file;
  uint64_t aliased_limit = 3;
  // --detect-aliases N (0: off; a power of two up to 16) and --alias-prefix-length L.
  uint32_t detect_aliases = 0;
  int alias_prefix_length = 64;
  IidStrategy iid = IidStrategy::kLow;
  uint128_t iid_fixed = 0;
  std::optional<MacAddress> gateway_mac;
  std::optional<MacAddress> source_mac;
  // -X/--iplayer: probes leave as IP packets (a cooked AF_PACKET socket), for interfaces
  // without a link-layer header (WireGuard, tun, ipip); an interface without one implies it.
  bool ip_layer = false;
  uint16_t source_port_first = kDefaultSourcePortFirst;
  uint16_t source_port_last = kDefaultSourcePortLast;

  uint64_t rate_pps = kDefaultRatePps;  // 0 = as fast as possible
  uint64_t bandwidth_bps = 0;           // if set, overrides rate_pps
  bool rate_given = false;

  uint64_t max_targets = 0;  // 0 = no limit
  uint64_t max_results = 0;
  uint64_t max_runtime_s = 0;
  uint32_t cooldown_s = kDefaultCooldownSeconds;
  uint32_t probes = 1;
  uint32_t retries = kDefaultRetries;

  std::string output_file = "-";
  OutputFormat output_format = OutputFormat::kCsv;
  std::vector<OutputField> output_fields = default_output_fields();
  bool all_output_fields = false;  // -f '*': every field of the probe module (resolved at the end)
  std::string metadata_file;
  std::string status_file;
  std::string checkpoint_file;  // --checkpoint-file: "" = none
  bool resume = false;          // --resume: continue what checkpoint_file records
  std::string run_directory;    // --run-directory: per-run files, resumed after a restart
  uint32_t keep_runs = 10;      // --keep-runs: runs kept in run_directory

  std::optional<uint64_t> seed;
  uint32_t shards = 1;
  uint32_t shard = 0;
  uint32_t sender_threads = 0;    // 0 = default (one per queue, at most the cores)
  uint32_t receiver_threads = 0;  // 0 = default (one per receive queue, at most the cores)

  std::string probe_module = "tcp_synscan";  // a name in probe_modules(), checked when parsed
  // udp: one payload for every port (zmap's --probe-args text:..|hex:..|file:..), and a
  // payload file over the built-in table (--probe-payloads). Syntax checked when parsed.
  std::string probe_args;
  std::string probe_payloads;
  EngineKind io_engine = EngineKind::kAfPacket;
  XdpMode xdp_mode = XdpMode::kAuto;
  XdpZeroCopy xdp_zerocopy = XdpZeroCopy::kAuto;
  uint32_t xdp_queues = 0;  // 0 = all

  bool dryrun = false;
  DryrunFormat dryrun_format = DryrunFormat::kZmap;

  // After setup (anyscan(8), SECURITY): as root, the account the scan continues as; and
  // whether its system-call filter is installed (--no-seccomp: only for debugging).
  std::string user = "nobody";
  bool no_seccomp = false;

  // zmap's options of the same meaning.
  std::string output_filter;       // --output-filter expression ("" = write every result)
  uint32_t max_targets_ppm = 0;    // -n N%: a share of the shard's targets, in millionths
  uint64_t max_send_failures = 0;  // --max-sendto-failures: 0 = no limit
  // --metrics-file FILE (store/metrics_file.h), its job label and how often it is written.
  std::string metrics_file;
  std::string metrics_job;  // default: the run directory's name, else "anyscan"
  uint32_t metrics_interval_s = 5;
  bool no_header_row = false;  // --no-header-row: CSV without its header line (zmap's)
  // -l/--log-file FILE, -L/--log-directory DIR (zmap's): log there instead of stderr.
  std::string log_file, log_directory;
  bool ignore_invalid_hosts = false;  // --ignore-invalid-hosts: skip bad lines of -b/-w/-I
  std::string notes;                  // --notes: into the metadata
  std::string user_metadata;          // --user-metadata: a JSON value, into the metadata
  std::vector<uint32_t> cores;        // --cores: sender thread i runs on cores[i % size]
  uint8_t probe_ttl = 255;            // --probe-ttl: IP TTL of the probes

  bool quiet = false;
  int verbosity = 3;
  std::string config_file;
  // Options the -C file set (long name -> "FILE:LINE"), so that a cross-option error among
  // them names the file and line; a flag on the command line takes its option out.
  std::map<std::string, std::string> from_config_file;
};

}  // namespace anyscan
