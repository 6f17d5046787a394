#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/reply.h"
#include "output/output_field.h"

namespace anyscan {

// What identifies a result: enough to rebuild the dedup when a scan resumes.
struct RecordKey {
  IpAddress saddr;
  uint16_t sport = 0;
  Classification classification = Classification::kSynAck;
};

// Reads back the lines RecordFormatter wrote with the same format and fields (the
// checkpoint records both): CSV split at commas (no field of ours holds one), JSON as the
// flat object in field order. Strict: any other line is an error (kDataErr) saying why.
class RecordReader {
 public:
  RecordReader(bool json, std::vector<OutputField> fields);
  // One line without its newline.
  Result<RecordKey> parse(std::string_view line) const;

 private:
  Result<void> take(OutputField field, std::string_view value, RecordKey& key) const;
  Result<RecordKey> parse_csv(std::string_view line) const;
  Result<RecordKey> parse_json(std::string_view line) const;

  bool json_;
  std::vector<OutputField> fields_;
};

}  // namespace anyscan
