#include "probe/icmp_echo_probe.h"

#include <cstring>

#include "net/checksum.h"
#include "net/frame_header.h"
#include "net/frame_layout.h"
#include "net/ip_frame.h"

namespace anyscan {

using namespace frame;

namespace {
constexpr size_t kIcmp = kIp + kIpMinHeaderBytes;
constexpr size_t kIcmp6 = kIp + kIpv6HeaderBytes;
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

  uint8_t* f6 = template6_.data();
  constexpr auto kIcmp6Bytes = static_cast<uint16_t>(kIcmpHeaderBytes + kPayload6Bytes);
  write_frame_header(
      f6, {params.source_mac, gateway6_of(params), IpFamily::kIpv6, kProtoIcmpv6, params.ttl, 0},
      kIcmp6Bytes);
  f6[kIcmp6 + kIcmpType] = kIcmp6EchoRequest;
  const uint8_t zero[16] = {};
  // RFC 4443 section 2.3: ICMPv6's checksum covers the IPv6 pseudo-header.
  icmp6_checksum_ = static_cast<uint16_t>(~checksum_fold(checksum_partial(
      f6 + kIcmp6, kIcmp6Bytes, pseudo_header_sum6(zero, zero, kProtoIcmpv6, kIcmp6Bytes))));
  store_be16(f6 + kIcmp6 + kIcmpChecksum, icmp6_checksum_);
}

ReplyFilterSpec IcmpEchoProbe::reply_filter() const {
  // Echo replies, and unreachables that may quote a probe.
  ReplyFilterSpec spec;
  sources_.fill_filter(spec);
  if (sources_.has(IpFamily::kIpv4))
    spec.rules.push_back(
        ReplyFilterRule{IpFamily::kIpv4, kProtoIcmp, 0, 0,
                        icmp_type_bit(kIcmpEchoReply) | icmp_type_bit(kIcmpUnreachable)});
  if (sources_.has(IpFamily::kIpv6))
    spec.rules.push_back(
        ReplyFilterRule{IpFamily::kIpv6, kProtoIcmpv6, 0, 0,
                        icmp6_type_bit(kIcmp6EchoReply) | icmp6_type_bit(kIcmp6Unreachable)});
  return spec;
}

uint64_t IcmpEchoProbe::payload6_for(IpAddress daddr) const {
  return validation_cookie(params_.key, sources_.for_target(daddr), daddr, 1);
}

void IcmpEchoProbe::build_ipv6(const ProbeTarget& target, FrameSlot& slot) const {
  uint8_t* f = slot.data;
  std::memcpy(f, template6_.data(), kFrame6Bytes);
  const IpAddress saddr = sources_.for_target(target.daddr);
  const uint64_t cookie = validation_cookie(params_.key, saddr, target.daddr, 0);
  saddr.to_bytes(f + kIp + kIpv6Src);
  target.daddr.to_bytes(f + kIp + kIpv6Dst);
  uint8_t* icmp = f + kIcmp6;
  store_be16(icmp + kIcmpId, static_cast<uint16_t>(cookie));
  store_be16(icmp + kIcmpSeq, static_cast<uint16_t>((cookie >> 16) + target.probe_number));
  const uint64_t payload = payload6_for(target.daddr);
  store_be32(icmp + kIcmpHeaderBytes, static_cast<uint32_t>(payload >> 32));
  store_be32(icmp + kIcmpHeaderBytes + 4, static_cast<uint32_t>(payload));
  uint32_t added = checksum_partial(f + kIp + kIpv6Src, 32);
  added = checksum_partial(icmp + kIcmpId, 4 + kPayload6Bytes, added);
  store_be16(icmp + kIcmpChecksum, checksum_add(icmp6_checksum_, added));
  slot.length = kFrame6Bytes;
}

void IcmpEchoProbe::build(const ProbeTarget* targets, size_t count, FrameSlot* slots) const {
  for (size_t i = 0; i < count; ++i) {
    if (!targets[i].daddr.is_ipv4()) {
      build_ipv6(targets[i], slots[i]);
      continue;
    }
    uint8_t* f = slots[i].data;
    std::memcpy(f, template_.data(), kFrameBytes);
    const uint32_t daddr = targets[i].daddr.ipv4();
    const uint32_t saddr = sources_.for_target(targets[i].daddr).ipv4();
    const uint64_t cookie = validation_cookie(params_.key, saddr, daddr, 0);
    const uint16_t id = static_cast<uint16_t>(cookie);
    const uint16_t seq = static_cast<uint16_t>((cookie >> 16) + targets[i].probe_number);
    set_ipv4_addresses(f, saddr, daddr, ip_checksum_);
    store_be16(f + kIcmp + kIcmpId, id);
    store_be16(f + kIcmp + kIcmpSeq, seq);
    uint16_t sum = checksum_adjust16(icmp_checksum_, 0, id);
    store_be16(f + kIcmp + kIcmpChecksum, checksum_adjust16(sum, 0, seq));
    slots[i].length = kFrameBytes;
  }
}

bool IcmpEchoProbe::ids_valid(IpAddress daddr, uint16_t id, uint16_t seq) const {
  const uint64_t cookie = validation_cookie(params_.key, sources_.for_target(daddr), daddr, 0);
  if (id != static_cast<uint16_t>(cookie)) return false;
  const uint16_t probe_number = static_cast<uint16_t>(seq - static_cast<uint16_t>(cookie >> 16));
  return probe_number < params_.probes_per_target;
}

ReplyVerdict IcmpEchoProbe::classify_one(const FrameView& view, Reply* reply) const {
  IpFrame ip;
  if (const ReplyVerdict layer = reply_ip_layer(view, sources_, &ip, reply);
      layer != ReplyVerdict::kValid)
    return layer;
  if (ip.family == IpFamily::kIpv6) return classify_icmp6(view, ip, reply);
  if (ip.protocol != kProtoIcmp) return ReplyVerdict::kUnrelated;
  if (ip.l4_bytes < kIcmpHeaderBytes) return ReplyVerdict::kInvalid;
  const uint8_t* icmp = view.data + ip.l4_offset;
  const uint8_t type = icmp[kIcmpType];

  if (type == kIcmpEchoReply) {
    const uint16_t id = load_be16(icmp + kIcmpId);
    const uint16_t seq = load_be16(icmp + kIcmpSeq);
    // The target was probed from one of our addresses only: a reply to another is not its.
    if (ip.daddr != sources_.for_target(ip.saddr) || !ids_valid(ip.saddr, id, seq))
      return ReplyVerdict::kInvalid;
    *reply = Reply{};
    reply->saddr = ip.saddr;
    reply->daddr = ip.daddr;
    reply->dport = id;
    reply->seq = seq;
    reply->ttl = ip.ttl;
    reply->ipid = ip.ipid;
    reply->classification = Classification::kEchoReply;
    return ReplyVerdict::kValid;
  }
  if (type != kIcmpUnreachable) return ReplyVerdict::kUnrelated;

  // Quoted datagram: our IP header (no options) + the first 8 bytes of our ICMP header.
  const size_t quoted = ip.l4_offset + kIcmpHeaderBytes;
  if (ip.l4_bytes < kIcmpHeaderBytes + kIpMinHeaderBytes + kIcmpHeaderBytes)
    return ReplyVerdict::kInvalid;
  const uint8_t* inner = view.data + quoted;
  if (inner[0] != 0x45 || inner[9] != kProtoIcmp) return ReplyVerdict::kInvalid;
  const IpAddress target = IpAddress::v4(load_be32(inner + 16));
  if (IpAddress::v4(load_be32(inner + 12)) != sources_.for_target(target))
    return ReplyVerdict::kInvalid;
  const uint8_t* inner_icmp = inner + kIpMinHeaderBytes;
  if (inner_icmp[kIcmpType] != kIcmpEchoRequest) return ReplyVerdict::kInvalid;
  if (!ids_valid(target, load_be16(inner_icmp + kIcmpId), load_be16(inner_icmp + kIcmpSeq)))
    return ReplyVerdict::kInvalid;
  *reply = Reply{};
  reply->saddr = target;
  reply->daddr = ip.daddr;
  reply->ttl = ip.ttl;
  reply->ipid = ip.ipid;
  reply->classification = Classification::kUnreachable;
  return ReplyVerdict::kValid;
}

ReplyVerdict IcmpEchoProbe::classify_icmp6(const FrameView& view, const IpFrame& ip,
                                           Reply* reply) const {
  if (ip.protocol != kProtoIcmpv6) return ReplyVerdict::kUnrelated;
  if (ip.l4_bytes < kIcmpHeaderBytes) return ReplyVerdict::kInvalid;
  const uint8_t* icmp = view.data + ip.l4_offset;
  const uint8_t type = icmp[kIcmpType];
  auto payload_of = [](const uint8_t* p) {
    return uint64_t{load_be32(p)} << 32 | load_be32(p + 4);
  };
  if (type == kIcmp6EchoReply) {
    // The target was probed from one of our addresses only; the reply echoes id, seq and
    // the payload (RFC 4443 section 4.2).
    if (ip.l4_bytes < kIcmpHeaderBytes + kPayload6Bytes ||
        ip.daddr != sources_.for_target(ip.saddr) ||
        !ids_valid(ip.saddr, load_be16(icmp + kIcmpId), load_be16(icmp + kIcmpSeq)) ||
        payload_of(icmp + kIcmpHeaderBytes) != payload6_for(ip.saddr))
      return ReplyVerdict::kInvalid;
    *reply = Reply{};
    reply->saddr = ip.saddr;
    reply->daddr = ip.daddr;
    reply->dport = load_be16(icmp + kIcmpId);
    reply->seq = load_be16(icmp + kIcmpSeq);
    reply->ttl = ip.ttl;
    reply->classification = Classification::kEchoReply;
    return ReplyVerdict::kValid;
  }
  if (type != kIcmp6Unreachable) return ReplyVerdict::kUnrelated;
  // The quoted packet (RFC 4443 section 3.1): our IPv6 header (no extension headers) and as
  // much of our echo request as fits; its payload is checked when quoted.
  const size_t quoted = ip.l4_bytes - kIcmpHeaderBytes;
  if (quoted < kIpv6HeaderBytes + kIcmpHeaderBytes) return ReplyVerdict::kInvalid;
  const uint8_t* inner = icmp + kIcmpHeaderBytes;
  if ((inner[0] >> 4) != 6 || inner[kIpv6NextHeader] != kProtoIcmpv6) return ReplyVerdict::kInvalid;
  const IpAddress target = IpAddress::from_bytes(inner + kIpv6Dst);
  if (IpAddress::from_bytes(inner + kIpv6Src) != sources_.for_target(target))
    return ReplyVerdict::kInvalid;
  const uint8_t* inner_icmp = inner + kIpv6HeaderBytes;
  if (inner_icmp[kIcmpType] != kIcmp6EchoRequest ||
      !ids_valid(target, load_be16(inner_icmp + kIcmpId), load_be16(inner_icmp + kIcmpSeq)))
    return ReplyVerdict::kInvalid;
  if (quoted >= kIpv6HeaderBytes + kIcmpHeaderBytes + kPayload6Bytes &&
      payload_of(inner_icmp + kIcmpHeaderBytes) != payload6_for(target))
    return ReplyVerdict::kInvalid;
  *reply = Reply{};
  reply->saddr = target;
  reply->daddr = ip.daddr;
  reply->ttl = ip.ttl;
  reply->classification = Classification::kUnreachable;
  return ReplyVerdict::kValid;
}

void IcmpEchoProbe::classify(const FrameView* frames, size_t count, ReplyVerdict* verdicts,
                             Reply* replies) const {
  for (size_t i = 0; i < count; ++i) {
    replies[i].invalid_reason = InvalidReason::kValidation;
    verdicts[i] = classify_one(frames[i], &replies[i]);
  }
}

std::unique_ptr<ProbeModule> make_icmp_echo_probe(const ProbeParams& params) {
  return std::make_unique<IcmpEchoProbe>(params);
}

}  // namespace anyscan
