// --output-filter expressions: parse any text into a filter or a kUsage error naming the
// position, never a crash (nesting is bounded); a filter evaluates on records made from
// the same bytes, and parsing is deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "output/output_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto filter = anyscan::OutputFilter::parse(text);
  if (!filter) {
    if (filter.error().code != anyscan::ExitCode::kUsage || filter.error().message.empty())
      std::abort();
    return 0;
  }
  anyscan::ResultRecord record;
  std::memcpy(&record.reply, data, std::min(size, sizeof record.reply));
  record.reply.classification =
      static_cast<anyscan::Classification>(size % anyscan::kClassificationCount);
  record.time_s = static_cast<int64_t>(size) * 1000003;
  record.cooldown = size % 2;
  const bool first = filter->matches(record);
  if (anyscan::OutputFilter::parse(text)->matches(record) != first) std::abort();
  return 0;
}
