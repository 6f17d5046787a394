#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cli/scan_config.h"
#include "scan/scan_plan.h"
#include "store/scan_totals.h"

namespace anyscan {

// What the metrics say that does not change during a run.
struct MetricsFacts {
  std::string job, engine, interface, probe_module;
  // The launcher's word on the engine (ANYSCAN_ENGINE_REASON, which it sets for the scanner):
  // why af_xdp, or why it fell back to af_packet; "" when started without the launcher.
  std::string engine_reason;
  double start_time_s = 0;
  std::optional<double> last_success_s;  // carried over from the file's previous run
};

MetricsFacts metrics_facts(const ScanPlan& plan, const ScanConfig& config, std::string_view engine,
                           std::optional<double> previous_success_s);

// The Prometheus text exposition (format 0.0.4) of a scan: an anyscan_info gauge, the
// counters as _total in base units, progress gauges, the start and the last successful end.
// Labels: scan_job (not "job", which Prometheus sets itself), engine, interface (family,
// classification, reason where they split a count).
// `succeeded_at_s`: this run has just completed successfully then.
std::string metrics_text(const MetricsFacts& facts, const Totals& totals, bool running,
                         std::optional<double> succeeded_at_s = std::nullopt);

}  // namespace anyscan
