#pragma once

#include <array>

#include "probe/probe_module.h"

namespace anyscan {

// icmp_echoscan (also icmp6_echoscan): an echo request (ICMP, or ICMPv6 for an IPv6
// target) whose fields carry the cookie:
//   id  = bits 0-15 of cookie(saddr, daddr, 0)
//   seq = bits 16-31 of the cookie + probe_number (mod 2^16)
//   IPv6 also: an 8-byte payload, cookie(saddr, daddr, 1), which the reply echoes
// Echo replies from daddr with those fields -> echoreply (success). Destination
// unreachable messages that quote one of our probes (checked the same way on the quoted
// header) -> unreach, reported for the quoted target.
class IcmpEchoProbe final : public ProbeModule {
 public:
  static constexpr size_t kFrameBytes = 14 + 20 + 8;
  static constexpr size_t kPayload6Bytes = 8;
  static constexpr size_t kFrame6Bytes = 14 + 40 + 8 + kPayload6Bytes;

  explicit IcmpEchoProbe(const ProbeParams& params);

  std::string_view name() const override { return "icmp_echoscan"; }
  bool uses_ports() const override { return false; }
  ReplyFilterSpec reply_filter() const override;
  size_t frame_bytes() const override {
    return sources_.has(IpFamily::kIpv6) ? kFrame6Bytes : kFrameBytes;
  }
  void build(const ProbeTarget* targets, size_t count, FrameSlot* slots) const override;
  void classify(const FrameView* frames, size_t count, ReplyVerdict* verdicts,
                Reply* replies) const override;

 private:
  ReplyVerdict classify_one(const FrameView& frame, Reply* reply) const;
  ReplyVerdict classify_icmp6(const FrameView& frame, const IpFrame& ip, Reply* reply) const;
  void build_ipv6(const ProbeTarget& target, FrameSlot& slot) const;
  bool ids_valid(IpAddress daddr, uint16_t id, uint16_t seq) const;
  // IPv6: the echo payload a probe to daddr carries (from our address for it).
  uint64_t payload6_for(IpAddress daddr) const;

  ProbeParams params_;
  SourceChoice sources_;
  std::array<uint8_t, kFrameBytes> template_{};
  std::array<uint8_t, kFrame6Bytes> template6_{};
  uint16_t ip_checksum_ = 0;
  uint16_t icmp_checksum_ = 0;
  uint16_t icmp6_checksum_ = 0;  // with zero addresses, id, seq and payload
};

std::unique_ptr<ProbeModule> make_icmp_echo_probe(const ProbeParams& params);

}  // namespace anyscan
