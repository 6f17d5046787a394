#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace anyscan {

// The largest UDP payload: a 1500-byte MTU less the IPv4 and UDP headers. A probe is one
// unfragmented frame.
inline constexpr size_t kMaxUdpPayloadBytes = 1500 - 20 - 8;

// Where a request carries an identifier the service echoes in its answer. The probe writes
// (part of) the validation cookie there, and a reply is valid only if it echoes it back.
enum class UdpEcho : uint8_t {
  kNone,         // nothing echoed: the source port alone carries the cookie
  kId16,         // 16 bits at the same offset in request and reply (DNS, NetBIOS, memcached,
                 // CoAP message ID)
  kId32,         // 32 bits at the same offset (ONC RPC XID)
  kNtpOrigin,    // 64 bits: request transmit timestamp (40) = reply origin timestamp (24)
  kSnmpRequest,  // SNMP request-id, a 4-byte BER INTEGER in the request; found in the reply
                 // by walking its BER (the reply's lengths differ from the request's)
};

struct UdpPayload {
  std::string name;  // "dns", "hex", "text", ...
  std::vector<uint8_t> bytes;
  UdpEcho echo = UdpEcho::kNone;
  uint16_t echo_offset = 0;  // where the request carries it
  std::string origin;        // "built-in", "--probe-args", "FILE:LINE"
};

// The request payload for every destination port: the built-in table (services that answer
// only a valid request), or one payload for every port (--probe-args), extended or
// overridden per port by a payload file (--probe-payloads). Port 0 and every port without an
// entry get the default (an empty datagram, unless --probe-args set one).
class UdpPayloadTable {
 public:
  // The built-in table over an empty-datagram default.
  static UdpPayloadTable builtin();
  // One payload for every port (zmap's --probe-args): the built-in table is not used.
  static UdpPayloadTable single(UdpPayload payload);

  const UdpPayload& for_port(uint16_t port) const { return payloads_[by_port_[port]]; }
  // for_port(port) is payloads()[index_for_port(port)].
  uint16_t index_for_port(uint16_t port) const { return by_port_[port]; }
  // Every distinct payload, the default first.
  const std::vector<UdpPayload>& payloads() const { return payloads_; }
  size_t largest_bytes() const;
  // The built-in payloads, by name (for "builtin:NAME" in a payload file).
  static const UdpPayload* builtin_named(std::string_view name);

  // Sets ports [first, last] to `payload`; returns the payloads it replaced (one per
  // distinct earlier payload, the default not counted).
  std::vector<const UdpPayload*> assign(uint16_t first, uint16_t last, UdpPayload payload);

 private:
  UdpPayloadTable();
  std::vector<UdpPayload> payloads_;  // [0] is the default
  std::vector<uint16_t> by_port_;     // 65536 indexes into payloads_
};

// "text:STRING" (the bytes as written), "hex:0a1b.." or "file:PATH" (at most
// kMaxUdpPayloadBytes): zmap's --probe-args forms. In a payload file, text: also reads the
// escapes \r \n \t \\ \xHH (a line cannot hold a newline) and builtin:NAME names a built-in
// payload. Errors are kUsage/kDataErr one-liners without a location; callers add it.
Result<UdpPayload> parse_udp_payload(std::string_view spec, bool in_payload_file);

// Parses a payload file's text (`port[-port] SPEC` per line, # comments) over `table`.
// `source` names the file in errors ("FILE:LINE: ...", kDataErr) and in `notices`, one per
// line that overrides a built-in or --probe-args payload. Two lines for one port are an
// error: nothing replaces a payload silently.
Result<void> apply_udp_payload_file(std::string_view text, const std::string& source,
                                    UdpPayloadTable& table, std::vector<std::string>* notices);

// The table a scan uses: built-in or --probe-args, then the payload file if any.
Result<UdpPayloadTable> load_udp_payloads(const std::string& probe_args,
                                          const std::string& payload_file,
                                          std::vector<std::string>* notices);

// "dns (30 bytes, echoes a 16-bit ID) from built-in": one line for --dryrun and the logs.
std::string describe_udp_payload(const UdpPayload& payload);

}  // namespace anyscan
