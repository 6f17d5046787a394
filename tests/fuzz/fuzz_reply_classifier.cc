// Received frames of either family (IPv6 extension-header chains included), truncated or
// malformed, through every probe module's classifier (udp's
// with the built-in payloads, whose checks include a BER walk of SNMP replies, also fed the
// input directly). The input is copied into a buffer of exactly its size so ASan sees any
// over-read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "probe/icmp_echo_probe.h"
#include "probe/tcp_syn_probe.h"
#include "probe/udp_probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto modules = [] {
    anyscan::ProbeParams params;
    params.source_ips = {anyscan::IpAddress::v4(0xc6120001u),
                         anyscan::IpAddress::v6(0x2001000200000000ULL, 1)};
    params.source_port_first = 32768;
    params.source_port_count = 28233;
    params.probes_per_target = 3;
    params.key = anyscan::cookie_key_from_seed(1);
    std::vector<std::unique_ptr<anyscan::ProbeModule>> m;
    m.push_back(std::make_unique<anyscan::TcpSynProbe>(params));
    m.push_back(std::make_unique<anyscan::IcmpEchoProbe>(params));
    m.push_back(anyscan::make_udp_probe(params));
    return m;
  }();
  std::unique_ptr<uint8_t[]> frame(new uint8_t[size == 0 ? 1 : size]);
  if (size) std::memcpy(frame.get(), data, size);
  const anyscan::FrameView view{frame.get(), static_cast<uint32_t>(size)};
  for (const auto& module : modules) {
    anyscan::ReplyVerdict verdict;
    anyscan::Reply reply;
    module->classify(&view, 1, &verdict, &reply);
    if (verdict == anyscan::ReplyVerdict::kValid &&
        reply.daddr != anyscan::IpAddress::v4(0xc6120001u) &&
        reply.daddr != anyscan::IpAddress::v6(0x2001000200000000ULL, 1))
      std::abort();
    if (verdict == anyscan::ReplyVerdict::kValid && reply.data_length > anyscan::kReplyDataBytes)
      std::abort();
  }
  if (const auto id = anyscan::snmp_request_id(frame.get(), size); id && size < 8) std::abort();
  return 0;
}
