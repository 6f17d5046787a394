#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "output/output_field.h"
#include "target/port_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto ports = anyscan::parse_ports(text)) {
    for (size_t i = 0; i < ports->size(); ++i) {
      if (ports->at(i) == 0 || ports->index_of(ports->at(i)) != static_cast<int32_t>(i))
        std::abort();
      if (i > 0 && ports->at(i) <= ports->at(i - 1)) std::abort();
    }
  }
  (void)anyscan::parse_output_fields(text);
  return 0;
}
