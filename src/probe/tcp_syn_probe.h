#pragma once

#include <array>

#include "probe/probe_module.h"

namespace anyscan {

// tcp_synscan: a SYN with an MSS option. Per target only daddr, ports and sequence number
// change; the template's checksums are adjusted for them (RFC 1624), never recomputed.
//   seq   = low 32 bits of cookie(saddr, daddr, dport)
//   sport = first + (high 32 bits of cookie + probe_number) mod count
// A reply is valid when it comes from (daddr, dport) to one of those source ports with
// ack == seq + 1: SYN-ACK -> synack (open), RST -> rst (closed).
class TcpSynProbe final : public ProbeModule {
 public:
  static constexpr size_t kFrameBytes = 14 + 20 + 24;

  explicit TcpSynProbe(const ProbeParams& params);

  std::string_view name() const override { return "tcp_synscan"; }
  bool uses_ports() const override { return true; }
  ReplyFilterSpec reply_filter() const override;
  size_t frame_bytes() const override { return kFrameBytes; }
  void build(const ProbeTarget* targets, size_t count, FrameSlot* slots) const override;
  void classify(const FrameView* frames, size_t count, ReplyVerdict* verdicts,
                Reply* replies) const override;

  // Exposed for tests: the validation fields a probe to (daddr, dport) carries.
  uint32_t sequence_for(uint32_t daddr, uint16_t dport) const;
  uint16_t source_port_for(uint32_t daddr, uint16_t dport, uint16_t probe_number) const;

 private:
  ReplyVerdict classify_one(const FrameView& frame, Reply* reply) const;

  ProbeParams params_;
  SourceChoice sources_;
  std::array<uint8_t, kFrameBytes> template_{};
  uint16_t ip_checksum_ = 0;   // template's, with saddr = daddr = 0
  uint16_t tcp_checksum_ = 0;  // template's, with daddr = ports = seq = 0
};

std::unique_ptr<ProbeModule> make_tcp_syn_probe(const ProbeParams& params);

}  // namespace anyscan
