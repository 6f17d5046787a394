#pragma once

#include <string>

#include "cli/scan_config.h"
#include "engine/io_engine.h"
#include "scan/scan_plan.h"
#include "scan/scan_runner.h"

namespace anyscan {

// The -m document: one JSON object with the plan, the counts, resource use, the engine's
// counters and how the run ended (newline-terminated).
std::string scan_metadata_json(const ScanPlan& plan, const ScanConfig& config, IoEngine& engine,
                               const RunSummary& run);

// The one line logged when a scan ends.
std::string done_line(const RunSummary& run);

}  // namespace anyscan
