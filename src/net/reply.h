#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "net/ip_address.h"

namespace anyscan {

// What a validated reply says about a target. One result record per
// (address, port, classification).
enum class Classification : uint8_t {
  kSynAck = 0,       // TCP SYN-ACK: port open
  kRst = 1,          // TCP RST: port closed
  kEchoReply = 2,    // ICMP echo reply: host up
  kUnreachable = 3,  // ICMP destination unreachable quoting our probe
  kUdp = 4,          // UDP datagram from the probed port: open (zmap's "udp")
  kIcmpUnreach = 5,  // ICMP unreachable quoting our UDP probe: port unreachable = closed,
                     // other codes filtered (zmap's "icmp-unreach")
};
inline constexpr int kClassificationCount = 6;

std::string_view classification_name(Classification c);
// The inverse of classification_name; nullopt for any other text.
std::optional<Classification> classification_from_name(std::string_view name);
inline bool classification_success(Classification c) {
  return c == Classification::kSynAck || c == Classification::kEchoReply ||
         c == Classification::kUdp;
}

// How many bytes of a UDP reply's payload a result keeps (the opt-in `data` field).
inline constexpr size_t kReplyDataBytes = 64;

// Why a frame to one of our addresses was kInvalid (Reply::invalid_reason; the receiver
// counts each, the metadata reports them as validation_failed_by_reason).
enum class InvalidReason : uint8_t {
  kValidation = 0,        // the cookie, the ports or the shape of the reply did not match
  kNonFirstFragment = 1,  // an IPv6 later fragment to us (IPv4's are unrelated, as before)
  kHeaderChain = 2,       // an IPv6 extension-header chain that could not be walked
};
inline constexpr int kInvalidReasonCount = 3;
std::string_view invalid_reason_name(InvalidReason reason);

struct Reply {
  IpAddress saddr;     // the target that answered
  IpAddress daddr;     // our address it answered to
  uint16_t sport = 0;  // target port (0 for ICMP)
  uint16_t dport = 0;  // our source port (ICMP: echo id)
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint16_t window = 0;
  uint8_t ttl = 0;    // IPv4 TTL, IPv6 hop limit
  uint16_t ipid = 0;  // IPv4 identification of the reply (IPv6: 0)
  Classification classification = Classification::kSynAck;
  // UDP: the reply's UDP length field, and its first payload bytes.
  uint16_t udp_length = 0;
  uint8_t data_length = 0;
  // ICMP errors (icmp-unreach): type and code, and the address that sent the error (a
  // router on the way, or the target itself).
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  IpAddress icmp_responder;
  InvalidReason invalid_reason = InvalidReason::kValidation;  // set with kInvalid
  uint8_t data[kReplyDataBytes] = {};
};

enum class ReplyVerdict : uint8_t {
  kUnrelated,  // not a reply shape this probe produces (other protocol, other flags, ...)
  kInvalid,    // looks like a reply to us but fails validation: counted, never reported
  kValid,
};

}  // namespace anyscan
