// Target, allowlist and blocklist files: parse, and when they parse, the set operations and
// index mapping the scanner runs on them must hold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "target/target_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto set = anyscan::parse_target_list(text, "fuzz");
  if (!set) {
    if (set.error().message.rfind("fuzz:", 0) != 0) std::abort();
    return 0;
  }
  for (uint64_t i = 0; i < set->size() && i < 64; ++i)
    if (set->index_of(set->at(i)) != i) std::abort();
  const auto half = anyscan::AddressSet({{0, 0x7fffffffu}});
  if (set->minus(half).size() + set->intersect(half).size() != set->size()) std::abort();
  return 0;
}
