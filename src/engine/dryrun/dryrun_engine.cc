#include "engine/dryrun/dryrun_engine.h"

#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <thread>

#include <cstring>

#include "net/frame_layout.h"
#include "net/ip_frame.h"
#include "net/ipv4_address.h"

namespace anyscan {

DryrunEngine::DryrunEngine(std::FILE* out, DryrunFormat format, uint32_t sender_threads,
                           bool ip_layer)
    : writer_(out, format, ip_layer) {
  for (uint32_t i = 0; i < sender_threads; ++i) sinks_.push_back(std::make_unique<Sink>(writer_));
}

DryrunEngine::Writer::Writer(std::FILE* out, DryrunFormat format, bool ip_layer)
    : out_(out), format_(format), ip_layer_(ip_layer) {
  if (format_ == DryrunFormat::kPcap) {
    // pcap global header: magic, v2.4, thiszone, sigfigs, snaplen, LINKTYPE_ETHERNET (1) or
    // LINKTYPE_RAW (101: IPv4 and IPv6 packets).
    const uint32_t header[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, ip_layer_ ? 101u : 1u};
    std::fwrite(header, sizeof header, 1, out_);
  }
}

Result<void> DryrunEngine::Writer::write(const FrameSlot* slots, size_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  timeval now{};
  ::gettimeofday(&now, nullptr);
  for (size_t i = 0; i < count; ++i) {
    if (format_ == DryrunFormat::kTargets) {
      IpFrame ip;
      char line[kIpTextBytes + 8];
      size_t n = 0;
      if (parse_ip_frame(slots[i].data, slots[i].length, &ip) == FrameStatus::kOk) {
        n = format_ip(ip.daddr, line);
        const bool ports = (ip.protocol == frame::kProtoTcp || ip.protocol == frame::kProtoUdp) &&
                           ip.l4_bytes >= 4;
        n += static_cast<size_t>(
            std::snprintf(line + n, sizeof line - n, ",%u\n",
                          ports ? load_be16(slots[i].data + ip.l4_offset + 2) : 0u));
      }
      std::fwrite(line, 1, n, out_);
      continue;
    }
    if (format_ == DryrunFormat::kZmap) {
      const std::string block = zmap_block(slots[i].data, slots[i].length, ip_layer_);
      std::fwrite(block.data(), 1, block.size(), out_);
      continue;
    }
    if (format_ == DryrunFormat::kPcap) {
      const size_t skip = ip_layer_ ? frame::kEthHeaderBytes : 0;
      const uint32_t bytes = slots[i].length - static_cast<uint32_t>(skip);
      const uint32_t record[4] = {static_cast<uint32_t>(now.tv_sec),
                                  static_cast<uint32_t>(now.tv_usec), bytes, bytes};
      std::fwrite(record, sizeof record, 1, out_);
      std::fwrite(slots[i].data + skip, 1, bytes, out_);
    } else {
      const std::string line = describe(slots[i].data, slots[i].length, ip_layer_);
      std::fputs(line.c_str(), out_);
      std::fputc('\n', out_);
    }
  }
  if (std::ferror(out_))
    return make_error(ExitCode::kIoErr, errno_message("writing dry-run frames", errno));
  return {};
}

std::string DryrunEngine::zmap_block(const uint8_t* f, size_t length, bool ip_layer) {
  using namespace frame;
  char line[256];
  std::string out;
  IpFrame ip;
  if (parse_ip_frame(f, length, &ip) != FrameStatus::kOk) {
    out = "non-ip { length: " + std::to_string(length) + " }\n";
  } else {
    const uint8_t* l4 = f + ip.l4_offset;
    // The transport block, as zmap's modules print it (checksums as "%#04X" of the host-order
    // value: 0X1A2B).
    if (ip.protocol == kProtoTcp && ip.l4_bytes >= kTcpMinHeaderBytes) {
      std::snprintf(line, sizeof line,
                    "tcp { source: %u | dest: %u | seq: %u | checksum: %#04X }\n",
                    load_be16(l4 + kTcpSrcPort), load_be16(l4 + kTcpDstPort),
                    load_be32(l4 + kTcpSeq), load_be16(l4 + kTcpChecksum));
    } else if (ip.protocol == kProtoUdp && ip.l4_bytes >= 8) {
      std::snprintf(line, sizeof line, "udp { source: %u | dest: %u | checksum: %#04X }\n",
                    load_be16(l4), load_be16(l4 + 2), load_be16(l4 + 6));
    } else if ((ip.protocol == kProtoIcmp || ip.protocol == kProtoIcmpv6) &&
               ip.l4_bytes >= kIcmpHeaderBytes) {
      std::snprintf(line, sizeof line,
                    "icmp { type: %u | code: %u | checksum: %#04X | id: %u | seq: %u }\n",
                    l4[kIcmpType], l4[kIcmpCode], load_be16(l4 + kIcmpChecksum),
                    load_be16(l4 + kIcmpId), load_be16(l4 + kIcmpSeq));
    } else {
      std::snprintf(line, sizeof line, "proto { number: %u }\n", ip.protocol);
    }
    out = line;
    char src[kIpTextBytes], dst[kIpTextBytes];
    src[format_ip(ip.saddr, src)] = '\0';
    dst[format_ip(ip.daddr, dst)] = '\0';
    if (ip.family == IpFamily::kIpv4) {
      std::snprintf(line, sizeof line, "ip { saddr: %s | daddr: %s | checksum: %#04X }\n", src, dst,
                    load_be16(f + kIpChecksum));
    } else {  // zmap 4.x has no IPv6: the same shape, with what IPv6 has instead of a checksum
      std::snprintf(line, sizeof line, "ipv6 { saddr: %s | daddr: %s | hop_limit: %u }\n", src, dst,
                    ip.ttl);
    }
    out += line;
  }
  if (length >= kEthHeaderBytes && !ip_layer) {  // zmap leaves it out under --iplayer
    std::snprintf(line, sizeof line,
                  "eth { shost: %02x:%02x:%02x:%02x:%02x:%02x | dhost: "
                  "%02x:%02x:%02x:%02x:%02x:%02x }\n",
                  f[6], f[7], f[8], f[9], f[10], f[11], f[0], f[1], f[2], f[3], f[4], f[5]);
    out += line;
  }
  out += "------------------------------------------------------\n";
  return out;
}

std::string DryrunEngine::describe(const uint8_t* f, size_t length, bool ip_layer) {
  using namespace frame;
  char summary[256] = "non-ip";
  std::string_view payload;
  IpFrame ip;
  if (parse_ip_frame(f, length, &ip) == FrameStatus::kOk) {
    // An IPv6 address before a port in brackets (RFC 5952 section 6).
    const bool v6 = ip.family == IpFamily::kIpv6;
    char src[kIpTextBytes + 2] = "[", dst[kIpTextBytes + 2] = "[";
    const size_t src_bytes = format_ip(ip.saddr, src + v6);
    const size_t dst_bytes = format_ip(ip.daddr, dst + v6);
    if (v6) {
      std::strcpy(src + 1 + src_bytes, "]");
      std::strcpy(dst + 1 + dst_bytes, "]");
    }
    const uint8_t* l4 = f + ip.l4_offset;
    if (ip.protocol == kProtoTcp && ip.l4_bytes >= kTcpMinHeaderBytes) {
      std::snprintf(summary, sizeof summary,
                    "tcp %s:%u > %s:%u flags=0x%02x seq=%" PRIu32 " ttl=%u", src,
                    load_be16(l4 + kTcpSrcPort), dst, load_be16(l4 + kTcpDstPort), l4[kTcpFlags],
                    load_be32(l4 + kTcpSeq), ip.ttl);
    } else if ((ip.protocol == kProtoIcmp || ip.protocol == kProtoIcmpv6) &&
               ip.l4_bytes >= kIcmpHeaderBytes) {
      std::snprintf(summary, sizeof summary, "%s %s > %s type=%u id=%u seq=%u ttl=%u",
                    v6 ? "icmp6" : "icmp", src, dst, l4[kIcmpType], load_be16(l4 + kIcmpId),
                    load_be16(l4 + kIcmpSeq), ip.ttl);
    } else if (ip.protocol == kProtoUdp && ip.l4_bytes >= 8) {
      std::snprintf(summary, sizeof summary, "udp %s:%u > %s:%u payload=%zu ttl=%u", src,
                    load_be16(l4), dst, load_be16(l4 + 2), ip.l4_bytes - 8, ip.ttl);
      payload = std::string_view(reinterpret_cast<const char*>(l4 + 8), ip.l4_bytes - 8);
    } else {
      std::snprintf(summary, sizeof summary, "ip %s > %s proto=%u", src, dst, ip.protocol);
    }
  }
  std::string out = summary;
  if (!payload.empty()) {  // the payload as text: printable ASCII as is, the rest escaped
    out += " text=\"";
    for (const char c : payload.substr(0, 96)) {
      const auto b = static_cast<unsigned char>(c);
      if (b >= 0x20 && b < 0x7f && c != '"' && c != '\\') {
        out += c;
      } else {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\x%02x", b);
        out += escaped;
      }
    }
    out += payload.size() > 96 ? "\"..." : "\"";
  }
  const size_t from = ip_layer && length >= kEthHeaderBytes ? kEthHeaderBytes : 0;
  out += " len=" + std::to_string(length - from) + " hex=";
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = from; i < length; ++i) {
    out += kHex[f[i] >> 4];
    out += kHex[f[i] & 15];
  }
  return out;
}

DryrunEngine::Sink::Sink(Writer& writer)
    : writer_(writer), buffers_(kBatch * kFrameCapacity), slots_(kBatch) {
  for (size_t i = 0; i < kBatch; ++i)
    slots_[i] = FrameSlot{buffers_.data() + i * kFrameCapacity, 0};
}

std::span<FrameSlot> DryrunEngine::Sink::reserve(size_t max_frames) {
  return std::span<FrameSlot>(slots_.data(), std::min(max_frames, kBatch));
}

Result<SendReport> DryrunEngine::Sink::submit(size_t count) {
  auto written = writer_.write(slots_.data(), count);
  if (!written) return tl::unexpected(written.error());
  return SendReport{count, 0};
}

Result<size_t> DryrunEngine::Source::receive(std::span<FrameView>, int timeout_ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(timeout_ms, 50)));
  return 0;
}

}  // namespace anyscan
