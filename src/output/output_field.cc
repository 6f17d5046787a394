#include "output/output_field.h"

#include <algorithm>
#include <iterator>

namespace anyscan {

const std::vector<OutputFieldInfo>& output_fields() {
  static const std::vector<OutputFieldInfo> fields = {
      {OutputField::kSaddr, "saddr", "address that replied (the target)"},
      {OutputField::kDaddr, "daddr", "our address the reply was sent to"},
      {OutputField::kSport, "sport", "target port (0 for ICMP)"},
      {OutputField::kDport, "dport", "our port the reply was sent to (ICMP: echo id)"},
      {OutputField::kSeqnum, "seqnum", "TCP sequence number of the reply (ICMP: echo sequence)",
       "tcp_synscan icmp_echoscan"},
      {OutputField::kAcknum, "acknum", "TCP acknowledgement number of the reply", "tcp_synscan"},
      {OutputField::kWindow, "window", "TCP window of the reply", "tcp_synscan"},
      {OutputField::kClassification, "classification",
       "synack, rst (tcp_synscan); echoreply, unreach (icmp_echoscan); udp, icmp-unreach (udp)"},
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
      {OutputField::kUdpPktSize, "udp_pkt_size", "UDP length of the reply (header included)",
       "udp"},
      {OutputField::kData, "data", "hex of the reply's first 64 payload bytes", "udp"},
      {OutputField::kIcmpResponder, "icmp_responder",
       "icmp-unreach: the address that sent the ICMP error (a router, or the target)", "udp"},
      {OutputField::kIcmpType, "icmp_type", "icmp-unreach: ICMP type (3)", "udp"},
      {OutputField::kIcmpCode, "icmp_code", "icmp-unreach: ICMP code (3 = port unreachable)",
       "udp"},
      {OutputField::kIcmpUnreachStr, "icmp_unreach_str",
       "icmp-unreach: the code in words (\"port unreachable\")", "udp"},
      {OutputField::kAliased, "aliased",
       "1 if the target is in an aliased prefix (--aliased-prefixes): likely not a real host"},
      {OutputField::kService, "service",
       "the service anyscan-identify found (http, tls, ssh, ..., banner, unknown)", "identify"},
      {OutputField::kStatus, "status",
       "anyscan-identify's status in zgrab2's words (success, io-timeout, ...)", "identify"},
      {OutputField::kBanner, "banner", "the first bytes the server sent (printable, at most 160)",
       "identify"},
  };
  return fields;
}

bool OutputFieldInfo::produced_by(std::string_view module) const {
  if (modules.empty()) return true;
  std::string_view rest = modules;
  while (!rest.empty()) {
    const size_t space = rest.find(' ');
    if (rest.substr(0, space) == module) return true;
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
  }
  return false;
}

const OutputFieldInfo& output_field_info(OutputField field) {
  for (const auto& info : output_fields())
    if (info.field == field) return info;
  return output_fields().front();
}

std::vector<OutputField> output_fields_of(std::string_view module) {
  std::vector<OutputField> out;
  for (const auto& info : output_fields())
    if (info.produced_by(module)) out.push_back(info.field);
  return out;
}

std::string fields_not_produced(const std::vector<OutputField>& fields, std::string_view module) {
  for (OutputField field : fields) {
    const OutputFieldInfo& info = output_field_info(field);
    if (!info.produced_by(module))
      return "output field '" + std::string(info.name) + "' is not produced by probe module " +
             std::string(module) + " (only by " + std::string(info.modules) + "; see -M " +
             std::string(module) + " --list-output-fields)";
  }
  return "";
}

std::string_view icmp_unreach_name(uint8_t type, uint8_t code) {
  if (type == 1) {  // ICMPv6 destination unreachable (RFC 4443 section 3.1; RFC 7112)
    static constexpr std::string_view kNames6[] = {"no route to destination",
                                                   "communication prohibited",
                                                   "beyond scope of source address",
                                                   "address unreachable",
                                                   "port unreachable",
                                                   "source address failed policy",
                                                   "reject route to destination",
                                                   "error in source routing header",
                                                   "headers too long"};
    return code < std::size(kNames6) ? kNames6[code] : std::string_view("unknown code");
  }
  static constexpr std::string_view kNames[] = {
      "network unreachable",       "host unreachable",
      "protocol unreachable",      "port unreachable",
      "fragmentation needed",      "source route failed",
      "network unknown",           "host unknown",
      "source host isolated",      "network prohibited",
      "host prohibited",           "network unreachable for TOS",
      "host unreachable for TOS",  "communication prohibited",
      "host precedence violation", "precedence cutoff"};
  return code < std::size(kNames) ? kNames[code] : std::string_view("unknown code");
}

std::string_view output_field_name(OutputField field) {
  if (field == OutputField::kEmpty) return "";
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
