#pragma once

#include <memory>

#include "base/result.h"
#include "engine/io_engine.h"
#include "scan/scan_config.h"

namespace anyscan {

// Runs one scan end to end: plan, engine, receivers, senders, status, cooldown, results
// and metadata. SIGINT/SIGTERM stop sending and start the cooldown; a second one ends the
// cooldown. Whatever was received is always written, and the metadata too.
// engine_override replaces the engine the config names (tests inject fakes).
Result<void> run_scan(const ScanConfig& config, std::unique_ptr<IoEngine> engine_override = nullptr);

}  // namespace anyscan
