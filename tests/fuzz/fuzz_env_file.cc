// The KEY=VALUE parser shared by -C, the launcher and the probe, and the scanner's mapping
// of keys to options.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/env_file.h"
#include "cli/scan_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto entries = anyscan::parse_env_file(text, "fuzz");
  if (entries) {
    for (const auto& e : *entries)
      if (e.key.empty() || e.line == 0) std::abort();
  } else if (entries.error().code != anyscan::ExitCode::kConfig) {
    std::abort();
  }
  anyscan::ScanConfig config;
  auto applied = anyscan::apply_config_file(config, text, "fuzz");
  if (!applied && applied.error().code != anyscan::ExitCode::kConfig) std::abort();
  if (applied) (void)anyscan::validate_config(config);
  return 0;
}
