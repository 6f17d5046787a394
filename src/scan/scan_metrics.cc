#include "scan/scan_metrics.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "net/reply.h"

namespace anyscan {

namespace {

// A label value as the exposition format quotes it: \ " and newline escaped.
std::string label_value(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Exposition {
 public:
  explicit Exposition(std::string common) : common_(std::move(common)) {}

  // A metric family's HELP and TYPE lines.
  void family(const char* name, const char* type, const char* help) {
    out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  // One sample with the common labels and `extra` ("family=\"ipv4\"").
  void sample(const char* name, uint64_t value, const std::string& extra = "") {
    out_ += std::string(name) + "{" + common_ + (extra.empty() ? "" : "," + extra) + "} " +
            std::to_string(value) + "\n";
  }
  void sample_double(const char* name, double value, const std::string& extra = "") {
    char number[64];
    std::snprintf(number, sizeof number, "%.15g", value);
    out_ += std::string(name) + "{" + common_ + (extra.empty() ? "" : "," + extra) + "} " + number +
            "\n";
  }
  // A counter family of one sample.
  void counter(const char* name, const char* help, uint64_t value) {
    family(name, "counter", help);
    sample(name, value);
  }
  std::string text() const { return out_; }

 private:
  std::string common_;
  std::string out_;
};

}  // namespace

MetricsFacts metrics_facts(const ScanPlan& plan, const ScanConfig& config, std::string_view engine,
                           std::optional<double> previous_success_s) {
  MetricsFacts facts;
  facts.job = config.metrics_job;
  if (facts.job.empty()) {
    const std::string& dir = config.run_directory;
    const size_t end = dir.find_last_not_of('/');
    facts.job = end == std::string::npos
                    ? "anyscan"
                    : dir.substr(dir.rfind('/', end) + 1, end - dir.rfind('/', end));
  }
  facts.engine = std::string(engine);
  facts.interface = plan.network.interface;
  facts.probe_module = plan.module_info != nullptr ? std::string(plan.module_info->name) : "";
  if (const char* reason = std::getenv("ANYSCAN_ENGINE_REASON")) facts.engine_reason = reason;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  facts.start_time_s = static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
  facts.last_success_s = previous_success_s;
  return facts;
}

std::string metrics_text(const MetricsFacts& facts, const Totals& t, bool running,
                         std::optional<double> succeeded_at_s) {
  Exposition e("scan_job=\"" + label_value(facts.job) + "\",engine=\"" + label_value(facts.engine) +
               "\",interface=\"" + label_value(facts.interface) + "\"");
  e.family("anyscan_info", "gauge",
           "The scanner's version, probe module and engine, and why the launcher chose it.");
  e.sample("anyscan_info", 1,
           "version=\"" ANYSCAN_VERSION "\",probe_module=\"" + label_value(facts.probe_module) +
               "\",engine_reason=\"" + label_value(facts.engine_reason) + "\"");
  e.counter("anyscan_probes_sent_total", "Probes handed to the engine.", t.sent);
  e.counter("anyscan_send_failures_total", "Probes that could not be sent after their retries.",
            t.failed);
  e.counter("anyscan_replies_received_total",
            "Frames the reply filters passed to the scanner (valid or not).", t.received);
  e.family("anyscan_results_total", "counter",
           "Validated replies written as results, by classification.");
  for (int c = 0; c < Totals::kClasses; ++c)
    e.sample("anyscan_results_total", t.*kResultsByClass[c],
             "classification=\"" +
                 std::string(classification_name(static_cast<Classification>(c))) + "\"");
  e.family("anyscan_results_by_family_total", "counter", "Results by the target's address family.");
  e.sample("anyscan_results_by_family_total", t.results - t.results_ipv6, "family=\"ipv4\"");
  e.sample("anyscan_results_by_family_total", t.results_ipv6, "family=\"ipv6\"");
  e.counter("anyscan_results_success_total", "Results that say open or up.", t.success);
  e.family("anyscan_validation_failures_total", "counter",
           "Replies to the scan's addresses that failed validation (counted, never reported).");
  const uint64_t by_cookie = t.validation_failed - t.invalid_fragment - t.invalid_header_chain;
  e.sample("anyscan_validation_failures_total", by_cookie, "reason=\"validation\"");
  e.sample("anyscan_validation_failures_total", t.invalid_fragment,
           "reason=\"ipv6_non_first_fragment\"");
  e.sample("anyscan_validation_failures_total", t.invalid_header_chain,
           "reason=\"ipv6_header_chain\"");
  e.counter("anyscan_replies_unrelated_total", "Frames the filters passed that were no reply.",
            t.unrelated);
  e.counter("anyscan_duplicates_total", "Valid replies to a target already reported.",
            t.duplicates);
  e.counter("anyscan_results_filtered_total", "Valid replies --output-filter left out.",
            t.filtered);
  e.counter("anyscan_opted_out_targets_total",
            "Targets a reloaded blocklist took out before they were probed (live opt-out).",
            t.opted_out);
  e.counter("anyscan_results_withdrawn_total",
            "Results of addresses a reloaded blocklist holds: not written, or removed at the end.",
            t.withdrawn);
  e.counter("anyscan_ring_drops_total",
            "Frames the kernel dropped for want of receive-ring space (lost replies).", t.dropped);
  e.counter("anyscan_not_redirected_total",
            "AF_XDP: replies on a queue without a socket (lost to the scan).", t.not_redirected);
  e.counter("anyscan_interface_drops_total",
            "Frames the interface dropped during the scan (counted at its end).",
            t.interface_dropped);
  e.family("anyscan_targets", "gauge", "Targets (address x port) of this run's share.");
  e.sample("anyscan_targets", t.targets_total);
  e.family("anyscan_targets_remaining", "gauge", "Targets not probed yet.");
  e.sample("anyscan_targets_remaining",
           t.targets_total > t.targets_done ? t.targets_total - t.targets_done : 0);
  e.family("anyscan_scan_progress_ratio", "gauge", "Share of the targets probed, 0 to 1.");
  e.sample_double("anyscan_scan_progress_ratio",
                  t.targets_total == 0
                      ? 1.0
                      : static_cast<double>(t.targets_done) / static_cast<double>(t.targets_total));
  e.family("anyscan_scan_running", "gauge", "1 while the scan runs, 0 once it has ended.");
  e.sample("anyscan_scan_running", running ? 1 : 0);
  e.family("anyscan_scan_start_timestamp_seconds", "gauge", "When this run started.");
  e.sample_double("anyscan_scan_start_timestamp_seconds", facts.start_time_s);
  const std::optional<double> success = succeeded_at_s ? succeeded_at_s : facts.last_success_s;
  if (success) {
    e.family("anyscan_last_success_timestamp_seconds", "gauge",
             "When a run of this job last completed successfully.");
    e.sample_double("anyscan_last_success_timestamp_seconds", *success);
  }
  return e.text();
}

}  // namespace anyscan
