// Every option's value parser with arbitrary values (first byte picks the option), then the
// cross-option validation: errors only, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cli/scan_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto& table = anyscan::option_table();
  const auto& option = table[data[0] % table.size()];
  anyscan::ScanConfig config;
  auto applied =
      option.apply(config, std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  if (!applied && applied.error().message.empty()) std::abort();
  (void)anyscan::validate_config(config);
  return 0;
}
