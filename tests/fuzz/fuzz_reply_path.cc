// The whole reply path, as a receiver thread runs it, for every probe module in the
// registry: classification and validation (the module), the plan check, the exact dedup,
// and formatting of every output field in CSV and JSON, read back by the resume reader.
// Frames are arbitrary bytes, or replies mirrored from the module's own probes (so they
// pass validation and reach the dedup and the formatter) and then damaged: bytes flipped,
// cut short, wrapped in an ICMP error, IPv6 ones given extension headers (up to past the walk's
// bound). Targets of both families. Every frame goes to every module. Checked: no crash
// or sanitizer report, every record names a target of the plan, no (address, port,
// classification) is reported twice, and every record reads back to what was reported.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <tuple>
#include <vector>

#include "net/frame_layout.h"
#include "output/record_formatter.h"
#include "output/record_reader.h"
#include "probe/probe_module.h"
#include "scan/receiver.h"
#include "target/port_set.h"
#include "target/target_parser.h"

namespace {

using namespace anyscan;
using namespace anyscan::frame;

constexpr uint32_t kScanner = 0xc6120001u;      // 198.18.0.1
constexpr uint32_t kFirstTarget = 0xc6130000u;  // the plan: 198.19.0.0/20 and 2001:2::1000/116
const IpAddress kScanner6 = IpAddress::v6(0x2001000200000000ULL, 1);
const IpAddress kFirstTarget6 = IpAddress::v6(0x2001000200000000ULL, 0x1000);

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}

// Every record formatted with every field, both formats, read back; and never twice.
class CheckingSink final : public ResultSink {
 public:
  explicit CheckingSink(const ScanPlan& plan) : plan_(plan) {
    for (const auto& info : output_fields()) every_.push_back(info.field);
  }
  Result<void> write(const ResultRecord& record) override {
    const Reply& r = record.reply;
    if (!plan_.target_index_of(r.saddr, r.sport)) std::abort();  // not a target of the plan
    const uint16_t port = plan_.probe->uses_ports() ? r.sport : 0;
    if (!seen_.insert({r.saddr, port, static_cast<int>(r.classification)}).second)
      std::abort();  // reported twice
    for (bool json : {false, true}) {
      RecordFormatter formatter(json, every_);
      char line[RecordFormatter::kMaxRecordBytes];
      const size_t n = formatter.format(record, line);
      if (n == 0 || n > sizeof line || line[n - 1] != '\n') std::abort();
      auto key = RecordReader(json, every_).parse(std::string_view(line, n - 1));
      if (!key || key->saddr != r.saddr || key->classification != r.classification ||
          (plan_.probe->uses_ports() && key->sport != r.sport))
        std::abort();  // what a resume would read back is not what was reported
    }
    return {};
  }
  uint64_t submit() override { return 0; }
  Result<void> wait_written(uint64_t, bool) override { return {}; }

 private:
  const ScanPlan& plan_;
  std::vector<OutputField> every_;
  std::set<std::tuple<IpAddress, uint16_t, int>> seen_;
};

struct Module {
  ScanPlan plan;
  std::shared_ptr<ProbeModule> probe;
};

const std::vector<Module>& modules() {
  static const std::vector<Module> all = [] {
    std::vector<Module> made;
    for (const ProbeModuleInfo& info : probe_modules()) {
      ProbeParams params;
      params.source_ips = {IpAddress::v4(kScanner)};
      params.source_ips.push_back(kScanner6);
      params.source_port_first = 40000;
      params.source_port_count = 1000;
      params.probes_per_target = 2;
      params.key = cookie_key_from_seed(7);
      Module m;
      m.probe = std::shared_ptr<ProbeModule>(info.create(params).release());
      m.plan.module_info = &info;
      m.plan.addresses = *parse_target_list("198.19.0.0/20\n2001:2::1000/116\n", "fuzz");
      m.plan.ports = info.needs_ports ? *parse_ports("1-1024") : PortSet({0});
      m.plan.probe = m.probe;
      made.push_back(std::move(m));
    }
    return made;
  }();
  return all;
}

// IPv6: the reply with its ends swapped, `headers` extension headers (hop-by-hop first,
// then destination options) before the upper layer, or an ICMPv6 error quoting the probe.
std::vector<uint8_t> mirrored6(const std::vector<uint8_t>& probe, FuzzedDataProvider& in) {
  constexpr size_t kL4 = kIp + kIpv6HeaderBytes;
  if (probe.size() < kL4 + 8) return probe;
  if (in.ConsumeBool()) {
    std::vector<uint8_t> error(probe.begin(), probe.begin() + kL4);
    std::copy(probe.begin() + 14 + 8, probe.begin() + 14 + 24, error.begin() + 14 + 24);
    const IpAddress from = in.ConsumeBool() ? IpAddress::from_bytes(probe.data() + 14 + 24)
                                            : IpAddress::v6(in.ConsumeIntegral<uint64_t>(),
                                                            in.ConsumeIntegral<uint64_t>());
    from.to_bytes(error.data() + 14 + 8);
    error[14 + kIpv6NextHeader] = kProtoIcmpv6;
    const uint8_t icmp[8] = {in.ConsumeBool() ? kIcmp6Unreachable : in.ConsumeIntegral<uint8_t>(),
                             in.ConsumeIntegralInRange<uint8_t>(0, 7),
                             0,
                             0,
                             0,
                             0,
                             0,
                             0};
    error.insert(error.end(), icmp, icmp + 8);
    error.insert(error.end(), probe.begin() + 14, probe.end());
    put16(error.data() + 14 + kIpv6PayloadLength, static_cast<uint16_t>(error.size() - kL4));
    return error;
  }
  std::vector<uint8_t> reply = probe;
  std::swap_ranges(reply.begin() + kEthDst, reply.begin() + kEthDst + 6, reply.begin() + kEthSrc);
  std::swap_ranges(reply.begin() + 14 + 8, reply.begin() + 14 + 24, reply.begin() + 14 + 24);
  reply[14 + kIpv6HopLimit] = in.ConsumeIntegral<uint8_t>();
  uint8_t* l4p = reply.data() + kL4;
  if (reply[14 + kIpv6NextHeader] == kProtoTcp && reply.size() >= kL4 + kTcpMinHeaderBytes) {
    const uint16_t source = be16(l4p + kTcpSrcPort);
    put16(l4p + kTcpSrcPort, be16(l4p + kTcpDstPort));
    put16(l4p + kTcpDstPort, source);
    put32(l4p + kTcpAck, be32(l4p + kTcpSeq) + 1);
    const uint8_t flags[] = {kTcpSyn | kTcpAckFlag, kTcpRst | kTcpAckFlag, kTcpRst,
                             in.ConsumeIntegral<uint8_t>()};
    l4p[kTcpFlags] = flags[in.ConsumeIntegralInRange<size_t>(0, 3)];
  } else if (reply[14 + kIpv6NextHeader] == kProtoIcmpv6) {
    l4p[kIcmpType] = in.ConsumeBool() ? kIcmp6EchoReply : in.ConsumeIntegral<uint8_t>();
  }
  // Extension headers between the fixed header and the upper layer.
  const int headers = in.ConsumeIntegralInRange(0, 10);
  uint8_t next = reply[14 + kIpv6NextHeader];
  std::vector<uint8_t> chain;
  for (int h = headers - 1; h >= 0; --h) {
    const uint8_t type = h == 0 && in.ConsumeBool() ? kProtoHopByHop : kProtoDestinationOptions;
    const uint8_t header[8] = {next, 0, 1, 4, 0, 0, 0, 0};
    chain.insert(chain.begin(), header, header + 8);
    next = type;
  }
  reply.insert(reply.begin() + kL4, chain.begin(), chain.end());
  reply[14 + kIpv6NextHeader] = next;
  put16(reply.data() + 14 + kIpv6PayloadLength, static_cast<uint16_t>(reply.size() - kL4));
  return reply;
}

// A reply to one of `module`'s own probes: the probe with its ends swapped, as the target
// would answer it, or an ICMP error quoting it.
std::vector<uint8_t> mirrored(const Module& module, FuzzedDataProvider& in) {
  ProbeTarget target;
  const bool ipv6 = in.ConsumeBool();
  target.daddr = ipv6
                     ? IpAddress{kFirstTarget6.value + in.ConsumeIntegralInRange<uint32_t>(0, 4200)}
                     : IpAddress::v4(kFirstTarget + in.ConsumeIntegralInRange<uint32_t>(0, 4200));
  target.dport = module.probe->uses_ports() ? in.ConsumeIntegralInRange<uint16_t>(0, 1100) : 0;
  target.probe_number = in.ConsumeIntegralInRange<uint16_t>(0, 2);
  std::vector<uint8_t> probe(module.probe->frame_bytes());
  FrameSlot slot{probe.data(), 0};
  module.probe->build(&target, 1, &slot);
  probe.resize(slot.length);
  if (ipv6) return mirrored6(probe, in);
  if (probe.size() < kIp + kIpMinHeaderBytes + 8) return probe;
  const size_t l4 = kIp + (probe[kIpVersionIhl] & 0x0f) * 4u;
  if (in.ConsumeBool()) {
    // ICMP destination unreachable (or other error) quoting the probe's IP header + 8 bytes.
    std::vector<uint8_t> error(kIp + kIpMinHeaderBytes + kIcmpHeaderBytes);
    std::copy(probe.begin(), probe.begin() + kIp + kIpMinHeaderBytes, error.begin());
    std::copy(probe.begin() + kIp, probe.begin() + std::min(probe.size(), l4 + 8),
              std::back_inserter(error));
    put16(error.data() + kIpTotalLength, static_cast<uint16_t>(error.size() - kIp));
    error[kIpProtocol] = kProtoIcmp;
    put32(error.data() + kIpSrc,
          in.ConsumeBool() ? target.daddr.ipv4() : in.ConsumeIntegral<uint32_t>());
    put32(error.data() + kIpDst, kScanner);
    const size_t icmp = kIp + kIpMinHeaderBytes;
    error[icmp + kIcmpType] = in.ConsumeBool() ? kIcmpUnreachable : in.ConsumeIntegral<uint8_t>();
    error[icmp + kIcmpCode] = in.ConsumeIntegralInRange<uint8_t>(0, 15);
    return error;
  }
  std::vector<uint8_t> reply = probe;
  std::swap_ranges(reply.begin() + kEthDst, reply.begin() + kEthDst + 6, reply.begin() + kEthSrc);
  std::swap_ranges(reply.begin() + kIpSrc, reply.begin() + kIpSrc + 4, reply.begin() + kIpDst);
  reply[kIpTtl] = in.ConsumeIntegral<uint8_t>();
  uint8_t* l4p = reply.data() + l4;
  if (reply[kIpProtocol] == kProtoTcp && reply.size() >= l4 + kTcpMinHeaderBytes) {
    const uint16_t source = be16(l4p + kTcpSrcPort);
    put16(l4p + kTcpSrcPort, be16(l4p + kTcpDstPort));
    put16(l4p + kTcpDstPort, source);
    put32(l4p + kTcpAck, be32(l4p + kTcpSeq) + 1);
    put32(l4p + kTcpSeq, in.ConsumeIntegral<uint32_t>());
    const uint8_t flags[] = {kTcpSyn | kTcpAckFlag, kTcpRst | kTcpAckFlag, kTcpRst,
                             in.ConsumeIntegral<uint8_t>()};
    l4p[kTcpFlags] = flags[in.ConsumeIntegralInRange<size_t>(0, 3)];
  } else if (reply[kIpProtocol] == kProtoIcmp && reply.size() >= l4 + kIcmpHeaderBytes) {
    l4p[kIcmpType] = in.ConsumeBool() ? kIcmpEchoReply : in.ConsumeIntegral<uint8_t>();
  } else if (reply[kIpProtocol] == kProtoUdp && reply.size() >= l4 + 8) {
    const uint16_t source = be16(l4p);
    put16(l4p, be16(l4p + 2));
    put16(l4p + 2, source);
  }
  return reply;
}

// Damage: flipped bytes, a cut.
void damage(std::vector<uint8_t>& frame, FuzzedDataProvider& in) {
  for (int flips = in.ConsumeIntegralInRange(0, 3); flips > 0 && !frame.empty(); --flips)
    frame[in.ConsumeIntegralInRange<size_t>(0, frame.size() - 1)] ^= in.ConsumeIntegral<uint8_t>();
  if (in.ConsumeBool()) frame.resize(in.ConsumeIntegralInRange<size_t>(0, frame.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<std::vector<uint8_t>> frames;
  std::vector<int64_t> times;
  while (in.remaining_bytes() > 0 && frames.size() < Receiver::kBatch) {
    std::vector<uint8_t> frame;
    if (in.ConsumeBool()) {
      frame = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 1600));
    } else {
      const auto& all = modules();
      frame = mirrored(all[in.ConsumeIntegralInRange<size_t>(0, all.size() - 1)], in);
      damage(frame, in);
    }
    frames.push_back(std::move(frame));
    times.push_back(in.ConsumeBool() ? in.ConsumeIntegral<int64_t>() : 0);
  }
  // Exact-size copies: ASan sees any read past a frame's end.
  std::vector<std::unique_ptr<uint8_t[]>> copies;
  std::vector<FrameView> views;
  for (size_t i = 0; i < frames.size(); ++i) {
    copies.emplace_back(new uint8_t[frames[i].empty() ? 1 : frames[i].size()]);
    std::copy(frames[i].begin(), frames[i].end(), copies.back().get());
    views.push_back(
        FrameView{copies.back().get(), static_cast<uint32_t>(frames[i].size()), times[i]});
  }
  for (const Module& module : modules()) {
    CheckingSink sink(module.plan);
    ResultCollector collector(0x5eed);
    collector.sink = &sink;
    ReceiverCounters counters;
    std::vector<PacketSource*> no_sources;
    Receiver receiver(module.plan, *module.probe, no_sources, collector, counters);
    // Twice: the second pass must add nothing (everything valid is a duplicate by then).
    for (int pass = 0; pass < 2; ++pass)
      if (!views.empty() && !receiver.handle(views.data(), views.size())) std::abort();
    if (counters.received.load() != 2 * views.size()) std::abort();
    if (counters.results.load() > views.size()) std::abort();
  }
  return 0;
}
