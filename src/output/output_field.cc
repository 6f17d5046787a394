#include "output/output_field.h"

#include <algorithm>

namespace anyscan {

const std::vector<OutputFieldInfo>& output_fields() {
  static const std::vector<OutputFieldInfo> fields = {
      {OutputField::kSaddr, "saddr", "address that replied (the target)"},
      {OutputField::kDaddr, "daddr", "our address the reply was sent to"},
      {OutputField::kSport, "sport", "target port (0 for ICMP)"},
      {OutputField::kDport, "dport", "our port the reply was sent to (ICMP: echo id)"},
      {OutputField::kSeqnum, "seqnum", "TCP sequence number of the reply"},
      {OutputField::kAcknum, "acknum", "TCP acknowledgement number of the reply"},
      {OutputField::kWindow, "window", "TCP window of the reply"},
      {OutputField::kClassification, "classification", "synack, rst, echoreply or unreach"},
      {OutputField::kSuccess, "success", "1 if the target is open/up, else 0"},
      {OutputField::kTtl, "ttl", "IP TTL of the reply"},
      {OutputField::kTimestamp, "timestamp", "time received, ISO 8601 UTC with microseconds"},
      {OutputField::kTimestampTs, "timestamp_ts", "time received, seconds since the epoch"},
      {OutputField::kTimestampUs, "timestamp_us", "microseconds part of the receive time"},
      {OutputField::kTimestampStr, "timestamp_str", "the same as timestamp (zmap's name)"},
      {OutputField::kSaddrRaw, "saddr_raw",
       "saddr as zmap prints it raw: the network-order bytes read as a host integer"},
      {OutputField::kDaddrRaw, "daddr_raw", "daddr the same way"},
      {OutputField::kIpid, "ipid", "IP identification of the reply"},
      {OutputField::kRepeat, "repeat",
       "always 0: every result is reported once (zmap: 1 for a repeat)"},
      {OutputField::kCooldown, "cooldown", "1 if received after the last probe was sent"},
  };
  return fields;
}

std::string_view output_field_name(OutputField field) {
  for (const auto& info : output_fields())
    if (info.field == field) return info.name;
  return "?";
}

std::vector<OutputField> default_output_fields() {
  return {OutputField::kSaddr,   OutputField::kSport, OutputField::kClassification,
          OutputField::kSuccess, OutputField::kTtl,   OutputField::kTimestamp};
}

Result<std::vector<OutputField>> parse_output_fields(std::string_view text) {
  std::vector<OutputField> out;
  if (text == "*") {  // zmap's -f '*': every field
    for (const auto& info : output_fields()) out.push_back(info.field);
    return out;
  }
  while (true) {
    const size_t comma = text.find(',');
    std::string_view name = text.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    const auto it = std::find_if(output_fields().begin(), output_fields().end(),
                                 [&](const OutputFieldInfo& f) { return f.name == name; });
    if (it == output_fields().end()) {
      std::string known;
      for (const auto& f : output_fields())
        known += (known.empty() ? "" : ",") + std::string(f.name);
      return make_error(
          ExitCode::kUsage,
          "unknown output field '" + std::string(name.substr(0, 40)) + "' (known: " + known + ")");
    }
    if (std::find(out.begin(), out.end(), it->field) != out.end())
      return make_error(ExitCode::kUsage, "output field '" + std::string(name) + "' listed twice");
    out.push_back(it->field);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace anyscan
