#pragma once

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "probe/probe_module.h"
#include "probe/udp_payloads.h"

namespace anyscan {

// udp: one datagram per (address, port), its payload chosen by the destination port
// (UdpPayloadTable). The validation cookie is cookie(saddr, daddr, dport), as for TCP:
//   sport = first + (high 32 bits of cookie + probe_number) mod count
//   and, where the payload's protocol echoes an identifier, its low bits there.
//   and the IP identification = bits 16-31 of the cookie (IPv4), or the flow label = bits
//   12-31 of it (IPv6, which has no identification: the flow label is in the header an
//   ICMPv6 error quotes, RFC 4443 section 3.1, and nothing on the way may change it).
// A UDP reply is valid when it comes from (daddr, dport) to that source port and echoes the
// identifier (-> udp, open). An ICMP destination unreachable is valid when the datagram it
// quotes is one of our probes: our address, source port and IP identification (flow label)
// for that target and port (-> icmp-unreach: port unreachable = closed (ICMP code 3, ICMPv6
// code 4), other codes filtered).
class UdpProbe final : public ProbeModule {
 public:
  static constexpr size_t kHeaderBytes = 14 + 20 + 8;
  static constexpr size_t kHeader6Bytes = 14 + 40 + 8;

  UdpProbe(const ProbeParams& params, std::shared_ptr<const UdpPayloadTable> payloads);

  std::string_view name() const override { return "udp"; }
  bool uses_ports() const override { return true; }
  ReplyFilterSpec reply_filter() const override;
  size_t frame_bytes() const override { return frame_bytes_; }
  // "payloads:<FNV-1a 64 of every port's payload>".
  std::string parameters() const override;
  void build(const ProbeTarget* targets, size_t count, FrameSlot* slots) const override;
  void classify(const FrameView* frames, size_t count, ReplyVerdict* verdicts,
                Reply* replies) const override;

  const UdpPayloadTable& payloads() const { return *payloads_; }
  // Exposed for tests: the source port a probe to (daddr, dport) leaves from.
  uint16_t source_port_for(uint32_t daddr, uint16_t dport, uint16_t probe_number) const;
  uint16_t source_port_for(IpAddress daddr, uint16_t dport, uint16_t probe_number) const;
  // The flow label of an IPv6 probe with this cookie.
  static uint32_t flow_label_for(uint64_t cookie) {
    return static_cast<uint32_t>(cookie >> 12) & 0xfffffu;
  }

 private:
  // Per payload, prepared once: the UDP checksum of header+payload with addresses, ports
  // and the echoed identifier all zero; per target they are added (RFC 1624).
  struct Prepared {
    uint16_t udp_checksum;
    uint16_t ip_checksum;    // the template's, with this payload's total length
    uint16_t udp6_checksum;  // the UDP checksum over the IPv6 pseudo-header, the same zeros
  };

  void build_ipv6(const ProbeTarget& target, FrameSlot& slot) const;
  ReplyVerdict classify_udp(const uint8_t* frame, size_t l4_offset, size_t l4_bytes,
                            IpAddress saddr, IpAddress daddr, Reply* reply) const;
  ReplyVerdict classify_icmp(const uint8_t* frame, size_t l4_offset, size_t l4_bytes,
                             IpAddress responder, IpAddress daddr, Reply* reply) const;
  ReplyVerdict classify_icmp6(const uint8_t* frame, size_t l4_offset, size_t l4_bytes,
                              IpAddress responder, IpAddress daddr, Reply* reply) const;
  // What both families' errors share: the quoted datagram (ours -> target, its UDP header at
  // `udp`) must be one of our probes, `header_bits` the cookie bits its IP header carried (the
  // IPv4 identification, the IPv6 flow label).
  ReplyVerdict classify_quoted(const uint8_t* icmp, IpAddress ours, IpAddress target,
                               const uint8_t* udp, uint32_t header_bits, IpAddress responder,
                               IpAddress daddr, Reply* reply) const;
  // Whether `sport` (our port) and the echoed identifier in `payload` fit a probe from
  // `saddr` (ours) to (daddr, dport). `payload` may be null when only the port is known.
  bool cookie_valid(IpAddress saddr, IpAddress daddr, uint16_t dport, uint16_t sport,
                    const uint8_t* payload, size_t payload_bytes) const;

  ProbeParams params_;
  SourceChoice sources_;
  std::shared_ptr<const UdpPayloadTable> payloads_;
  std::vector<Prepared> prepared_;  // parallel to payloads_->payloads()
  std::array<uint8_t, kHeaderBytes> template_{};
  std::array<uint8_t, kHeader6Bytes> template6_{};
  size_t frame_bytes_;
};

std::unique_ptr<ProbeModule> make_udp_probe(const ProbeParams& params);

// The request-id of an SNMP v1/v2c message (SEQUENCE { version, community, PDU {
// request-id, ... } }), as the unsigned 32 bits it fits in; nullopt if it is not one (a
// negative or longer INTEGER, an indefinite or overlong length, a cut message). Exposed for
// the fuzzer.
std::optional<uint32_t> snmp_request_id(const uint8_t* message, size_t bytes);

}  // namespace anyscan
