#include "probe/tcp_syn_probe.h"

#include <cstring>

#include "net/checksum.h"
#include "net/frame_header.h"
#include "net/frame_layout.h"
#include "net/ip_frame.h"

namespace anyscan {

using namespace frame;

namespace {
constexpr size_t kTcp = kIp + kIpMinHeaderBytes;
constexpr size_t kTcp6 = kIp + kIpv6HeaderBytes;
constexpr uint16_t kWindow = 65535;
constexpr uint16_t kMss = 1460;
constexpr uint16_t kMss6 = 1440;  // 1500 - 40 - 20 (RFC 8200's minimum MTU allows less)

// The SYN with its MSS option and its checksum over a pseudo-header sum of zero addresses.
uint16_t write_syn(uint8_t* t, uint16_t mss, uint32_t pseudo) {
  t[kTcpDataOffset] = (TcpSynProbe::kTcpBytes / 4) << 4;
  t[kTcpFlags] = kTcpSyn;
  store_be16(t + kTcpWindow, kWindow);
  t[20] = 2;  // MSS option: kind 2, length 4
  t[21] = 4;
  store_be16(t + 22, mss);
  const auto sum =
      static_cast<uint16_t>(~checksum_fold(checksum_partial(t, TcpSynProbe::kTcpBytes, pseudo)));
  store_be16(t + kTcpChecksum, sum);
  return sum;
}

}  // namespace

TcpSynProbe::TcpSynProbe(const ProbeParams& params)
    : params_(params), sources_(params.source_ips, params.key) {
  // saddr and daddr stay 0 in the templates; the checksums cover them as 0. The IP ID is
  // fixed, like zmap's: nothing validates it.
  ip_checksum_ = write_frame_header(
      template_.data(),
      {params.source_mac, params.gateway_mac, IpFamily::kIpv4, kProtoTcp, params.ttl, 54321},
      kTcpBytes);
  tcp_checksum_ = write_syn(template_.data() + kTcp, kMss,
                            pseudo_header_sum(0, 0, kProtoTcp, static_cast<uint16_t>(kTcpBytes)));
  write_frame_header(
      template6_.data(),
      {params.source_mac, gateway6_of(params), IpFamily::kIpv6, kProtoTcp, params.ttl, 0},
      kTcpBytes);
  const uint8_t zero[16] = {};
  tcp6_checksum_ = write_syn(template6_.data() + kTcp6, kMss6,
                             pseudo_header_sum6(zero, zero, kProtoTcp, kTcpBytes));
}

ReplyFilterSpec TcpSynProbe::reply_filter() const {
  const uint16_t last =
      static_cast<uint16_t>(params_.source_port_first + params_.source_port_count - 1);
  ReplyFilterSpec spec;
  sources_.fill_filter(spec);
  for (IpFamily family : {IpFamily::kIpv4, IpFamily::kIpv6})
    if (sources_.has(family))
      spec.rules.push_back(ReplyFilterRule{family, kProtoTcp, params_.source_port_first, last, 0});
  return spec;
}

uint32_t TcpSynProbe::sequence_for(IpAddress daddr, uint16_t dport) const {
  return static_cast<uint32_t>(
      validation_cookie(params_.key, sources_.for_target(daddr), daddr, dport));
}

uint16_t TcpSynProbe::source_port_for(IpAddress daddr, uint16_t dport,
                                      uint16_t probe_number) const {
  const uint64_t cookie = validation_cookie(params_.key, sources_.for_target(daddr), daddr, dport);
  return static_cast<uint16_t>(params_.source_port_first +
                               ((cookie >> 32) + probe_number) % params_.source_port_count);
}

void TcpSynProbe::build_ipv6(const ProbeTarget& target, FrameSlot& slot) const {
  uint8_t* f = slot.data;
  std::memcpy(f, template6_.data(), kFrame6Bytes);
  const IpAddress saddr = sources_.for_target(target.daddr);
  const uint64_t cookie = validation_cookie(params_.key, saddr, target.daddr, target.dport);
  const uint32_t seq = static_cast<uint32_t>(cookie);
  const uint16_t sport =
      static_cast<uint16_t>(params_.source_port_first +
                            ((cookie >> 32) + target.probe_number) % params_.source_port_count);
  saddr.to_bytes(f + kIp + kIpv6Src);
  target.daddr.to_bytes(f + kIp + kIpv6Dst);
  uint8_t* t = f + kTcp6;
  store_be16(t + kTcpSrcPort, sport);
  store_be16(t + kTcpDstPort, target.dport);
  store_be32(t + kTcpSeq, seq);
  // The addresses, ports and sequence number were zeros in the template's sum.
  uint32_t added = checksum_partial(f + kIp + kIpv6Src, 32);
  added = checksum_partial(t, 8, added);
  store_be16(t + kTcpChecksum, checksum_add(tcp6_checksum_, added));
  slot.length = kFrame6Bytes;
}

void TcpSynProbe::build(const ProbeTarget* targets, size_t count, FrameSlot* slots) const {
  for (size_t i = 0; i < count; ++i) {
    const ProbeTarget& target = targets[i];
    if (!target.daddr.is_ipv4()) {
      build_ipv6(target, slots[i]);
      continue;
    }
    uint8_t* f = slots[i].data;
    std::memcpy(f, template_.data(), kFrameBytes);
    const uint32_t daddr = target.daddr.ipv4();
    const uint32_t saddr = sources_.for_target(target.daddr).ipv4();
    const uint64_t cookie = validation_cookie(params_.key, saddr, daddr, target.dport);
    const uint32_t seq = static_cast<uint32_t>(cookie);
    const uint16_t sport =
        static_cast<uint16_t>(params_.source_port_first +
                              ((cookie >> 32) + target.probe_number) % params_.source_port_count);

    set_ipv4_addresses(f, saddr, daddr, ip_checksum_);

    uint8_t* t = f + kTcp;
    store_be16(t + kTcpSrcPort, sport);
    store_be16(t + kTcpDstPort, target.dport);
    store_be32(t + kTcpSeq, seq);
    uint16_t sum = checksum_adjust32(tcp_checksum_, 0, saddr);
    sum = checksum_adjust32(sum, 0, daddr);
    sum = checksum_adjust16(sum, 0, sport);
    sum = checksum_adjust16(sum, 0, target.dport);
    sum = checksum_adjust32(sum, 0, seq);
    store_be16(t + kTcpChecksum, sum);
    slots[i].length = kFrameBytes;
  }
}

ReplyVerdict TcpSynProbe::classify_one(const FrameView& view, Reply* reply) const {
  IpFrame ip;
  if (const ReplyVerdict layer = reply_ip_layer(view, sources_, &ip, reply);
      layer != ReplyVerdict::kValid)
    return layer;
  if (ip.protocol != kProtoTcp) return ReplyVerdict::kUnrelated;
  if (ip.l4_bytes < kTcpMinHeaderBytes) return ReplyVerdict::kInvalid;
  const uint8_t* t = view.data + ip.l4_offset;
  const uint16_t sport = load_be16(t + kTcpSrcPort);
  const uint16_t dport = load_be16(t + kTcpDstPort);
  const uint16_t port_offset = static_cast<uint16_t>(dport - params_.source_port_first);
  if (port_offset >= params_.source_port_count) return ReplyVerdict::kUnrelated;

  const uint8_t flags = t[kTcpFlags];
  Classification classification;
  if ((flags & kTcpRst) != 0) {
    classification = Classification::kRst;
  } else if ((flags & (kTcpSyn | kTcpAckFlag)) == (kTcpSyn | kTcpAckFlag)) {
    classification = Classification::kSynAck;
  } else {
    return ReplyVerdict::kInvalid;
  }

  // The target was probed from one of our addresses only: a reply to another is not its.
  if (ip.daddr != sources_.for_target(ip.saddr)) return ReplyVerdict::kInvalid;
  const uint64_t cookie = validation_cookie(params_.key, ip.daddr, ip.saddr, sport);
  const uint32_t ack = load_be32(t + kTcpAck);
  if (ack != static_cast<uint32_t>(cookie) + 1) return ReplyVerdict::kInvalid;
  const uint32_t base = static_cast<uint32_t>((cookie >> 32) % params_.source_port_count);
  const uint32_t probe_number =
      (port_offset + params_.source_port_count - base) % params_.source_port_count;
  if (probe_number >= params_.probes_per_target) return ReplyVerdict::kInvalid;

  reply->saddr = ip.saddr;
  reply->daddr = ip.daddr;
  reply->sport = sport;
  reply->dport = dport;
  reply->seq = load_be32(t + kTcpSeq);
  reply->ack = ack;
  reply->window = load_be16(t + kTcpWindow);
  reply->ttl = ip.ttl;
  reply->ipid = ip.ipid;
  reply->classification = classification;
  return ReplyVerdict::kValid;
}

void TcpSynProbe::classify(const FrameView* frames, size_t count, ReplyVerdict* verdicts,
                           Reply* replies) const {
  for (size_t i = 0; i < count; ++i) {
    replies[i].invalid_reason = InvalidReason::kValidation;
    verdicts[i] = classify_one(frames[i], &replies[i]);
  }
}

std::unique_ptr<ProbeModule> make_tcp_syn_probe(const ProbeParams& params) {
  return std::make_unique<TcpSynProbe>(params);
}

}  // namespace anyscan
