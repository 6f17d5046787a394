#include "cli/scan_options.h"

#include <getopt.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "base/either.h"
#include "base/env_file.h"
#include "base/parse_number.h"
#include "output/json_check.h"
#include "output/output_filter.h"
#include "probe/probe_module.h"
#include "probe/udp_payloads.h"
#include "target/port_set.h"
#include "target/prefix_windows.h"
#include "target/target_parser.h"

namespace anyscan {
namespace {

using Apply = Result<void> (*)(ScanConfig&, std::string_view);

tl::unexpected<Error> bad(std::string_view value, const std::string& what) {
  std::string shown(value.substr(0, 64));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return make_error(ExitCode::kUsage, "'" + shown + "': " + what);
}

// The option as the user typed it, for an error: getopt reports a long option by the code
// it has in the table (1000 + index), a short one by its letter, an unknown long one not at
// all (then the argument itself, without any "=VALUE", with control bytes shown as '?').
std::string typed_option(int code, char* const argv[], int next);

Result<uint64_t> number(std::string_view value, uint64_t max, const char* what) {
  auto n = parse_decimal(value, max);
  if (!n) return bad(value, std::string("expected ") + what + " (0-" + std::to_string(max) + ")");
  return *n;
}

Result<bool> boolean(std::string_view value) {
  if (value.empty() || value == "1" || value == "true" || value == "yes" || value == "on")
    return true;
  if (value == "0" || value == "false" || value == "no" || value == "off") return false;
  return bad(value, "expected true or false (also yes/no, on/off, 1/0)");
}

template <class T>
Result<void> assign_number(T& field, std::string_view value, uint64_t max, const char* what) {
  auto n = number(value, max, what);
  if (!n) return tl::unexpected(n.error());
  field = static_cast<T>(*n);
  return {};
}

Result<void> set_flag(bool& field, std::string_view value) {
  auto b = boolean(value);
  if (!b) return tl::unexpected(b.error());
  field = *b;
  return {};
}

// -S: "a", "a-b" or a comma list of both, as zmap takes them, of either family (IPv6 for
// IPv6 targets): sorted, no duplicates, at most 256 of each family, the IPv6 ones within one
// /96 (the kernel filters compare the first 96 bits and a range of the last 32).
Result<std::vector<IpAddress>> parse_source_addresses(std::string_view text) {
  std::vector<IpAddress> all;
  auto usage = [](const std::string& why) { return make_error(ExitCode::kUsage, why); };
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const size_t dash = item.find('-');
    const auto first = parse_ip(item.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_ip(item.substr(dash + 1));
    if (!first || !last || last->value < first->value || first->family() != last->family())
      return usage("expected an address, a range a-b of one family or a list a,b" +
                   std::string(!first  ? ": " + first.error().message
                               : !last ? ": " + last.error().message
                                       : ""));
    if (last->value - first->value >= kMaxSourceAddresses)
      return usage("more than 256 source addresses");
    for (uint128_t a = first->value; a <= last->value; ++a) all.push_back(IpAddress{a});
    if (all.size() > 8 * kMaxSourceAddresses)  // before sorting: a bound on the work
      return usage("more than 256 source addresses");
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::optional<IpAddress> first6;
  size_t v4 = 0, v6 = 0;
  for (IpAddress a : all) {
    if (a.is_ipv4()) {
      ++v4;
      continue;
    }
    ++v6;
    if (!first6) first6 = a;
    if ((a.value >> 32) != (first6->value >> 32))
      return usage("IPv6 source addresses must share their first 96 bits (" + to_string(*first6) +
                   " and " + to_string(a) + " do not)");
  }
  if (v4 > kMaxSourceAddresses || v6 > kMaxSourceAddresses)
    return usage("more than 256 source addresses");
  return all;
}

// --prefix-window and xmap's --max-len.
Result<void> apply_prefix_window(ScanConfig& c, std::string_view v) {
  auto n = parse_decimal(v, 128);
  if (!n || *n == 0) return bad(v, "expected a prefix length 1-128, e.g. 64");
  c.prefix_window = static_cast<int>(*n);
  return {};
}

// Shared by an option and its zmap name (--output-module, --blacklist-file, ...).
Result<void> apply_output_format(ScanConfig& c, std::string_view v) {
  if (v == "csv")
    c.output_format = OutputFormat::kCsv;
  else if (v == "json")
    c.output_format = OutputFormat::kJson;
  else if (v == "zgrab2") {  // zgrab2's input: ip,domain,tag,port, no header
    c.output_format = OutputFormat::kCsv;
    c.output_fields = {OutputField::kSaddr, OutputField::kEmpty, OutputField::kEmpty,
                       OutputField::kSport};
    // The open ports only, unless a --output-filter (given after -O) says otherwise.
    if (c.output_filter.empty()) c.output_filter = "success = 1";
  } else
    return bad(v, "expected csv, json or zgrab2 (see --list-output-modules)");
  return {};
}

Result<void> apply_list_of_ips(ScanConfig& c, std::string_view v) {
  c.list_of_ips_file = std::string(v);
  return {};
}

Result<void> apply_blocklist_file(ScanConfig& c, std::string_view v) {
  c.blocklist_file = std::string(v);
  return {};
}

Result<void> apply_allowlist_file(ScanConfig& c, std::string_view v) {
  c.allowlist_file = std::string(v);
  return {};
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == ',' || text[i] == '\n'))
      ++i;
    const size_t start = i;
    while (i < text.size() &&
           !(text[i] == ' ' || text[i] == '\t' || text[i] == ',' || text[i] == '\n'))
      ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

const std::vector<OptionSpec> kOptions = {
    {"targets", 0, "LIST",
     "targets (CIDR, a.b.c.d-e.f.g.h or single address), as positional arguments or this key",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       c.targets = split_words(v);
       // Checked here, so that a configuration file's bad target names its file and line.
       for (const std::string& target : c.targets)
         if (auto range = parse_target(target); !range) return tl::unexpected(range.error());
       return {};
     }},
    {"target-ports", 'p', "PORTS", "ports to probe: 22,80,8000-8100 (required for tcp_synscan)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto ports = parse_ports(v);
       if (!ports) return tl::unexpected(ports.error());
       c.ports = ports->ports();
       return {};
     }},
    {"list-of-ips", 'I', "FILE", "read targets from FILE, one per line ('#' comments)",
     &apply_list_of_ips},
    {"list-of-ips-file", 0, "FILE", "zmap 4.x's name for -I/--list-of-ips", &apply_list_of_ips},
    {"allowlist-file", 'w', "FILE",
     "addresses to scan, as zmap 4.x takes them: alone, the targets; with targets, added to "
     "them (see --restrict-to for an intersection)",
     &apply_allowlist_file},
    {"restrict-to", 0, "FILE",
     "probe only addresses in FILE: the targets (and -w) intersected with it, a safety net "
     "for jobs and tests",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       c.restrict_file = std::string(v);
       return {};
     }},
    {"blocklist-file", 'b', "FILE",
     "never scan addresses in FILE (default /etc/anyscan/blocklist.conf; /dev/null for none)",
     &apply_blocklist_file},
    {"rate", 'r', "PPS",
     "total send rate in packets/s across all threads; 0 = as fast as possible (default 10000)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = parse_si_count(v, uint64_t{1} << 40);
       if (!n) return bad(v, "expected packets per second, e.g. 10000 or 1M");
       c.rate_pps = *n;
       c.rate_given = true;
       return {};
     }},
    {"bandwidth", 'B', "BPS", "total send rate in bits/s (suffixes k, M, G); overrides --rate",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = parse_si_count(v, uint64_t{1} << 50);
       if (!n || *n == 0) return bad(v, "expected bits per second, e.g. 100M or 1G");
       c.bandwidth_bps = *n;
       return {};
     }},
    {"interface", 'i', "NAME", "interface to scan on (default: the route to the first target)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v.empty() || v.size() > 15 || v.find('/') != std::string_view::npos)
         return bad(v, "not an interface name");
       c.interface = std::string(v);
       return {};
     }},
    {"source-ip", 'S', "ADDRS",
     "source address, or several as a-b or a,b,c (at most 256; each target is probed from "
     "one of them); default: the route's preferred source",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto addresses = parse_source_addresses(v);
       if (!addresses) return bad(v, addresses.error().message);
       c.source_ips = std::move(*addresses);
       return {};
     }},
    {"gateway-mac", 'G', "MAC",
     "MAC address frames are sent to (default: the gateway's, from the neighbour table)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto m = parse_mac(v);
       if (!m || m->is_zero() || m->is_broadcast() || (m->bytes[0] & 1))
         return bad(v, "expected a unicast MAC address aa:bb:cc:dd:ee:ff");
       c.gateway_mac = *m;
       return {};
     }},
    {"iplayer", 'X', nullptr,
     "send IP packets, not Ethernet frames (WireGuard, tun and other L3 interfaces; implied "
     "on an interface without a link-layer header); af_packet only",
     [](ScanConfig& c, std::string_view v) { return set_flag(c.ip_layer, v); }},
    {"source-mac", 0, "MAC", "source MAC address (default: the interface's)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto m = parse_mac(v);
       if (!m || m->is_zero() || (m->bytes[0] & 1))
         return bad(v, "expected a unicast MAC address aa:bb:cc:dd:ee:ff");
       c.source_mac = *m;
       return {};
     }},
    {"source-port", 's', "PORTS",
     "source-port range for probes, FIRST-LAST or one port (default 32768-61000)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       const size_t dash = v.find('-');
       auto first = parse_decimal(v.substr(0, dash), 65535);
       auto last =
           dash == std::string_view::npos ? first : parse_decimal(v.substr(dash + 1), 65535);
       if (!first || !last || *first == 0 || *last < *first)
         return bad(v, "expected a port range FIRST-LAST within 1-65535");
       c.source_port_first = static_cast<uint16_t>(*first);
       c.source_port_last = static_cast<uint16_t>(*last);
       return {};
     }},
    {"max-targets", 'n', "N|P%",
     "probe at most N (address, port) targets of this shard, or P percent of them",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (!v.empty() && v.back() == '%') {
         auto ppm = parse_percent_ppm(v.substr(0, v.size() - 1));
         if (!ppm || *ppm == 0) return bad(v, "expected a share above 0% and up to 100%");
         c.max_targets_ppm = *ppm;
         c.max_targets = 0;
         return {};
       }
       c.max_targets_ppm = 0;
       return assign_number(c.max_targets, v, UINT64_MAX, "a count");
     }},
    {"max-results", 'N', "N",
     "stop after N results that match --output-filter (without one: N open/up results, "
     "as zmap)",
     [](ScanConfig& c, std::string_view v) {
       return assign_number(c.max_results, v, UINT64_MAX, "a count");
     }},
    {"max-runtime", 't', "SECONDS", "stop sending after SECONDS",
     [](ScanConfig& c, std::string_view v) {
       return assign_number(c.max_runtime_s, v, uint64_t{1} << 32, "seconds");
     }},
    {"cooldown-time", 'c', "SECONDS", "keep receiving this long after sending ends (default 8)",
     [](ScanConfig& c, std::string_view v) {
       return assign_number(c.cooldown_s, v, 86400, "seconds");
     }},
    {"probes", 'P', "N", "probes sent to each target (default 1)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = number(v, 255, "probes per target");
       if (!n || *n == 0) return bad(v, "expected 1-255 probes per target");
       c.probes = static_cast<uint32_t>(*n);
       return {};
     }},
    {"retries", 0, "N", "retries of a failed send before the frame counts as failed (default 10)",
     [](ScanConfig& c, std::string_view v) {
       return assign_number(c.retries, v, 1000000, "a count");
     }},
    {"output-file", 'o', "FILE", "write results to FILE ('-' = stdout, the default)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v.empty()) return bad(v, "empty file name");
       c.output_file = std::string(v);
       return {};
     }},
    {"output-format", 'O', "FORMAT", "csv (default) or json (JSON lines)", &apply_output_format},
    {"output-fields", 'f', "FIELDS",
     "comma-separated result fields (default saddr,sport,classification,success,ttl,timestamp)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto fields = parse_output_fields(v);
       if (!fields) return tl::unexpected(fields.error());
       c.output_fields = *fields;
       c.all_output_fields = v == "*";
       return {};
     }},
    {"output-filter", 0, "EXPR",
     "write only results EXPR matches, zmap's language: \"success = 1 && repeat = 0\" is zmap's "
     "default (anyscan's: every result)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto filter = OutputFilter::parse(v);
       if (!filter) return tl::unexpected(filter.error());
       c.output_filter = std::string(v);
       return {};
     }},
    {"metadata-file", 'm', "FILE", "write a JSON summary of the scan to FILE at the end",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       c.metadata_file = std::string(v);
       return {};
     }},
    {"status-updates-file", 'u', "FILE", "append a CSV status record to FILE every second",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       c.status_file = std::string(v);
       return {};
     }},
    {"checkpoint-file", 0, "FILE",
     "record progress in FILE (atomically, every second and at exit) so --resume can continue",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       c.checkpoint_file = std::string(v);
       return {};
     }},
    {"resume", 0, nullptr,
     "continue the scan --checkpoint-file records (a fresh start if FILE does not exist)",
     [](ScanConfig& c, std::string_view v) { return set_flag(c.resume, v); }},
    {"run-directory", 0, "DIR",
     "a job's directory: each run writes DIR/RUNTIME.csv|json and .meta.json (DIR/latest is "
     "the newest), checkpoints in DIR/checkpoint and resumes an unfinished run",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v.empty()) return bad(v, "expected a directory");
       c.run_directory = std::string(v);
       return {};
     }},
    {"keep-runs", 0, "N", "with --run-directory: keep the newest N runs' files (default 10)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = number(v, 100000, "a count");
       if (!n || *n == 0) return bad(v, "expected a run count 1-100000");
       c.keep_runs = static_cast<uint32_t>(*n);
       return {};
     }},
    {"seed", 'e', "N", "seed for the target order (and validation key): same seed, same order",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = number(v, UINT64_MAX, "a 64-bit number");
       if (!n) return tl::unexpected(n.error());
       c.seed = *n;
       return {};
     }},
    {"shards", 0, "N",
     "split the scan into N disjoint shards (run one per host with the same seed)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = number(v, kMaxShards, "a shard count");
       if (!n || *n == 0) return bad(v, "expected 1-65535 shards");
       c.shards = static_cast<uint32_t>(*n);
       return {};
     }},
    {"shard", 0, "I", "which shard this instance scans, 0-based",
     [](ScanConfig& c, std::string_view v) {
       return assign_number(c.shard, v, kMaxShards - 1, "a shard index");
     }},
    {"sender-threads", 'T', "N", "sender threads (default: one per queue, at most the cores)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = number(v, 64, "a thread count");
       if (!n || *n == 0) return bad(v, "expected 1-64 threads");
       c.sender_threads = static_cast<uint32_t>(*n);
       return {};
     }},
    {"receiver-threads", 0, "N",
     "receiver threads, each serving some of the receive queues (default: one per queue, at most "
     "the cores)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = number(v, 64, "a thread count");
       if (!n || *n == 0) return bad(v, "expected 1-64 threads");
       c.receiver_threads = static_cast<uint32_t>(*n);
       return {};
     }},
    {"probe-module", 'M', "NAME", "probe module (default tcp_synscan; see --list-probe-modules)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (find_probe_module(v) == nullptr)
         return bad(v, "expected " + either(probe_module_names()));
       c.probe_module = std::string(v);
       return {};
     }},
    {"probe-args", 0, "PAYLOAD",
     "udp: one payload for every port, text:STRING, hex:BYTES or file:PATH (as zmap's)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v.rfind("file:", 0) != 0)  // a file is read when the scan is planned
         if (auto payload = parse_udp_payload(v, false); !payload)
           return bad(v, payload.error().message);
       c.probe_args = std::string(v);
       return {};
     }},
    {"probe-payloads", 0, "FILE",
     "udp: per-port payloads over the built-in table, one 'PORT[-PORT] PAYLOAD' per line",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v.empty()) return bad(v, "expected a file name");
       c.probe_payloads = std::string(v);
       return {};
     }},
    {"io-engine", 0, "ENGINE", "packet I/O engine (default af_packet)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       const auto kind = engine_kind(v);
       if (!kind) return bad(v, "expected " + either(engine_names()));
       c.io_engine = *kind;
       return {};
     }},
    {"xdp-mode", 0, "MODE", "AF_XDP attach mode: auto (default), native or skb",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v == "auto")
         c.xdp_mode = XdpMode::kAuto;
       else if (v == "native")
         c.xdp_mode = XdpMode::kNative;
       else if (v == "skb")
         c.xdp_mode = XdpMode::kSkb;
       else
         return bad(v, "expected auto, native or skb");
       return {};
     }},
    {"xdp-zerocopy", 0, "WHEN", "AF_XDP zero-copy: auto (default), force or off",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v == "auto")
         c.xdp_zerocopy = XdpZeroCopy::kAuto;
       else if (v == "force")
         c.xdp_zerocopy = XdpZeroCopy::kForce;
       else if (v == "off")
         c.xdp_zerocopy = XdpZeroCopy::kOff;
       else
         return bad(v, "expected auto, force or off");
       return {};
     }},
    {"xdp-queues", 0, "N|all",
     "AF_XDP transmit queues (default all, one per sender thread); every receive queue is always "
     "bound",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v == "all") {
         c.xdp_queues = 0;
         return {};
       }
       auto n = number(v, 1024, "a queue count");
       if (!n || *n == 0) return bad(v, "expected a queue count 1-1024 or 'all'");
       c.xdp_queues = static_cast<uint32_t>(*n);
       return {};
     }},
    {"dryrun", 'd', nullptr, "build every frame but send nothing; print the frames to stdout",
     [](ScanConfig& c, std::string_view v) { return set_flag(c.dryrun, v); }},
    {"dryrun-format", 0, "FORMAT",
     "zmap (default: zmap 4.x's block per probe), text (summary + hex per frame), pcap "
     "(binary, for tcpdump -r -) or targets (one ADDRESS,PORT line per probe)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v == "zmap")
         c.dryrun_format = DryrunFormat::kZmap;
       else if (v == "text")
         c.dryrun_format = DryrunFormat::kText;
       else if (v == "pcap")
         c.dryrun_format = DryrunFormat::kPcap;
       else if (v == "targets")
         c.dryrun_format = DryrunFormat::kTargets;
       else
         return bad(v, "expected zmap, text, pcap or targets");
       return {};
     }},
    {"metrics-file", 0, "FILE",
     "Prometheus metrics for node_exporter's textfile collector, replaced every "
     "--metrics-interval seconds and at the end (e.g. /var/lib/prometheus/node-exporter/"
     "anyscan.prom)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v.empty() || v.back() == '/') return bad(v, "expected a file name");
       c.metrics_file = std::string(v);
       return {};
     }},
    {"metrics-job", 0, "NAME",
     "the metrics' job label (default: the run directory's name, else anyscan)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v.empty() || v.size() > 128 || v.find_first_of("\"\\\n") != std::string_view::npos)
         return bad(v, "expected a name of 1-128 characters without quotes or backslashes");
       c.metrics_job = std::string(v);
       return {};
     }},
    {"metrics-interval", 0, "SECONDS", "how often --metrics-file is replaced (default 5)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = number(v, 3600, "seconds");
       if (!n || *n == 0) return bad(v, "expected 1-3600 seconds");
       c.metrics_interval_s = static_cast<uint32_t>(*n);
       return {};
     }},
    {"allow-special-purpose", 0, nullptr,
     "with -b FILE: do not keep the IANA special-purpose ranges blocked beside FILE (zmap's -b)",
     [](ScanConfig& c, std::string_view v) { return set_flag(c.allow_special_purpose, v); }},
    {"no-header-row", 0, nullptr, "CSV results without the header line (zmap's)",
     [](ScanConfig& c, std::string_view v) { return set_flag(c.no_header_row, v); }},
    {"log-file", 'l', "FILE", "write log lines to FILE (created or emptied) instead of stderr",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v.empty()) return bad(v, "expected a file name");
       c.log_file = std::string(v);
       return {};
     }},
    {"log-directory", 'L', "DIR",
     "write log lines to DIR/anyscan-YYYY-MM-DDTHHMMSS+ZZZZ.log instead of stderr",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v.empty()) return bad(v, "expected a directory");
       c.log_directory = std::string(v);
       return {};
     }},
    {"disable-syslog", 0, nullptr,
     "accepted for zmap: anyscan never logs to syslog (the journal only under the launcher)",
     [](ScanConfig&, std::string_view v) -> Result<void> {
       bool ignored = false;
       return set_flag(ignored, v);
     }},
    {"validate-source-port", 0, "enable",
     "accepted for zmap with 'enable', what anyscan always does (the cookie covers the port)",
     [](ScanConfig&, std::string_view v) -> Result<void> {
       if (v == "enable") return {};
       return bad(v,
                  "anyscan always validates the source port (its cookie covers it): only "
                  "'enable' is taken");
     }},
    {"dedup-method", 0, "full",
     "accepted for zmap with 'full' or 'default': anyscan's dedup is always exact",
     [](ScanConfig&, std::string_view v) -> Result<void> {
       if (v == "full" || v == "default") return {};
       return bad(v,
                  "anyscan's dedup is always exact ('full'): every result is reported once, "
                  "'none' and 'window' are not offered");
     }},
    {"vpn", 0, nullptr, "zmap 2.x's name for -X/--iplayer",
     [](ScanConfig& c, std::string_view v) { return set_flag(c.ip_layer, v); }},
    {"ignore-blocklist-errors", 0, nullptr, "zmap 4.x's name for --ignore-invalid-hosts",
     [](ScanConfig& c, std::string_view v) { return set_flag(c.ignore_invalid_hosts, v); }},
    {"notes", 0, "TEXT", "a note stored in the metadata (\"notes\")",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v.size() > 4096) return bad(v, "longer than 4096 bytes");
       c.notes = std::string(v);
       return {};
     }},
    {"user-metadata", 0, "JSON", "a JSON value stored in the metadata (\"user_metadata\")",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v.size() > 65536) return bad(v, "longer than 65536 bytes");
       if (auto json = check_json(v); !json) return bad(v, json.error().message);
       c.user_metadata = std::string(v);
       return {};
     }},
    {"max-sendto-failures", 0, "N",
     "end the scan (exit 74) once more than N probes could not be sent (default: no limit)",
     [](ScanConfig& c, std::string_view v) {
       return assign_number(c.max_send_failures, v, UINT64_MAX, "a count");
     }},
    {"ignore-invalid-hosts", 0, nullptr,
     "skip (and count) lines of -I, -w and -b files that are not targets, instead of exit 65",
     [](ScanConfig& c, std::string_view v) { return set_flag(c.ignore_invalid_hosts, v); }},
    {"cores", 0, "LIST", "run sender thread i on core LIST[i mod n] (e.g. 0,2 or 0-3)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto cores = parse_ports(v);  // the same "a,b-c" list, each 0-65535
       if (!cores || cores->ports().empty() || cores->ports().back() >= 4096)
         return bad(v, "expected core numbers 0-4095, e.g. 0,2 or 0-3");
       c.cores.assign(cores->ports().begin(), cores->ports().end());
       return {};
     }},
    {"probe-ttl", 0, "N", "IP TTL of the probes, 1-255 (default 255)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = number(v, 255, "a TTL");
       if (!n || *n == 0) return bad(v, "expected a TTL 1-255");
       c.probe_ttl = static_cast<uint8_t>(*n);
       return {};
     }},
    {"prefix-window", 'x', "LEN",
     "IPv6: each whole /LEN sub-prefix of the targets is one target, the address --iid picks "
     "(a /32 at 64: 2^32 targets); addresses outside whole /LEN blocks are probed one by one",
     &apply_prefix_window},
    {"max-len", 0, "LEN", "xmap's name for --prefix-window", &apply_prefix_window},
    {"iid", 0, "STRATEGY",
     "the interface identifier of a --prefix-window target: low (::1, default), random (keyed "
     "per sub-prefix by the seed) or fixed:IID (e.g. fixed:::53)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       WindowSpec spec;
       if (auto parsed = parse_iid(v, spec); !parsed) return bad(v, parsed.error().message);
       c.iid = spec.iid;
       c.iid_fixed = spec.fixed;
       return {};
     }},
    {"aliased-prefixes", 0, "FILE",
     "prefixes where every address answers (plain, xz or gzip; the IPv6 Hitlist Service's "
     "aliased-prefixes list): at most --aliased-limit targets in each, their results flagged "
     "aliased",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       c.aliased_prefixes_file = std::string(v);
       return {};
     }},
    {"aliased-limit", 0, "K", "targets probed in each aliased prefix (default 3)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = parse_decimal(v, uint64_t{1} << 32);
       if (!n || *n == 0) return bad(v, "expected a count of at least 1");
       c.aliased_limit = *n;
       return {};
     }},
    {"detect-aliases", 0, "N",
     "before the scan, probe N keyed-random addresses (1, 2, 4, 8 or 16) in each /64 holding an "
     "IPv6 target; where all N answer the prefix counts as aliased (--aliased-limit applies, "
     "results flagged)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = parse_decimal(v, 16);
       if (!n || *n == 0 || (*n & (*n - 1)) != 0)
         return bad(v, "expected 1, 2, 4, 8 or 16 addresses per prefix");
       c.detect_aliases = static_cast<uint32_t>(*n);
       return {};
     }},
    {"alias-prefix-length", 0, "L", "the prefix length --detect-aliases tests (default 64)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       auto n = parse_decimal(v, 124);
       if (!n || *n < 16) return bad(v, "expected a prefix length from 16 to 124");
       c.alias_prefix_length = static_cast<int>(*n);
       return {};
     }},
    {"output-module", 0, "FORMAT", "zmap's name for --output-format (csv or json)",
     &apply_output_format},
    {"blacklist-file", 0, "FILE", "zmap's name for --blocklist-file", &apply_blocklist_file},
    {"whitelist-file", 0, "FILE", "zmap's name for --allowlist-file", &apply_allowlist_file},
    {"user", 0, "NAME",
     "started as root: the account the scan runs as once its sockets and files are open "
     "(default nobody)",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       if (v.empty() || v.size() > 64 || v.find_first_of(":/\n") != std::string_view::npos)
         return bad(v, "expected a user name");
       c.user = std::string(v);
       return {};
     }},
    {"no-seccomp", 0, nullptr,
     "no system-call filter while the scan runs (for debugging; it is on by default)",
     [](ScanConfig& c, std::string_view v) { return set_flag(c.no_seccomp, v); }},
    {"quiet", 'q', nullptr, "no progress line on the terminal",
     [](ScanConfig& c, std::string_view v) { return set_flag(c.quiet, v); }},
    {"verbosity", 'v', "N", "log level 0 (fatal) to 5 (trace); default 3",
     [](ScanConfig& c, std::string_view v) { return assign_number(c.verbosity, v, 5, "a level"); }},
    {"config", 'C', "FILE",
     "read options from a KEY=VALUE file (ANYSCAN_<OPTION>=value); flags override it",
     [](ScanConfig& c, std::string_view v) -> Result<void> {
       c.config_file = std::string(v);
       return {};
     }},
    {"list-probe-modules", 0, nullptr, "list probe modules and exit",
     [](ScanConfig& c, std::string_view) -> Result<void> {
       c.action = ConfigAction::kListProbeModules;
       return {};
     }},
    {"list-output-fields", 0, nullptr, "list output fields and exit",
     [](ScanConfig& c, std::string_view) -> Result<void> {
       c.action = ConfigAction::kListOutputFields;
       return {};
     }},
    {"list-output-modules", 0, nullptr, "list output formats (-O) and exit",
     [](ScanConfig& c, std::string_view) -> Result<void> {
       c.action = ConfigAction::kListOutputModules;
       return {};
     }},
    {"help", 'h', nullptr, "show this help and exit",
     [](ScanConfig& c, std::string_view) -> Result<void> {
       c.action = ConfigAction::kHelp;
       return {};
     }},
    {"version", 'V', nullptr, "show the version and exit",
     [](ScanConfig& c, std::string_view) -> Result<void> {
       c.action = ConfigAction::kVersion;
       return {};
     }},
};

// Options that make no sense in a file (they act, rather than configure).
bool file_allowed(const OptionSpec& option) {
  static const char* const kCliOnly[] = {"config",
                                         "help",
                                         "version",
                                         "list-probe-modules",
                                         "list-output-fields",
                                         "list-output-modules"};
  for (const char* name : kCliOnly)
    if (std::strcmp(option.long_name, name) == 0) return false;
  return true;
}

// zmap options anyscan does not have, and why: refused by name, never as "unknown".
struct ZmapOnly {
  const char* name;  // long name, or a short letter
  const char* why;
};
constexpr ZmapOnly kZmapOnly[] = {
    {"batch", "anyscan sizes its send batches to the engine's rings itself"},
    {"fast-dryrun", "use --dryrun, with --dryrun-format pcap for a compact form"},
    {"netmap-wait-ping", "anyscan has no netmap engine (af_packet and af_xdp)"},
    {"output-args", "the csv and json formats take no arguments"},
    {"min-hitrate", "anyscan does not stop on a low hit rate"},
    {"dedup-window-size", "anyscan's dedup is always exact (--dedup-method full), no window"},
    {"summary", "the metadata (-m) holds the summary"},
    {"g", "the metadata (-m) holds the summary (zmap's -g/--summary)"},
};

// "--probe-args is a zmap option anyscan does not have: why", for a typed "--probe-args=x".
std::optional<std::string> zmap_only(std::string typed) {
  typed = typed.substr(0, typed.find('='));
  const std::string name = typed.rfind("--", 0) == 0              ? typed.substr(2)
                           : typed.size() == 2 && typed[0] == '-' ? typed.substr(1)
                                                                  : std::string();
  for (const ZmapOnly& z : kZmapOnly)
    if (name == z.name)
      return typed + " is a zmap option anyscan does not have: " + z.why +
             " (anyscan(8), DIFFERENCES FROM ZMAP)";
  return std::nullopt;
}

std::string flag_name(const OptionSpec& option) {
  std::string name = "--" + std::string(option.long_name);
  if (option.short_name != 0) name = "-" + std::string(1, option.short_name) + "/" + name;
  return name;
}

}  // namespace

const std::vector<OptionSpec>& option_table() { return kOptions; }

std::string config_key(const OptionSpec& option) {
  std::string key = "ANYSCAN_";
  for (const char* p = option.long_name; *p != '\0'; ++p)
    key += *p == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
  return key;
}

std::string usage_text() {
  std::string text =
      "Usage: anyscan [OPTIONS] [TARGET ...]\n"
      "Stateless IPv4 port scanner. TARGETs are CIDRs (198.18.0.0/24), ranges\n"
      "(198.18.0.1-198.18.0.9) or addresses. Example: anyscan -p 443 198.18.0.0/24\n\nOptions:\n";
  for (const auto& option : kOptions) {
    if (std::strcmp(option.long_name, "targets") == 0) continue;  // positional on the command line
    std::string left = "  ";
    left += option.short_name ? std::string("-") + option.short_name + ", " : std::string("    ");
    left += "--" + std::string(option.long_name);
    if (option.metavar) left += "=" + std::string(option.metavar);
    if (left.size() < 32)
      left.resize(32, ' ');
    else
      left += "\n" + std::string(32, ' ');
    text += left + option.help + "\n";
  }
  text +=
      "\nEvery option can also be set in the -C file as ANYSCAN_<NAME>=value, e.g.\n"
      "ANYSCAN_TARGET_PORTS=443 or ANYSCAN_TARGETS=\"198.18.0.0/24\".\n"
      "Exit status: 0 done, 64 usage, 65 bad input data, 66 unreadable input, 69 interface\n"
      "or engine unavailable, 70 internal error, 73 cannot create output, 74 output I/O error,\n"
      "77 missing capability, 78 bad configuration file.\n";
  return text;
}

Result<void> apply_config_file(ScanConfig& config, std::string_view contents,
                               const std::string& name) {
  auto entries = parse_env_file(contents, name);
  if (!entries) return tl::unexpected(entries.error());
  for (const auto& entry : *entries) {
    const std::string where = name + ":" + std::to_string(entry.line) + ": " + entry.key;
    const auto it = std::find_if(kOptions.begin(), kOptions.end(), [&](const OptionSpec& o) {
      return config_key(o) == entry.key && file_allowed(o);
    });
    if (it == kOptions.end()) {
      // Keys the launcher and anyscan-identify read from the same files are not ours to
      // refuse (anyscan-identify checks its own).
      if (entry.key.rfind("ANYSCAN_SCANNER_", 0) == 0 ||
          entry.key.rfind("ANYSCAN_AF_XDP_", 0) == 0 || entry.key == "ANYSCAN_IDENTIFY" ||
          entry.key.rfind("ANYSCAN_IDENTIFY_", 0) == 0)
        continue;
      return make_error(ExitCode::kConfig, where + ": unknown key");
    }
    auto applied = it->apply(config, entry.value);
    if (!applied) return make_error(ExitCode::kConfig, where + ": " + applied.error().message);
    config.from_config_file[it->long_name] = name + ":" + std::to_string(entry.line);
  }
  return {};
}

namespace {

// -C/--config, applied before every other flag, so the command line overrides the file
// whatever the order. One file per run: a second -C is refused rather than silently ignored.
Result<void> apply_config_flag(int argc, char** argv, ScanConfig& config) {
  std::string config_file;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    std::string file;
    if ((arg == "-C" || arg == "--config") && i + 1 < argc)
      file = argv[i + 1];
    else if (arg.rfind("--config=", 0) == 0)
      file = std::string(arg.substr(9));
    else if (arg.size() > 2 && arg.rfind("-C", 0) == 0)
      file = std::string(arg.substr(2));
    else
      continue;
    if (!config_file.empty())
      return make_error(ExitCode::kUsage, "-C/--config given twice (" + config_file + ", " + file +
                                              "): one configuration file per run");
    config_file = file;
    auto contents = read_small_file(file, 1 << 20);
    if (!contents) {
      Error error = contents.error();
      if (error.code == ExitCode::kNoInput) error.code = ExitCode::kConfig;
      return tl::unexpected(with_context(error, "-C"));
    }
    auto applied = apply_config_file(config, *contents, file);
    if (!applied) return tl::unexpected(applied.error());
  }
  return {};
}

}  // namespace

Result<ScanConfig> parse_command_line(int argc, char** argv) {
  ScanConfig config;
  if (auto file = apply_config_flag(argc, argv, config); !file) return tl::unexpected(file.error());

  std::vector<option> long_options;
  std::string short_options = "+:";  // stop at "--", report missing values
  for (size_t i = 0; i < kOptions.size(); ++i) {
    const auto& o = kOptions[i];
    if (std::strcmp(o.long_name, "targets") == 0) continue;
    long_options.push_back(option{o.long_name, o.metavar ? required_argument : no_argument, nullptr,
                                  static_cast<int>(1000 + i)});
    if (o.short_name) {
      short_options += o.short_name;
      if (o.metavar) short_options += ':';
    }
  }
  long_options.push_back(option{nullptr, 0, nullptr, 0});
  short_options[0] = '-';  // keep order: positional targets come back as option 1
  std::vector<std::string> positional;
  optind = 0;  // full reset of getopt's state (tests parse more than once)
  opterr = 0;
  while (true) {
    int index = -1;
    const int c = getopt_long(argc, argv, short_options.c_str(), long_options.data(), &index);
    if (c == -1) break;
    if (c == 1) {
      positional.emplace_back(optarg);
      continue;
    }
    if (c == '?') {
      // A known long option that came with "=VALUE" but takes none is reported by its code.
      if (optopt >= 1000)
        return make_error(ExitCode::kUsage,
                          "option " + typed_option(optopt, argv, optind) + " takes no value");
      const std::string typed = typed_option(optopt, argv, optind);
      if (auto zmap = zmap_only(typed)) return make_error(ExitCode::kUsage, *zmap);
      return make_error(ExitCode::kUsage, "unknown option " + typed + " (see --help)");
    }
    if (c == ':')
      return make_error(ExitCode::kUsage,
                        "option " + typed_option(optopt, argv, optind) + " needs a value");
    const OptionSpec* spec = nullptr;
    if (c >= 1000)
      spec = &kOptions[static_cast<size_t>(c - 1000)];
    else
      for (const auto& o : kOptions)
        if (o.short_name == c) spec = &o;
    if (spec == nullptr) return make_error(ExitCode::kSoftware, "option table out of sync");
    config.from_config_file.erase(spec->long_name);
    auto applied = spec->apply(config, optarg ? std::string_view(optarg) : std::string_view());
    if (!applied)
      return make_error(ExitCode::kUsage, flag_name(*spec) + " " + applied.error().message);
  }
  for (int i = optind; i < argc; ++i) positional.emplace_back(argv[i]);
  if (!positional.empty()) config.targets = positional;
  // zmap's -f '*' is every field of the module, whichever of -f and -M came first.
  if (config.all_output_fields) config.output_fields = output_fields_of(config.probe_module);
  return config;
}

namespace {

// A checkpoint names an offset in a results file it can cut back and read again: a regular
// file, holding what identifies each result (to rebuild the dedup on resume).
Result<void> validate_checkpoint_options(const ScanConfig& c, const ProbeModuleInfo& module) {
  if (!c.run_directory.empty() &&
      (c.output_file != "-" || !c.metadata_file.empty() || !c.checkpoint_file.empty()))
    return make_error(ExitCode::kUsage,
                      "--run-directory names the results, metadata and checkpoint files itself: "
                      "drop -o, -m and --checkpoint-file");
  if (!c.run_directory.empty()) {
    ScanConfig in_directory = c;
    in_directory.output_file = c.run_directory + "/results";
    in_directory.checkpoint_file = c.run_directory + "/checkpoint";
    in_directory.run_directory.clear();
    return validate_checkpoint_options(in_directory, module);
  }
  if (c.checkpoint_file.empty()) {
    if (c.resume) return make_error(ExitCode::kUsage, "--resume needs --checkpoint-file FILE");
    return {};
  }
  if (c.dryrun) return make_error(ExitCode::kUsage, "--checkpoint-file does not go with --dryrun");
  if (c.output_file == "-")
    return make_error(ExitCode::kUsage,
                      "--checkpoint-file needs -o FILE: results on stdout cannot be resumed");
  if (c.checkpoint_file == c.output_file || c.checkpoint_file == c.metadata_file ||
      c.checkpoint_file == c.status_file)
    return make_error(ExitCode::kUsage, "--checkpoint-file names the same file as -o, -m or -u");
  std::vector<OutputField> needed = {OutputField::kSaddr, OutputField::kClassification};
  if (module.needs_ports) needed.push_back(OutputField::kSport);
  for (OutputField field : needed)
    if (std::find(c.output_fields.begin(), c.output_fields.end(), field) == c.output_fields.end())
      return make_error(ExitCode::kUsage,
                        "--checkpoint-file needs the output field " +
                            std::string(output_field_name(field)) +
                            " (-f): a resume reads the results back to know what was found");
  return {};
}

std::string typed_option(int code, char* const argv[], int next) {
  if (code >= 1000 && static_cast<size_t>(code - 1000) < kOptions.size())
    return std::string("--") + kOptions[static_cast<size_t>(code - 1000)].long_name;
  if (code > 0x20 && code < 0x7f) return std::string("-") + static_cast<char>(code);
  std::string typed = next > 0 && argv[next - 1] != nullptr ? argv[next - 1] : "?";
  typed = typed.substr(0, std::min(typed.find('='), size_t{64}));
  for (char& ch : typed)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) ch = '?';
  return typed;
}

}  // namespace

namespace {

// The options an error message names ("--shard 5 must be below --shards 2", "-o and -m"),
// as long names; empty when it names one the table does not know.
std::vector<std::string> options_named_in(std::string_view message) {
  std::vector<std::string> names;
  for (size_t at = message.find('-'); at != std::string_view::npos;
       at = message.find('-', at + 1)) {
    if (at > 0 && message[at - 1] != ' ' && message[at - 1] != '/' && message[at - 1] != '(')
      continue;
    size_t end = at + 1;
    const bool is_long = end < message.size() && message[end] == '-';
    if (is_long) ++end;
    const size_t start = end;
    while (end < message.size() &&
           ((message[end] >= 'a' && message[end] <= 'z') ||
            (message[end] >= 'A' && message[end] <= 'Z') || (is_long && message[end] == '-')))
      ++end;
    const std::string_view word = message.substr(start, end - start);
    if (word.empty() || (!is_long && word.size() != 1)) continue;
    for (const auto& o : kOptions)
      if (is_long ? word == o.long_name : word[0] == o.short_name) names.push_back(o.long_name);
    at = end - 1;
  }
  return names;
}

}  // namespace

// Cross-option errors among options that all came from the -C file are that file's: exit 78
// naming its file and line (of the first option named), as any other error in it.
Result<void> validate_config(const ScanConfig& c) {
  auto valid = validate_options(c);
  if (valid || c.from_config_file.empty()) return valid;
  const auto named = options_named_in(valid.error().message);
  if (named.empty()) return valid;
  for (const std::string& name : named)
    if (!c.from_config_file.count(name)) return valid;
  std::string key = "ANYSCAN_";
  for (char ch : named.front())
    key += ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return make_error(ExitCode::kConfig, c.from_config_file.at(named.front()) + ": " + key + ": " +
                                           valid.error().message);
}

Result<void> validate_options(const ScanConfig& c) {
  if (c.action != ConfigAction::kScan) return {};
  const ProbeModuleInfo* module = find_probe_module(c.probe_module);
  if (module == nullptr)
    return make_error(ExitCode::kUsage, "unknown probe module " + c.probe_module);
  if (module->needs_ports && c.ports.empty())
    return make_error(ExitCode::kUsage,
                      c.probe_module + " needs ports: pass -p/--target-ports (e.g. -p 443)");
  if (const std::string why = fields_not_produced(c.output_fields, c.probe_module); !why.empty())
    return make_error(ExitCode::kUsage, why);
  if ((!c.probe_args.empty() || !c.probe_payloads.empty()) && c.probe_module != "udp")
    return make_error(ExitCode::kUsage,
                      std::string(c.probe_args.empty() ? "--probe-payloads" : "--probe-args") +
                          " sets UDP payloads: it needs -M udp");
  if (!module->needs_ports && !c.ports.empty())
    return make_error(ExitCode::kUsage,
                      c.probe_module + " probes addresses, not ports: drop -p/--target-ports");
  // zmap scans the whole IPv4 space when given none; anyscan asks for it by name.
  if (c.targets.empty() && c.list_of_ips_file.empty() && c.allowlist_file.empty())
    return make_error(ExitCode::kUsage,
                      "no targets: pass TARGET arguments, -I/--list-of-ips FILE or -w FILE "
                      "(zmap would scan all of IPv4 here: name 0.0.0.0/0 to mean that)");
  if (c.shard >= c.shards)
    return make_error(ExitCode::kUsage, "--shard " + std::to_string(c.shard) +
                                            " must be below --shards " + std::to_string(c.shards));
  if (c.rate_given && c.bandwidth_bps != 0)
    return make_error(ExitCode::kUsage, "give -r/--rate or -B/--bandwidth, not both");
  if (c.source_port_last - c.source_port_first + 1 < static_cast<int>(c.probes))
    return make_error(ExitCode::kUsage,
                      "-s/--source-port range must have at least as many ports as -P/--probes");
  if (c.output_file == c.metadata_file && c.output_file != "-")
    return make_error(ExitCode::kUsage, "-o and -m name the same file");
  // An output opened for writing would empty the target list before it is read.
  if (!c.list_of_ips_file.empty() && c.list_of_ips_file != "-")
    for (const std::string* out :
         {&c.output_file, &c.metadata_file, &c.status_file, &c.checkpoint_file})
      if (*out == c.list_of_ips_file)
        return make_error(ExitCode::kUsage, "-I " + c.list_of_ips_file +
                                                " is also an output file: it would be overwritten");
  return validate_checkpoint_options(c, *module);
}

Result<std::FILE*> open_log_file(const ScanConfig& config) {
  if (config.log_file.empty() && config.log_directory.empty()) return nullptr;
  if (!config.log_file.empty() && !config.log_directory.empty())
    return make_error(ExitCode::kUsage,
                      "-l/--log-file and -L/--log-directory cannot be given together");
  std::string path = config.log_file;
  if (path.empty()) {
    const time_t now = ::time(nullptr);
    tm local{};
    ::localtime_r(&now, &local);
    char name[64];
    std::strftime(name, sizeof name, "anyscan-%Y-%m-%dT%H%M%S%z.log", &local);
    path = config.log_directory + "/" + name;
  }
  std::FILE* file = std::fopen(path.c_str(), "we");
  if (file == nullptr)
    return make_error(
        ExitCode::kCantCreate,
        errno_message(std::string(config.log_file.empty() ? "-L" : "-l") + " log file " + path,
                      errno));
  std::setvbuf(file, nullptr, _IOLBF, 0);
  return file;
}

}  // namespace anyscan
