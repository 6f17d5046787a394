#pragma once

#include "base/result.h"
#include "cli/scan_config.h"

namespace anyscan {

// Runs one scan end to end: resolve the plan, open the engine, then the outputs, run the
// threads until done, interrupted or a limit is hit, write the metadata. Whatever was
// received is always written, and the metadata too.
Result<void> run_scan(const ScanConfig& config);

}  // namespace anyscan
