// The JSON reader behind anyscan-merge (shards' metadata) and --user-metadata: any input
// parses or fails with a one-line error; what parses dumps to JSON that parses to the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "output/json_value.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto value = anyscan::JsonValue::parse(text);
  if (!value) {
    if (value.error().message.find('\n') != std::string::npos) std::abort();
    return 0;
  }
  const std::string dumped = value->dump();
  auto again = anyscan::JsonValue::parse(dumped);
  if (!again || again->dump() != dumped) std::abort();
  if (value->is_object())
    for (const auto& [key, member] : value->members())
      (void)member.as_u64(), (void)member.as_bool();
  return 0;
}
