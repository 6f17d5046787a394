#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace anyscan {

enum class OutputField {
  kSaddr,
  kDaddr,
  kSport,
  kDport,
  kSeqnum,
  kAcknum,
  kWindow,
  kClassification,
  kSuccess,
  kTtl,
  kTimestamp,
  kTimestampTs,
  kTimestampUs,
  // zmap's names and fields
  kTimestampStr,
  kSaddrRaw,
  kDaddrRaw,
  kIpid,
  kRepeat,
  kCooldown,
};

struct OutputFieldInfo {
  OutputField field;
  std::string_view name;
  std::string_view description;
};

const std::vector<OutputFieldInfo>& output_fields();
std::string_view output_field_name(OutputField field);
std::vector<OutputField> default_output_fields();
// "saddr,sport,classification": comma-separated names, no duplicates (kUsage on error).
Result<std::vector<OutputField>> parse_output_fields(std::string_view text);

}  // namespace anyscan
