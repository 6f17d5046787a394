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

std::optional<Classification> classification_from_name(std::string_view name) {
  for (int i = 0; i < kClassificationCount; ++i) {
    const auto c = static_cast<Classification>(i);
    if (classification_name(c) == name) return c;
  }
  return std::nullopt;
}

}  // namespace anyscan
