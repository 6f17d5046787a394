#pragma once

#include <array>

#include "probe/probe_module.h"

namespace anyscan {

// tcp_synscan: a SYN with an MSS option, over IPv4 or IPv6 as the target is. Per target
// only the addresses, ports and sequence number change; the template's checksums are
// adjusted for them (RFC 1624), never recomputed.
//   seq   = low 32 bits of cookie(saddr, daddr, dport)   (IPv6: both 128-bit addresses)
//   sport = first + (high 32 bits of cookie + probe_number) mod count
// A reply is valid when it comes from (daddr, dport) to one of those source ports with
// ack == seq + 1: SYN-ACK -> synack (open), RST -> rst (closed).
class TcpSynProbe final : public ProbeModule {
 public:
  static constexpr size_t kTcpBytes = 24;
  static constexpr size_t kFrameBytes = 14 + 20 + kTcpBytes;
  static constexpr size_t kFrame6Bytes = 14 + 40 + kTcpBytes;

  explicit TcpSynProbe(const ProbeParams& params);

  std::string_view name() const override { return "tcp_synscan"; }
  bool uses_ports() const override { return true; }
  ReplyFilterSpec reply_filter() const override;
  size_t frame_bytes() const override {
    return sources_.has(IpFamily::kIpv6) ? kFrame6Bytes : kFrameBytes;
  }
  void build(const ProbeTarget* targets, size_t count, FrameSlot* slots) const override;
  void classify(const FrameView* frames, size_t count, ReplyVerdict* verdicts,
                Reply* replies) const override;

  // Exposed for tests: the validation fields a probe to (daddr, dport) carries.
  uint32_t sequence_for(IpAddress daddr, uint16_t dport) const;
  uint16_t source_port_for(IpAddress daddr, uint16_t dport, uint16_t probe_number) const;

 private:
  ReplyVerdict classify_one(const FrameView& frame, Reply* reply) const;
  void build_ipv6(const ProbeTarget& target, FrameSlot& slot) const;

  ProbeParams params_;
  SourceChoice sources_;
  std::array<uint8_t, kFrameBytes> template_{};
  std::array<uint8_t, kFrame6Bytes> template6_{};
  uint16_t ip_checksum_ = 0;    // template's, with saddr = daddr = 0
  uint16_t tcp_checksum_ = 0;   // template's, with daddr = ports = seq = 0
  uint16_t tcp6_checksum_ = 0;  // IPv6 template's, the same
};

std::unique_ptr<ProbeModule> make_tcp_syn_probe(const ProbeParams& params);

}  // namespace anyscan
