#include "support/test_frames.h"

#include "net/checksum.h"

namespace anyscan::testing_support {

ProbeParams test_probe_params() {
  ProbeParams p;
  p.source_mac = *parse_mac("02:00:00:00:00:01");
  p.gateway_mac = *parse_mac("02:00:00:00:00:02");
  p.source_ips = {*parse_ip("198.18.0.1")};
  p.source_port_first = 40000;
  p.source_port_count = 1000;
  p.probes_per_target = 2;
  p.key = CookieKey{{0x0123456789abcdefULL, 0xfedcba9876543210ULL}};
  return p;
}

std::string hex(const uint8_t* data, size_t bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (size_t i = 0; i < bytes; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::vector<uint8_t> unhex(const std::string& text) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(text.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<uint8_t> ipv6_packet(const std::string& src, const std::string& dst, uint8_t protocol,
                                 const std::vector<uint8_t>& upper, const Ipv6Chain& chain) {
  std::vector<uint8_t> body;
  for (size_t i = 0; i < chain.headers.size(); ++i) {
    const uint8_t next = i + 1 < chain.headers.size() ? chain.headers[i + 1] : protocol;
    uint8_t header[8] = {next, 0, 1, 4, 0, 0, 0, 0};  // PadN of 4 bytes fills the rest
    if (chain.headers[i] == frame::kProtoFragment) {
      header[1] = 0;
      header[2] = static_cast<uint8_t>(chain.fragment_offset >> 5);
      header[3] = static_cast<uint8_t>(chain.fragment_offset << 3);
    }
    body.insert(body.end(), header, header + 8);
  }
  body.insert(body.end(), upper.begin(), upper.end());
  std::vector<uint8_t> packet(40, 0);
  packet[0] = 0x60;
  store_be16(packet.data() + 4, static_cast<uint16_t>(body.size()));
  packet[6] = chain.headers.empty() ? protocol : chain.headers.front();
  packet[7] = 64;
  parse_ip(src)->to_bytes(packet.data() + 8);
  parse_ip(dst)->to_bytes(packet.data() + 24);
  packet.insert(packet.end(), body.begin(), body.end());
  return packet;
}

std::vector<uint8_t> tcp6_segment(const std::string& src, const std::string& dst, uint16_t sport,
                                  uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags) {
  using namespace frame;
  std::vector<uint8_t> t(20, 0);
  store_be16(t.data() + kTcpSrcPort, sport);
  store_be16(t.data() + kTcpDstPort, dport);
  store_be32(t.data() + kTcpSeq, seq);
  store_be32(t.data() + kTcpAck, ack);
  t[kTcpDataOffset] = 0x50;
  t[kTcpFlags] = flags;
  store_be16(t.data() + kTcpWindow, 1024);
  uint8_t s[16], d[16];
  parse_ip(src)->to_bytes(s);
  parse_ip(dst)->to_bytes(d);
  const uint32_t pseudo = pseudo_header_sum6(s, d, kProtoTcp, 20);
  store_be16(t.data() + kTcpChecksum,
             static_cast<uint16_t>(~checksum_fold(checksum_partial(t.data(), 20, pseudo))));
  return t;
}

}  // namespace anyscan::testing_support
