#include "probe/icmp_echo_probe.h"

#include <cstring>

#include "net/checksum.h"
#include "net/frame_header.h"
#include "net/frame_layout.h"
#include "net/ipv4_frame.h"

namespace anyscan {

using namespace frame;

namespace {
constexpr size_t kIcmp = kIp + kIpMinHeaderBytes;
}  // namespace

IcmpEchoProbe::IcmpEchoProbe(const ProbeParams& params)
    : params_(params), sources_(params.source_ips, params.key) {
  uint8_t* f = template_.data();
  // saddr and daddr stay 0 in the template; the checksum covers them as 0.
  ip_checksum_ = write_frame_header(
      f, {params.source_mac, params.gateway_mac, IpFamily::kIpv4, kProtoIcmp, params.ttl, 54321},
      kIcmpHeaderBytes);
  f[kIcmp + kIcmpType] = kIcmpEchoRequest;
  icmp_checksum_ = checksum(f + kIcmp, kIcmpHeaderBytes);
  store_be16(f + kIcmp + kIcmpChecksum, icmp_checksum_);
}

ReplyFilterSpec IcmpEchoProbe::reply_filter() const {
  // Echo replies, and unreachables that may quote a probe.
  return ReplyFilterSpec{
      sources_.first(),
      sources_.last(),
      {ReplyFilterRule{kProtoIcmp, 0, 0,
                       icmp_type_bit(kIcmpEchoReply) | icmp_type_bit(kIcmpUnreachable)}}};
}

void IcmpEchoProbe::build(const ProbeTarget* targets, size_t count, FrameSlot* slots) const {
  for (size_t i = 0; i < count; ++i) {
    uint8_t* f = slots[i].data;
    std::memcpy(f, template_.data(), kFrameBytes);
    const uint32_t saddr = sources_.for_target(targets[i].daddr);
    const uint64_t cookie = validation_cookie(params_.key, saddr, targets[i].daddr, 0);
    const uint16_t id = static_cast<uint16_t>(cookie);
    const uint16_t seq = static_cast<uint16_t>((cookie >> 16) + targets[i].probe_number);
    set_ipv4_addresses(f, saddr, targets[i].daddr, ip_checksum_);
    store_be16(f + kIcmp + kIcmpId, id);
    store_be16(f + kIcmp + kIcmpSeq, seq);
    uint16_t sum = checksum_adjust16(icmp_checksum_, 0, id);
    store_be16(f + kIcmp + kIcmpChecksum, checksum_adjust16(sum, 0, seq));
    slots[i].length = kFrameBytes;
  }
}

bool IcmpEchoProbe::ids_valid(uint32_t daddr, uint16_t id, uint16_t seq) const {
  const uint64_t cookie = validation_cookie(params_.key, sources_.for_target(daddr), daddr, 0);
  if (id != static_cast<uint16_t>(cookie)) return false;
  const uint16_t probe_number = static_cast<uint16_t>(seq - static_cast<uint16_t>(cookie >> 16));
  return probe_number < params_.probes_per_target;
}

ReplyVerdict IcmpEchoProbe::classify_one(const FrameView& view, Reply* reply) const {
  const auto ip = parse_ipv4_frame(view.data, view.length);
  if (!ip || ip->protocol != kProtoIcmp || !sources_.contains(ip->daddr))
    return ReplyVerdict::kUnrelated;
  if (ip->l4_bytes < kIcmpHeaderBytes) return ReplyVerdict::kInvalid;
  const uint8_t* icmp = view.data + ip->l4_offset;
  const uint8_t type = icmp[kIcmpType];

  if (type == kIcmpEchoReply) {
    const uint16_t id = load_be16(icmp + kIcmpId);
    const uint16_t seq = load_be16(icmp + kIcmpSeq);
    // The target was probed from one of our addresses only: a reply to another is not its.
    if (ip->daddr != sources_.for_target(ip->saddr) || !ids_valid(ip->saddr, id, seq))
      return ReplyVerdict::kInvalid;
    *reply = Reply{};
    reply->saddr = ip->saddr;
    reply->daddr = ip->daddr;
    reply->dport = id;
    reply->seq = seq;
    reply->ttl = ip->ttl;
    reply->ipid = ip->ipid;
    reply->classification = Classification::kEchoReply;
    return ReplyVerdict::kValid;
  }
  if (type != kIcmpUnreachable) return ReplyVerdict::kUnrelated;

  // Quoted datagram: our IP header (no options) + the first 8 bytes of our ICMP header.
  const size_t quoted = ip->l4_offset + kIcmpHeaderBytes;
  if (ip->l4_bytes < kIcmpHeaderBytes + kIpMinHeaderBytes + kIcmpHeaderBytes)
    return ReplyVerdict::kInvalid;
  const uint8_t* inner = view.data + quoted;
  if (inner[0] != 0x45 || inner[9] != kProtoIcmp) return ReplyVerdict::kInvalid;
  const uint32_t target = load_be32(inner + 16);
  if (load_be32(inner + 12) != sources_.for_target(target)) return ReplyVerdict::kInvalid;
  const uint8_t* inner_icmp = inner + kIpMinHeaderBytes;
  if (inner_icmp[kIcmpType] != kIcmpEchoRequest) return ReplyVerdict::kInvalid;
  if (!ids_valid(target, load_be16(inner_icmp + kIcmpId), load_be16(inner_icmp + kIcmpSeq)))
    return ReplyVerdict::kInvalid;
  *reply = Reply{};
  reply->saddr = target;
  reply->daddr = ip->daddr;
  reply->ttl = ip->ttl;
  reply->ipid = ip->ipid;
  reply->classification = Classification::kUnreachable;
  return ReplyVerdict::kValid;
}

void IcmpEchoProbe::classify(const FrameView* frames, size_t count, ReplyVerdict* verdicts,
                             Reply* replies) const {
  for (size_t i = 0; i < count; ++i) verdicts[i] = classify_one(frames[i], &replies[i]);
}

std::unique_ptr<ProbeModule> make_icmp_echo_probe(const ProbeParams& params) {
  return std::make_unique<IcmpEchoProbe>(params);
}

}  // namespace anyscan
