#include "scan/scan_metadata.h"

#include <sys/resource.h>

#include <cinttypes>
#include <cstdio>

#include "output/json_value.h"
#include "output/result_sink.h"
#include "scan/alias_detection.h"
#include "store/checkpoint.h"

#ifndef ANYSCAN_VERSION
#define ANYSCAN_VERSION "0.0.0"
#endif

namespace anyscan {

namespace {

std::string counts_json(const ScanPlan& plan, const ScanConfig& config, const RunSummary& run) {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  // ru_maxrss survives execve (it could be a parent's peak): VmHWM where /proc is mounted.
  const uint64_t peak_kib = run.peak_rss_kib.value_or(static_cast<uint64_t>(usage.ru_maxrss));
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  const Totals& s = run.totals;
  char numbers[1400];
  std::snprintf(
      numbers, sizeof numbers,
      "\"counts\":{\"targets\":%" PRIu64 ",\"targets_probed\":%" PRIu64 ",\"sent\":%" PRIu64
      ",\"send_failed\":%" PRIu64 ",\"received\":%" PRIu64 ",\"validation_failed\":%" PRIu64
      ",\"unrelated\":%" PRIu64 ",\"results\":%" PRIu64 ",\"success\":%" PRIu64
      ",\"duplicates\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"not_redirected\":%" PRIu64
      ",\"interface_dropped\":%" PRIu64 ",\"filtered\":%" PRIu64 ",\"opted_out\":%" PRIu64
      ",\"withdrawn\":%" PRIu64 ",\"results_ipv6\":%" PRIu64
      ",\"validation_failed_by_reason\":{\"ipv6_header_chain\":%" PRIu64
      ",\"ipv6_non_first_fragment\":%" PRIu64 "},\"results_by_classification\":{\"synack\":%" PRIu64
      ",\"rst\":%" PRIu64 ",\"echoreply\":%" PRIu64 ",\"unreach\":%" PRIu64 ",\"udp\":%" PRIu64
      ",\"icmp-unreach\":%" PRIu64
      "}},"
      "\"duration_s\":%.3f,\"cpu_user_s\":%.3f,\"cpu_system_s\":%.3f,\"max_rss_kib\":%" PRIu64
      ",\"dedup_kib\":%" PRIu64 ",\"output_stalls\":%" PRIu64
      ","
      "\"rate_pps\":%" PRIu64
      ",\"sender_threads\":%zu,\"receiver_threads\":%zu,\"probes\":%u,\"cooldown_s\":%u,"
      "\"shard\":%u,\"shards\":%u",
      s.targets_total, s.targets_done, s.sent, s.failed, s.received, s.validation_failed,
      s.unrelated, s.results, s.success, s.duplicates, s.dropped, s.not_redirected,
      s.interface_dropped, s.filtered, s.opted_out, s.withdrawn, s.results_ipv6,
      s.invalid_header_chain, s.invalid_fragment, s.results_synack, s.results_rst,
      s.results_echoreply, s.results_unreach, s.results_udp, s.results_icmp_unreach,
      static_cast<double>(run.end_ns - run.start_ns) / 1e9, seconds(usage.ru_utime),
      seconds(usage.ru_stime), peak_kib, run.dedup_bytes / 1024, run.output_stalls, plan.rate_pps,
      run.sender_threads, run.receiver_threads, config.probes, config.cooldown_s, config.shard,
      config.shards);
  return numbers;
}

// What makes shards one scan (anyscan-merge compares it): the checkpoint's identity of the
// scan less the shard index and the source ports, plus the seed and the shard count, and a
// fingerprint of all of it.
std::string plan_json(const ScanPlan& plan, const ScanConfig& config) {
  const ScanIdentity id = scan_identity(plan, config);
  const std::string fields[] = {id.targets,
                                id.ports,
                                id.module,
                                std::to_string(id.probes),
                                std::to_string(config.shards),
                                std::to_string(id.max_targets),
                                id.output,
                                std::to_string(plan.seed)};
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64, each field ended by a NUL
  for (const std::string& field : fields)
    for (size_t i = 0; i <= field.size(); ++i) {
      hash ^= i < field.size() ? static_cast<unsigned char>(field[i]) : 0;
      hash *= 0x100000001b3ULL;
    }
  char fingerprint[17];
  std::snprintf(fingerprint, sizeof fingerprint, "%016" PRIx64, hash);
  return ",\"plan\":{\"fingerprint\":\"" + std::string(fingerprint) +
         "\",\"targets\":" + json_quote(id.targets) + ",\"ports\":" + json_quote(id.ports) +
         ",\"probe_module\":" + json_quote(id.module) + ",\"probes\":" + std::to_string(id.probes) +
         ",\"shards\":" + std::to_string(config.shards) +
         ",\"max_targets\":" + std::to_string(id.max_targets) +
         ",\"output\":" + json_quote(id.output) + ",\"seed\":" + std::to_string(plan.seed) + "}";
}

// The results file as the metadata names it: beside the metadata (a run directory), its
// bare name, so the pair can move together (a shard's volume copied off a node).
std::string results_file_name(const ScanConfig& config) {
  const std::string& out = config.output_file;
  const size_t slash = out.rfind('/'), meta_slash = config.metadata_file.rfind('/');
  if (slash == std::string::npos || meta_slash == std::string::npos) return out;
  return out.compare(0, slash, config.metadata_file, 0, meta_slash) == 0 && slash == meta_slash
             ? out.substr(slash + 1)
             : out;
}

std::string quoted(const std::string& key, const std::string& value) {
  return ",\"" + key + "\":\"" + json_escape(value) + "\"";
}

}  // namespace

// -O as the user named it.
static const char* output_format_name(const ScanConfig& config) {
  if (config.output_format == OutputFormat::kJson) return "json";
  return csv_has_header(config.output_fields) ? "csv" : "zgrab2";
}

// --detect-aliases: its parameters, what it probed and found ("" without it).
static std::string alias_detection_json(const ScanPlan& plan, const ScanConfig& config) {
  std::string json;
  if (config.detect_aliases != 0) {
    json +=
        ",\"alias_detection\":{\"addresses_per_prefix\":" + std::to_string(config.detect_aliases) +
        ",\"prefix_length\":" + std::to_string(config.alias_prefix_length) +
        ",\"limit\":" + std::to_string(plan.aliased_limit) +
        ",\"probed\":" + std::to_string(plan.detection_probes) +
        ",\"replies\":" + std::to_string(plan.detection_replies) +
        ",\"capped\":" + std::to_string(plan.detected_capped) + ",\"aliased\":[";
    for (size_t i = 0; i < plan.detected.prefixes().size(); ++i)
      json += (i ? ",\"" : "\"") + prefix_text(plan.detected.prefixes()[i]) + "\"";
    json += "]}";
  }
  return json;
}

namespace {

// Where the probes left from: the interface, its queues, the addresses, the link.
std::string network_json(const ScanPlan& plan) {
  const NetworkPlan& net = plan.network;
  std::string json;
  json += quoted("interface", net.interface);
  json += ",\"rx_queues\":" + std::to_string(net.rx_queues) +
          ",\"tx_queues\":" + std::to_string(net.tx_queues);
  json += quoted("source_ip", to_string(net.source_ip));
  json += ",\"source_ips\":[";
  for (size_t i = 0; i < net.source_ips.size(); ++i)
    json += std::string(i ? "," : "") + "\"" + to_string(net.source_ips[i]) + "\"";
  json += "]";
  // "ip" under -X/--iplayer (IP packets on a cooked socket), else "ethernet".
  json += quoted("link", net.ip_layer ? "ip" : "ethernet");
  if (!net.link_without_header) {  // an L3 interface has no MACs to report
    json += quoted("source_mac", to_string(net.source_mac));
    if (plan.addresses.count(IpFamily::kIpv4) != 0)
      json += quoted("gateway_mac", to_string(net.gateway_mac));
    if (plan.addresses.count(IpFamily::kIpv6) != 0 || !plan.windows.empty())
      json += quoted("gateway6_mac", to_string(net.gateway6_mac));
  }
  json += quoted("source_ports",
                 std::to_string(plan.source_port_first) + "-" +
                     std::to_string(plan.source_port_first + plan.source_port_count - 1));
  return json;
}

}  // namespace

std::string scan_metadata_json(const ScanPlan& plan, const ScanConfig& config, IoEngine& engine,
                               const RunSummary& run) {
  const std::string ports = plan.module_info->needs_ports ? format_ports(plan.ports) : "";
  std::string json = "{\"scanner\":\"anyscan\",\"version\":\"" ANYSCAN_VERSION "\"";
  json += quoted("engine", std::string(engine.name()));
  json += quoted("probe_module", std::string(plan.module_info->name));
  json += ",\"seed\":" + std::to_string(plan.seed);
  json += network_json(plan);
  if (plan.window.enabled())  // windows count as IPv6 addresses below
    json += ",\"prefix_window\":" + std::to_string(plan.window.length) +
            quoted("iid", plan.window.text().substr(plan.window.text().find('=') + 1)) +
            ",\"windows\":" + std::to_string(plan.windows.size());
  if (!plan.aliased.empty())
    json += ",\"aliased_prefixes\":" + std::to_string(plan.aliased.size()) +
            ",\"aliased_limit\":" + std::to_string(plan.aliased_limit) +
            ",\"aliased_capped\":" + std::to_string(plan.aliased_capped);
  json += alias_detection_json(plan, config);
  json += ",\"addresses\":" + std::to_string(plan.address_count()) + ",\"addresses_ipv4\":" +
          std::to_string(static_cast<uint64_t>(plan.addresses.count(IpFamily::kIpv4))) +
          ",\"addresses_ipv6\":" +
          std::to_string(static_cast<uint64_t>(plan.addresses.count(IpFamily::kIpv6)) +
                         plan.windows.size());
  json += quoted("ports", ports);
  json += quoted("blocklist", plan.blocklist_source);
  json += quoted("output_filter", config.output_filter);
  // Where the results are and how they are written: anyscan-merge reads them back.
  json += quoted("results_file", results_file_name(config));
  json += quoted("output_format", output_format_name(config));
  json += plan_json(plan, config);
  if (!config.notes.empty()) json += quoted("notes", config.notes);
  // Checked to be one JSON value when parsed: placed as it is.
  if (!config.user_metadata.empty()) json += ",\"user_metadata\":" + config.user_metadata;
  json += quoted("start", run.start_time) + quoted("end", run.end_time);
  json += ",\"interrupted\":" + std::string(run.interrupted ? "true" : "false");
  json += quoted("stop_reason", run.stop_reason);
  // A resumed scan: the first run's start and where each resume continued from.
  if (!config.checkpoint_file.empty()) {
    json += quoted("checkpoint", config.checkpoint_file) + quoted("scan_start", run.scan_start);
    json += ",\"resumes\":[";
    for (size_t i = 0; i < run.resumes.size(); ++i)
      json += std::string(i ? "," : "") + "{\"time\":\"" + run.resumes[i].time +
              "\",\"from_position\":" + std::to_string(run.resumes[i].from_target) +
              ",\"results_offset\":" + std::to_string(run.resumes[i].results_offset) + "}";
    json += "]";
  }
  // Live opt-out: each SIGHUP's reload, and what the end of the run did with the results
  // written before one.
  if (!run.reloads.empty()) {
    json += ",\"blocklist_reloads\":[";
    for (size_t i = 0; i < run.reloads.size(); ++i) {
      const ReloadRecord& r = run.reloads[i];
      char after[32];
      std::snprintf(after, sizeof after, "%.3f", r.in_effect_after_s);
      json += std::string(i ? "," : "") + "{\"time\":\"" + r.time + "\"" +
              quoted("outcome", r.outcome) +
              ",\"addresses_excluded\":" + std::to_string(r.addresses) +
              ",\"in_effect_after_s\":" + after + "}";
    }
    json += "]" + quoted("opt_out_purge", run.purge);
  }
  const Confinement& confined = run.confinement;
  json += ",\"privileges\":{\"capabilities\":\"none\",\"bounding_set_cleared\":" +
          std::string(confined.bounding_set_cleared ? "true" : "false") +
          ",\"no_new_privs\":true,\"uid\":" + std::to_string(confined.uid) +
          quoted("user", confined.user) + ",\"seccomp\":" + (confined.seccomp ? "true" : "false") +
          ",\"syscalls_allowed\":" + std::to_string(confined.syscalls_allowed) +
          ",\"seccomp_checked_threads\":" + std::to_string(run.filter_checked_threads) + "}";
  json += ",";
  json += counts_json(plan, config, run);
  json += ",\"engine_counters\":{";
  bool first = true;
  for (const auto& [name, value] : engine.counters()) {
    json += (first ? "\"" : ",\"") + json_escape(name) + "\":" + std::to_string(value);
    first = false;
  }
  json += "}";
  if (!run.outcome) json += quoted("error", run.outcome.error().message);
  json += "}\n";
  return json;
}

std::string done_line(const RunSummary& run) {
  const Totals& s = run.totals;
  char line[512];
  std::snprintf(line, sizeof line,
                "done (%s): sent %" PRIu64 " probes in %.2f s, %" PRIu64 " results (%" PRIu64
                " open/up), %" PRIu64 " failed validation, %" PRIu64 " duplicates, %" PRIu64
                " dropped by the kernel",
                run.stop_reason.c_str(), s.sent,
                static_cast<double>(run.end_ns - run.start_ns) / 1e9, s.results, s.success,
                s.validation_failed, s.duplicates, s.dropped);
  std::string text = line;
  if (s.not_redirected != 0)
    text += ", " + std::to_string(s.not_redirected) +
            " not redirected (no AF_XDP socket on their queue)";
  if (s.interface_dropped != 0)
    text += ", " + std::to_string(s.interface_dropped) + " dropped by the interface";
  if (!run.resumes.empty())
    text += "; counts over " + std::to_string(run.resumes.size() + 1) +
            " runs (this one resumed from position " +
            std::to_string(run.resumes.back().from_target) + ")";
  return text;
}

}  // namespace anyscan
