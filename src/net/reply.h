#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace anyscan {

// What a validated reply says about a target. One result record per
// (address, port, classification).
enum class Classification : uint8_t {
  kSynAck = 0,       // TCP SYN-ACK: port open
  kRst = 1,          // TCP RST: port closed
  kEchoReply = 2,    // ICMP echo reply: host up
  kUnreachable = 3,  // ICMP destination unreachable quoting our probe
};
inline constexpr int kClassificationCount = 4;

std::string_view classification_name(Classification c);
// The inverse of classification_name; nullopt for any other text.
std::optional<Classification> classification_from_name(std::string_view name);
inline bool classification_success(Classification c) {
  return c == Classification::kSynAck || c == Classification::kEchoReply;
}

struct Reply {
  uint32_t saddr = 0;  // the target that answered (host order)
  uint32_t daddr = 0;  // our address it answered to
  uint16_t sport = 0;  // target port (0 for ICMP)
  uint16_t dport = 0;  // our source port (ICMP: echo id)
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint16_t window = 0;
  uint8_t ttl = 0;
  uint16_t ipid = 0;  // IP identification of the reply
  Classification classification = Classification::kSynAck;
};

enum class ReplyVerdict : uint8_t {
  kUnrelated,  // not a reply shape this probe produces (other protocol, other flags, ...)
  kInvalid,    // looks like a reply to us but fails validation: counted, never reported
  kValid,
};

}  // namespace anyscan
