#pragma once

#include <array>

#include "probe/probe_module.h"

namespace anyscan {

// icmp_echoscan: an echo request whose id and sequence carry the cookie:
//   id  = bits 0-15 of cookie(saddr, daddr, 0)
//   seq = bits 16-31 of the cookie + probe_number (mod 2^16)
// Echo replies from daddr with those fields -> echoreply (success). Destination
// unreachable messages that quote one of our probes (checked the same way on the quoted
// header) -> unreach, reported for the quoted target.
class IcmpEchoProbe final : public ProbeModule {
 public:
  static constexpr size_t kFrameBytes = 14 + 20 + 8;

  explicit IcmpEchoProbe(const ProbeParams& params);

  std::string_view name() const override { return "icmp_echoscan"; }
  bool uses_ports() const override { return false; }
  ReplyFilterSpec reply_filter() const override;
  size_t frame_bytes() const override { return kFrameBytes; }
  void build(const ProbeTarget* targets, size_t count, FrameSlot* slots) const override;
  void classify(const FrameView* frames, size_t count, ReplyVerdict* verdicts,
                Reply* replies) const override;

 private:
  ReplyVerdict classify_one(const FrameView& frame, Reply* reply) const;
  bool ids_valid(uint32_t daddr, uint16_t id, uint16_t seq) const;

  ProbeParams params_;
  SourceChoice sources_;
  std::array<uint8_t, kFrameBytes> template_{};
  uint16_t ip_checksum_ = 0;
  uint16_t icmp_checksum_ = 0;
};

std::unique_ptr<ProbeModule> make_icmp_echo_probe(const ProbeParams& params);

}  // namespace anyscan
