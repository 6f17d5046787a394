#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/ip_address.h"

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
  // udp
  kUdpPktSize,
  kData,
  kIcmpResponder,
  kIcmpType,
  kIcmpCode,
  kIcmpUnreachStr,
  // IPv6 at scale
  kAliased,
  // anyscan-identify
  kService,
  kStatus,
  kBanner,
  // An empty CSV cell (zgrab2's input format, -O zgrab2: ip,domain,tag,port); never named
  // by -f. A field list holding one is written without a header.
  kEmpty,
};

struct OutputFieldInfo {
  OutputField field;
  std::string_view name;
  std::string_view description;
  // The probe modules that produce it, space-separated; empty = every module.
  std::string_view modules = {};

  bool produced_by(std::string_view module) const;
};

// zmap's saddr_raw/daddr_raw: the address's four bytes in network order, read as a
// little-endian integer (what zmap prints on x86), so 1.2.3.4 is 67305985. zmap has no
// IPv6: an IPv6 address's is 0.
inline uint64_t zmap_raw_address(IpAddress address) {
  return address.is_ipv4() ? __builtin_bswap32(address.ipv4()) : 0;
}

const std::vector<OutputFieldInfo>& output_fields();
const OutputFieldInfo& output_field_info(OutputField field);
// The fields a probe module produces (--list-output-fields, -f '*').
std::vector<OutputField> output_fields_of(std::string_view module);
// Why `fields` cannot be used with `module` (the first field it does not produce), or "".
std::string fields_not_produced(const std::vector<OutputField>& fields, std::string_view module);
// zmap-style text for a destination unreachable code ("port unreachable"): ICMP's (type 3)
// or ICMPv6's (type 1).
std::string_view icmp_unreach_name(uint8_t type, uint8_t code);
std::string_view output_field_name(OutputField field);
std::vector<OutputField> default_output_fields();
// "saddr,sport,classification": comma-separated names, no duplicates (kUsage on error).
Result<std::vector<OutputField>> parse_output_fields(std::string_view text);

}  // namespace anyscan
