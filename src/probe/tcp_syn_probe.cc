#include "probe/tcp_syn_probe.h"

#include <cstring>

#include "net/checksum.h"
#include "net/frame_header.h"
#include "net/frame_layout.h"
#include "net/ipv4_frame.h"

namespace anyscan {

using namespace frame;

namespace {
constexpr size_t kTcp = kIp + kIpMinHeaderBytes;
constexpr uint16_t kTcpBytes = 24;
constexpr uint16_t kWindow = 65535;
constexpr uint16_t kMss = 1460;
}  // namespace

TcpSynProbe::TcpSynProbe(const ProbeParams& params)
    : params_(params), sources_(params.source_ips, params.key) {
  uint8_t* f = template_.data();
  // saddr and daddr stay 0 in the template; the checksums cover them as 0. The IP ID is
  // fixed, like zmap's: nothing validates it.
  ip_checksum_ = write_frame_header(
      f, {params.source_mac, params.gateway_mac, IpFamily::kIpv4, kProtoTcp, params.ttl, 54321},
      kTcpBytes);

  uint8_t* t = f + kTcp;
  t[kTcpDataOffset] = (kTcpBytes / 4) << 4;
  t[kTcpFlags] = kTcpSyn;
  store_be16(t + kTcpWindow, kWindow);
  t[20] = 2;  // MSS option: kind 2, length 4
  t[21] = 4;
  store_be16(t + 22, kMss);
  const uint32_t pseudo = pseudo_header_sum(0, 0, kProtoTcp, kTcpBytes);
  tcp_checksum_ = static_cast<uint16_t>(~checksum_fold(checksum_partial(t, kTcpBytes, pseudo)));
  store_be16(t + kTcpChecksum, tcp_checksum_);
}

ReplyFilterSpec TcpSynProbe::reply_filter() const {
  const uint16_t last =
      static_cast<uint16_t>(params_.source_port_first + params_.source_port_count - 1);
  return ReplyFilterSpec{sources_.first(),
                         sources_.last(),
                         {ReplyFilterRule{kProtoTcp, params_.source_port_first, last, 0}}};
}

uint32_t TcpSynProbe::sequence_for(uint32_t daddr, uint16_t dport) const {
  return static_cast<uint32_t>(
      validation_cookie(params_.key, sources_.for_target(daddr), daddr, dport));
}

uint16_t TcpSynProbe::source_port_for(uint32_t daddr, uint16_t dport, uint16_t probe_number) const {
  const uint64_t cookie = validation_cookie(params_.key, sources_.for_target(daddr), daddr, dport);
  return static_cast<uint16_t>(params_.source_port_first +
                               ((cookie >> 32) + probe_number) % params_.source_port_count);
}

void TcpSynProbe::build(const ProbeTarget* targets, size_t count, FrameSlot* slots) const {
  for (size_t i = 0; i < count; ++i) {
    const ProbeTarget& target = targets[i];
    uint8_t* f = slots[i].data;
    std::memcpy(f, template_.data(), kFrameBytes);
    const uint32_t saddr = sources_.for_target(target.daddr);
    const uint64_t cookie = validation_cookie(params_.key, saddr, target.daddr, target.dport);
    const uint32_t seq = static_cast<uint32_t>(cookie);
    const uint16_t sport =
        static_cast<uint16_t>(params_.source_port_first +
                              ((cookie >> 32) + target.probe_number) % params_.source_port_count);

    set_ipv4_addresses(f, saddr, target.daddr, ip_checksum_);

    uint8_t* t = f + kTcp;
    store_be16(t + kTcpSrcPort, sport);
    store_be16(t + kTcpDstPort, target.dport);
    store_be32(t + kTcpSeq, seq);
    uint16_t sum = checksum_adjust32(tcp_checksum_, 0, saddr);
    sum = checksum_adjust32(sum, 0, target.daddr);
    sum = checksum_adjust16(sum, 0, sport);
    sum = checksum_adjust16(sum, 0, target.dport);
    sum = checksum_adjust32(sum, 0, seq);
    store_be16(t + kTcpChecksum, sum);
    slots[i].length = kFrameBytes;
  }
}

ReplyVerdict TcpSynProbe::classify_one(const FrameView& view, Reply* reply) const {
  const auto ip = parse_ipv4_frame(view.data, view.length);
  if (!ip || ip->protocol != kProtoTcp) return ReplyVerdict::kUnrelated;
  if (!sources_.contains(ip->daddr)) return ReplyVerdict::kUnrelated;
  if (ip->l4_bytes < kTcpMinHeaderBytes) return ReplyVerdict::kInvalid;
  const uint8_t* t = view.data + ip->l4_offset;
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
  if (ip->daddr != sources_.for_target(ip->saddr)) return ReplyVerdict::kInvalid;
  const uint64_t cookie = validation_cookie(params_.key, ip->daddr, ip->saddr, sport);
  const uint32_t ack = load_be32(t + kTcpAck);
  if (ack != static_cast<uint32_t>(cookie) + 1) return ReplyVerdict::kInvalid;
  const uint32_t base = static_cast<uint32_t>((cookie >> 32) % params_.source_port_count);
  const uint32_t probe_number =
      (port_offset + params_.source_port_count - base) % params_.source_port_count;
  if (probe_number >= params_.probes_per_target) return ReplyVerdict::kInvalid;

  reply->saddr = ip->saddr;
  reply->daddr = ip->daddr;
  reply->sport = sport;
  reply->dport = dport;
  reply->seq = load_be32(t + kTcpSeq);
  reply->ack = ack;
  reply->window = load_be16(t + kTcpWindow);
  reply->ttl = ip->ttl;
  reply->ipid = ip->ipid;
  reply->classification = classification;
  return ReplyVerdict::kValid;
}

void TcpSynProbe::classify(const FrameView* frames, size_t count, ReplyVerdict* verdicts,
                           Reply* replies) const {
  for (size_t i = 0; i < count; ++i) verdicts[i] = classify_one(frames[i], &replies[i]);
}

std::unique_ptr<ProbeModule> make_tcp_syn_probe(const ProbeParams& params) {
  return std::make_unique<TcpSynProbe>(params);
}

}  // namespace anyscan
