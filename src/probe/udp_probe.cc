#include "probe/udp_probe.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>

#include "net/checksum.h"
#include "net/frame_header.h"
#include "net/frame_layout.h"
#include "net/ip_frame.h"

namespace anyscan {

using namespace frame;

namespace {

constexpr size_t kUdp = kIp + kIpMinHeaderBytes;
constexpr size_t kUdpHeaderBytes = 8;
constexpr size_t kUdpLength = 4;
constexpr size_t kUdpChecksum = 6;
constexpr size_t kNtpOriginInReply = 24;

// The identifier a probe carries where its protocol echoes one, from the cookie; returns
// its length in bytes.
size_t echo_bytes(UdpEcho echo, uint64_t cookie, uint8_t out[8]) {
  switch (echo) {
    case UdpEcho::kNone:
      return 0;
    case UdpEcho::kId16:
      store_be16(out, static_cast<uint16_t>(cookie));
      return 2;
    case UdpEcho::kId32:
      store_be32(out, static_cast<uint32_t>(cookie));
      return 4;
    case UdpEcho::kNtpOrigin:
      store_be32(out, static_cast<uint32_t>(cookie >> 32));
      store_be32(out + 4, static_cast<uint32_t>(cookie));
      return 8;
    case UdpEcho::kSnmpRequest:
      // A positive INTEGER whose minimal BER encoding is exactly 4 bytes (0x40000000 and up,
      // below 0x80000000), so an agent re-encoding it keeps the same value and length.
      store_be32(out, (static_cast<uint32_t>(cookie) & 0x3fffffffu) | 0x40000000u);
      return 4;
  }
  return 0;
}

// One's-complement sum of `bytes` placed at `offset` from an even boundary.
uint32_t sum_at(size_t offset, const uint8_t* bytes, size_t count) {
  uint32_t sum = 0;
  for (size_t k = 0; k < count; ++k)
    sum += ((offset + k) & 1) != 0 ? bytes[k] : static_cast<uint32_t>(bytes[k]) << 8;
  return sum;
}

// The probe's IP identification: 16 more bits of the cookie, which an ICMP error quotes
// with the rest of our IP header (the source port alone has about 15).
uint16_t ip_id_for(uint64_t cookie) { return static_cast<uint16_t>(cookie >> 16); }

}  // namespace

// A BER reader over an SNMP message, just deep enough to reach the request-id.
struct BerReader {
  const uint8_t* p;
  size_t n;
  size_t i = 0;

  // Reads a tag and a definite length (short form, or long form of 1-2 bytes) whose content
  // fits in what is left; leaves i at the content.
  bool header(uint8_t* tag, size_t* length) {
    if (n - i < 2) return false;
    *tag = p[i++];
    const uint8_t first = p[i++];
    if (first < 0x80) {
      *length = first;
    } else {
      const size_t bytes = first & 0x7f;
      if (bytes == 0 || bytes > 2 || n - i < bytes) return false;
      *length = 0;
      for (size_t k = 0; k < bytes; ++k) *length = *length << 8 | p[i++];
    }
    return *length <= n - i;
  }
  bool skip(uint8_t want) {
    uint8_t tag = 0;
    size_t length = 0;
    if (!header(&tag, &length) || tag != want) return false;
    i += length;
    return true;
  }
};

std::optional<uint32_t> snmp_request_id(const uint8_t* p, size_t n) {
  BerReader ber{p, n};
  uint8_t tag = 0;
  size_t length = 0;
  if (!ber.header(&tag, &length) || tag != 0x30) return std::nullopt;
  if (!ber.skip(0x02) || !ber.skip(0x04)) return std::nullopt;
  if (!ber.header(&tag, &length) || tag < 0xa0 || tag > 0xa8) return std::nullopt;
  if (!ber.header(&tag, &length) || tag != 0x02 || length == 0 || length > 5) return std::nullopt;
  if (length == 5 && p[ber.i] != 0) return std::nullopt;
  uint64_t value = 0;
  for (size_t k = 0; k < length; ++k) value = value << 8 | p[ber.i + k];
  if (length < 5 && (p[ber.i] & 0x80) != 0) return std::nullopt;  // negative: not ours
  return static_cast<uint32_t>(value);
}

UdpProbe::UdpProbe(const ProbeParams& params, std::shared_ptr<const UdpPayloadTable> payloads)
    : params_(params), sources_(params.source_ips, params.key), payloads_(std::move(payloads)) {
  const FrameHeaderSpec header{params.source_mac, params.gateway_mac, IpFamily::kIpv4,
                               kProtoUdp,         params.ttl,         0};
  // Addresses, lengths, IP ID, ports and checksums stay 0 in the template: set per
  // payload/target.
  write_frame_header(template_.data(), header, 0);
  // IPv6: lengths, flow label, addresses, ports and checksum set per target.
  write_frame_header(
      template6_.data(),
      {params.source_mac, gateway6_of(params), IpFamily::kIpv6, kProtoUdp, params.ttl, 0}, 0);
  for (const UdpPayload& payload : payloads_->payloads()) {
    const auto udp_length = static_cast<uint16_t>(kUdpHeaderBytes + payload.bytes.size());
    std::array<uint8_t, kHeaderBytes> headers{};
    const uint16_t ip_checksum = write_frame_header(headers.data(), header, udp_length);
    std::vector<uint8_t> udp(udp_length, 0);
    store_be16(udp.data() + kUdpLength, udp_length);
    std::copy(payload.bytes.begin(), payload.bytes.end(), udp.begin() + kUdpHeaderBytes);
    uint8_t scratch[8];
    const size_t echo = echo_bytes(payload.echo, 0, scratch);
    std::fill_n(udp.begin() + kUdpHeaderBytes + payload.echo_offset, echo, 0);
    const uint32_t pseudo = pseudo_header_sum(0, 0, kProtoUdp, udp_length);
    const uint8_t zero[16] = {};
    const uint32_t pseudo6 = pseudo_header_sum6(zero, zero, kProtoUdp, udp_length);
    prepared_.push_back(Prepared{
        static_cast<uint16_t>(~checksum_fold(checksum_partial(udp.data(), udp.size(), pseudo))),
        ip_checksum,
        static_cast<uint16_t>(~checksum_fold(checksum_partial(udp.data(), udp.size(), pseudo6)))});
  }
  frame_bytes_ =
      (sources_.has(IpFamily::kIpv6) ? kHeader6Bytes : kHeaderBytes) + payloads_->largest_bytes();
}

ReplyFilterSpec UdpProbe::reply_filter() const {
  const uint16_t last =
      static_cast<uint16_t>(params_.source_port_first + params_.source_port_count - 1);
  ReplyFilterSpec spec;
  sources_.fill_filter(spec);
  if (sources_.has(IpFamily::kIpv4))
    spec.rules = {ReplyFilterRule{IpFamily::kIpv4, kProtoUdp, params_.source_port_first, last, 0},
                  ReplyFilterRule{IpFamily::kIpv4, kProtoIcmp, params_.source_port_first, last,
                                  icmp_type_bit(kIcmpUnreachable)}};
  if (sources_.has(IpFamily::kIpv6)) {
    spec.rules.push_back(
        ReplyFilterRule{IpFamily::kIpv6, kProtoUdp, params_.source_port_first, last, 0});
    spec.rules.push_back(ReplyFilterRule{IpFamily::kIpv6, kProtoIcmpv6, params_.source_port_first,
                                         last, icmp6_type_bit(kIcmp6Unreachable)});
  }
  return spec;
}

std::string UdpProbe::parameters() const {
  uint64_t hash = 0xcbf29ce484222325ULL;
  auto mix = [&hash](uint64_t byte) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  };
  for (const UdpPayload& payload : payloads_->payloads()) {
    for (uint8_t b : payload.bytes) mix(b);
    mix(static_cast<uint64_t>(payload.echo) << 8 | 0x100);  // ends the payload
  }
  for (uint32_t port = 0; port < 65536; ++port) {
    const uint16_t index = payloads_->index_for_port(static_cast<uint16_t>(port));
    mix(index & 0xff);
    mix(index >> 8);
  }
  char text[40];
  std::snprintf(text, sizeof text, "payloads:%016llx", static_cast<unsigned long long>(hash));
  return text;
}

namespace {

// An icmp-unreach result: the ICMP(v6) error's type, code and sender, for the quoted probe.
void fill_icmp_unreach(const uint8_t* icmp, IpAddress responder, IpAddress daddr, IpAddress target,
                       uint16_t target_port, uint16_t our_port, Reply* reply) {
  *reply = Reply{};
  reply->saddr = target;
  reply->daddr = daddr;
  reply->sport = target_port;
  reply->dport = our_port;
  reply->icmp_type = icmp[kIcmpType];
  reply->icmp_code = icmp[kIcmpCode];
  reply->icmp_responder = responder;
  reply->classification = Classification::kIcmpUnreach;
}

}  // namespace

uint16_t UdpProbe::source_port_for(uint32_t daddr, uint16_t dport, uint16_t probe_number) const {
  return source_port_for(IpAddress::v4(daddr), dport, probe_number);
}

uint16_t UdpProbe::source_port_for(IpAddress daddr, uint16_t dport, uint16_t probe_number) const {
  const uint64_t cookie = validation_cookie(params_.key, sources_.for_target(daddr), daddr, dport);
  return static_cast<uint16_t>(params_.source_port_first +
                               ((cookie >> 32) + probe_number) % params_.source_port_count);
}

void UdpProbe::build_ipv6(const ProbeTarget& target, FrameSlot& slot) const {
  const uint16_t index = payloads_->index_for_port(target.dport);
  const UdpPayload& payload = payloads_->payloads()[index];
  uint8_t* f = slot.data;
  std::memcpy(f, template6_.data(), kHeader6Bytes);
  if (!payload.bytes.empty())
    std::memcpy(f + kHeader6Bytes, payload.bytes.data(), payload.bytes.size());
  const auto udp_length = static_cast<uint16_t>(kUdpHeaderBytes + payload.bytes.size());
  const IpAddress saddr = sources_.for_target(target.daddr);
  const uint64_t cookie = validation_cookie(params_.key, saddr, target.daddr, target.dport);
  const auto sport =
      static_cast<uint16_t>(params_.source_port_first +
                            ((cookie >> 32) + target.probe_number) % params_.source_port_count);
  store_be32(f + kIp, 0x60000000u | flow_label_for(cookie));
  store_be16(f + kIp + kIpv6PayloadLength, udp_length);
  saddr.to_bytes(f + kIp + kIpv6Src);
  target.daddr.to_bytes(f + kIp + kIpv6Dst);
  uint8_t* u = f + kIp + kIpv6HeaderBytes;
  store_be16(u, sport);
  store_be16(u + 2, target.dport);
  store_be16(u + kUdpLength, udp_length);
  uint32_t added = checksum_partial(f + kIp + kIpv6Src, 32);
  added = checksum_partial(u, 4, added);
  uint16_t sum = checksum_add(prepared_[index].udp6_checksum, added);
  uint8_t echo[8];
  if (const size_t n = echo_bytes(payload.echo, cookie, echo); n != 0) {
    std::memcpy(u + kUdpHeaderBytes + payload.echo_offset, echo, n);
    sum = checksum_add(sum, sum_at(payload.echo_offset, echo, n));
  }
  store_be16(u + kUdpChecksum, sum == 0 ? 0xffff : sum);  // IPv6 UDP must carry one
  slot.length = static_cast<uint32_t>(kHeader6Bytes + payload.bytes.size());
}

void UdpProbe::build(const ProbeTarget* targets, size_t count, FrameSlot* slots) const {
  for (size_t i = 0; i < count; ++i) {
    const ProbeTarget& target = targets[i];
    if (!target.daddr.is_ipv4()) {
      build_ipv6(target, slots[i]);
      continue;
    }
    const uint16_t index = payloads_->index_for_port(target.dport);
    const UdpPayload& payload = payloads_->payloads()[index];
    const Prepared& prepared = prepared_[index];
    uint8_t* f = slots[i].data;
    std::memcpy(f, template_.data(), kHeaderBytes);
    if (!payload.bytes.empty())  // an empty vector's data() may be null
      std::memcpy(f + kHeaderBytes, payload.bytes.data(), payload.bytes.size());
    const auto udp_length = static_cast<uint16_t>(kUdpHeaderBytes + payload.bytes.size());

    const uint32_t daddr = target.daddr.ipv4();
    const uint32_t saddr = sources_.for_target(target.daddr).ipv4();
    const uint64_t cookie = validation_cookie(params_.key, saddr, daddr, target.dport);
    const uint16_t sport =
        static_cast<uint16_t>(params_.source_port_first +
                              ((cookie >> 32) + target.probe_number) % params_.source_port_count);
    const uint16_t ip_id = ip_id_for(cookie);
    store_be16(f + kIpTotalLength, static_cast<uint16_t>(kIpMinHeaderBytes + udp_length));
    store_be16(f + kIpId, ip_id);
    set_ipv4_addresses(f, saddr, daddr, checksum_adjust16(prepared.ip_checksum, 0, ip_id));

    uint8_t* u = f + kUdp;
    store_be16(u, sport);
    store_be16(u + 2, target.dport);
    store_be16(u + kUdpLength, udp_length);
    uint16_t sum = checksum_adjust32(prepared.udp_checksum, 0, saddr);
    sum = checksum_adjust32(sum, 0, daddr);
    sum = checksum_adjust16(sum, 0, sport);
    sum = checksum_adjust16(sum, 0, target.dport);
    uint8_t echo[8];
    if (const size_t n = echo_bytes(payload.echo, cookie, echo); n != 0) {
      std::memcpy(u + kUdpHeaderBytes + payload.echo_offset, echo, n);
      sum = checksum_add(sum, sum_at(payload.echo_offset, echo, n));
    }
    store_be16(u + kUdpChecksum, sum == 0 ? 0xffff : sum);  // 0 would mean "no checksum"
    slots[i].length = static_cast<uint32_t>(kHeaderBytes + payload.bytes.size());
  }
}

bool UdpProbe::cookie_valid(IpAddress saddr, IpAddress daddr, uint16_t dport, uint16_t sport,
                            const uint8_t* payload, size_t payload_bytes) const {
  const uint64_t cookie = validation_cookie(params_.key, saddr, daddr, dport);
  const uint32_t offset = static_cast<uint16_t>(sport - params_.source_port_first);
  const uint32_t base = static_cast<uint32_t>((cookie >> 32) % params_.source_port_count);
  if ((offset + params_.source_port_count - base) % params_.source_port_count >=
      params_.probes_per_target)
    return false;
  if (payload == nullptr) return true;
  const UdpPayload& request = payloads_->for_port(dport);
  uint8_t expected[8];
  const size_t n = echo_bytes(request.echo, cookie, expected);
  switch (request.echo) {
    case UdpEcho::kNone:
      return true;
    case UdpEcho::kId16:
    case UdpEcho::kId32:
      return payload_bytes >= size_t{request.echo_offset} + n &&
             std::memcmp(payload + request.echo_offset, expected, n) == 0;
    case UdpEcho::kNtpOrigin:
      return payload_bytes >= kNtpOriginInReply + n &&
             std::memcmp(payload + kNtpOriginInReply, expected, n) == 0;
    case UdpEcho::kSnmpRequest: {
      const auto id = snmp_request_id(payload, payload_bytes);
      return id && *id == load_be32(expected);
    }
  }
  return false;
}

ReplyVerdict UdpProbe::classify_udp(const uint8_t* frame, size_t l4_offset, size_t l4_bytes,
                                    IpAddress saddr, IpAddress daddr, Reply* reply) const {
  if (l4_bytes < kUdpHeaderBytes) return ReplyVerdict::kInvalid;
  const uint8_t* u = frame + l4_offset;
  const uint16_t sport = load_be16(u);
  const uint16_t dport = load_be16(u + 2);
  if (static_cast<uint16_t>(dport - params_.source_port_first) >= params_.source_port_count)
    return ReplyVerdict::kUnrelated;
  const uint16_t udp_length = load_be16(u + kUdpLength);
  if (udp_length < kUdpHeaderBytes) return ReplyVerdict::kInvalid;
  // The datagram as the UDP header states it, cut to what was captured.
  const size_t payload_bytes = std::min<size_t>(udp_length, l4_bytes) - kUdpHeaderBytes;
  const uint8_t* payload = u + kUdpHeaderBytes;
  // The target was probed from one of our addresses only: a reply to another is not its.
  if (daddr != sources_.for_target(saddr) ||
      !cookie_valid(daddr, saddr, sport, dport, payload, payload_bytes))
    return ReplyVerdict::kInvalid;
  *reply = Reply{};
  reply->saddr = saddr;
  reply->daddr = daddr;
  reply->sport = sport;
  reply->dport = dport;
  reply->udp_length = udp_length;
  reply->data_length = static_cast<uint8_t>(std::min(payload_bytes, kReplyDataBytes));
  std::memcpy(reply->data, payload, reply->data_length);
  reply->classification = Classification::kUdp;
  return ReplyVerdict::kValid;
}

ReplyVerdict UdpProbe::classify_icmp(const uint8_t* frame, size_t l4_offset, size_t l4_bytes,
                                     IpAddress responder, IpAddress daddr, Reply* reply) const {
  if (l4_bytes < kIcmpHeaderBytes) return ReplyVerdict::kInvalid;
  const uint8_t* icmp = frame + l4_offset;
  if (icmp[kIcmpType] != kIcmpUnreachable) return ReplyVerdict::kUnrelated;
  // The quoted datagram: an IPv4 header (options allowed) and the first 8 bytes of UDP.
  const uint8_t* inner = icmp + kIcmpHeaderBytes;
  const size_t quoted = l4_bytes - kIcmpHeaderBytes;
  if (quoted < kIpMinHeaderBytes) return ReplyVerdict::kInvalid;
  const size_t ihl = size_t{inner[0] & 0x0fu} * 4;
  if ((inner[0] >> 4) != 4 || ihl < kIpMinHeaderBytes || quoted < ihl + kUdpHeaderBytes)
    return ReplyVerdict::kInvalid;
  if (inner[9] != kProtoUdp) return ReplyVerdict::kUnrelated;
  return classify_quoted(icmp, IpAddress::v4(load_be32(inner + 12)),
                         IpAddress::v4(load_be32(inner + 16)), inner + ihl, load_be16(inner + 4),
                         responder, daddr, reply);
}

ReplyVerdict UdpProbe::classify_quoted(const uint8_t* icmp, IpAddress ours, IpAddress target,
                                       const uint8_t* udp, uint32_t header_bits,
                                       IpAddress responder, IpAddress daddr, Reply* reply) const {
  if (!sources_.contains(ours)) return ReplyVerdict::kUnrelated;
  const uint16_t our_port = load_be16(udp);
  const uint16_t target_port = load_be16(udp + 2);
  if (static_cast<uint16_t>(our_port - params_.source_port_first) >= params_.source_port_count)
    return ReplyVerdict::kUnrelated;
  const uint64_t cookie = validation_cookie(params_.key, ours, target, target_port);
  const uint32_t expected = target.is_ipv4() ? ip_id_for(cookie) : flow_label_for(cookie);
  if (ours != sources_.for_target(target) ||
      !cookie_valid(ours, target, target_port, our_port, nullptr, 0) || header_bits != expected)
    return ReplyVerdict::kInvalid;
  fill_icmp_unreach(icmp, responder, daddr, target, target_port, our_port, reply);
  return ReplyVerdict::kValid;
}

// ICMPv6 destination unreachable (RFC 4443 section 3.1) quoting one of our IPv6 probes: its
// fixed header (no extension headers: ours have none) with our flow label, and UDP's first
// 8 bytes.
ReplyVerdict UdpProbe::classify_icmp6(const uint8_t* frame, size_t l4_offset, size_t l4_bytes,
                                      IpAddress responder, IpAddress daddr, Reply* reply) const {
  if (l4_bytes < kIcmpHeaderBytes) return ReplyVerdict::kInvalid;
  const uint8_t* icmp = frame + l4_offset;
  if (icmp[kIcmpType] != kIcmp6Unreachable) return ReplyVerdict::kUnrelated;
  const uint8_t* inner = icmp + kIcmpHeaderBytes;
  const size_t quoted = l4_bytes - kIcmpHeaderBytes;
  if (quoted < kIpv6HeaderBytes + kUdpHeaderBytes || (inner[0] >> 4) != 6)
    return ReplyVerdict::kInvalid;
  if (inner[kIpv6NextHeader] != kProtoUdp) return ReplyVerdict::kUnrelated;
  return classify_quoted(icmp, IpAddress::from_bytes(inner + kIpv6Src),
                         IpAddress::from_bytes(inner + kIpv6Dst), inner + kIpv6HeaderBytes,
                         load_be32(inner) & 0xfffffu, responder, daddr, reply);
}

void UdpProbe::classify(const FrameView* frames, size_t count, ReplyVerdict* verdicts,
                        Reply* replies) const {
  for (size_t i = 0; i < count; ++i) {
    IpFrame ip;
    replies[i].invalid_reason = InvalidReason::kValidation;
    ReplyVerdict verdict = reply_ip_layer(frames[i], sources_, &ip, &replies[i]);
    if (verdict == ReplyVerdict::kValid) {
      verdict = ReplyVerdict::kUnrelated;
      if (ip.protocol == kProtoUdp)
        verdict = classify_udp(frames[i].data, ip.l4_offset, ip.l4_bytes, ip.saddr, ip.daddr,
                               &replies[i]);
      else if (ip.protocol == kProtoIcmp && ip.family == IpFamily::kIpv4)
        verdict = classify_icmp(frames[i].data, ip.l4_offset, ip.l4_bytes, ip.saddr, ip.daddr,
                                &replies[i]);
      else if (ip.protocol == kProtoIcmpv6 && ip.family == IpFamily::kIpv6)
        verdict = classify_icmp6(frames[i].data, ip.l4_offset, ip.l4_bytes, ip.saddr, ip.daddr,
                                 &replies[i]);
      if (verdict == ReplyVerdict::kValid) {
        replies[i].ttl = ip.ttl;
        replies[i].ipid = ip.ipid;
      }
    }
    verdicts[i] = verdict;
  }
}

std::unique_ptr<ProbeModule> make_udp_probe(const ProbeParams& params) {
  auto payloads = params.udp_payloads != nullptr
                      ? params.udp_payloads
                      : std::make_shared<const UdpPayloadTable>(UdpPayloadTable::builtin());
  return std::make_unique<UdpProbe>(params, std::move(payloads));
}

}  // namespace anyscan
