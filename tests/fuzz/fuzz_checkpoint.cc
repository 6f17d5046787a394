// The checkpoint reader (a file a crash, a full disk or another program may have left) and
// the results-line reader a resume feeds the dedup from: never a crash, only kDataErr, and
// whatever is accepted writes out (as version 2) to a record that reads back the same.
// The same bytes as a whole two-slot file: the newest valid slot or kDataErr.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "output/record_reader.h"
#include "store/checkpoint.h"
#include "store/checkpoint_file.h"
#include "store/metrics_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = anyscan::parse_checkpoint(text);
  if (parsed) {
    // What is accepted writes out as a record that reads back to the same record.
    const std::string again = anyscan::format_checkpoint(*parsed);
    auto reread = anyscan::parse_checkpoint(again);
    if (!reread || anyscan::format_checkpoint(*reread) != again) std::abort();
  } else if (parsed.error().code != anyscan::ExitCode::kDataErr) {
    std::abort();
  }
  // A metrics file's last success, as a new run reads it back (store/metrics_file.h).
  if (auto v = anyscan::metric_value_in(text, "anyscan_last_success_timestamp_seconds")) (void)*v;
  auto file = anyscan::parse_checkpoint_file(text);
  if (!file && file.error().code != anyscan::ExitCode::kDataErr) std::abort();
  if (file && file->sequence % 2 == 1 && text.size() <= anyscan::kCheckpointSlotBytes) std::abort();
  std::vector<anyscan::OutputField> every;
  for (const auto& info : anyscan::output_fields()) every.push_back(info.field);
  for (bool json : {false, true})
    for (const auto& fields : {anyscan::default_output_fields(), every}) {
      auto key = anyscan::RecordReader(json, fields).parse(text);
      if (!key && key.error().code != anyscan::ExitCode::kDataErr) std::abort();
    }
  return 0;
}
