#include "net/reply.h"

namespace anyscan {

std::string_view classification_name(Classification c) {
  switch (c) {
    case Classification::kSynAck:
      return "synack";
    case Classification::kRst:
      return "rst";
    case Classification::kEchoReply:
      return "echoreply";
    case Classification::kUnreachable:
      return "unreach";
    case Classification::kUdp:
      return "udp";
    case Classification::kIcmpUnreach:
      return "icmp-unreach";
  }
  return "unknown";
}

std::string_view invalid_reason_name(InvalidReason reason) {
  switch (reason) {
    case InvalidReason::kValidation:
      return "validation";
    case InvalidReason::kNonFirstFragment:
      return "ipv6_non_first_fragment";
    case InvalidReason::kHeaderChain:
      return "ipv6_header_chain";
  }
  return "unknown";
}

std::optional<Classification> classification_from_name(std::string_view name) {
  for (int i = 0; i < kClassificationCount; ++i) {
    const auto c = static_cast<Classification>(i);
    if (classification_name(c) == name) return c;
  }
  return std::nullopt;
}

}  // namespace anyscan
