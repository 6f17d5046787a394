#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/packet_sink.h"
#include "engine/packet_source.h"
#include "net/ipv4_address.h"

namespace anyscan {

// Which received frames can be replies: destined to our address, and for TCP to our
// source-port range. Engines filter in the kernel (cBPF / XDP) so the rest never reaches
// user space.
struct ReplyFilter {
  Ipv4Address local_ip;
  uint8_t ip_protocol = 6;
  uint16_t port_first = 0;
  uint16_t port_last = 65535;
};

enum class XdpMode { kAuto, kNative, kSkb };
enum class XdpZeroCopy { kAuto, kForce, kOff };

struct EngineConfig {
  std::string interface;
  int ifindex = 0;
  uint32_t sender_threads = 1;
  uint32_t retries = 10;   // per failed send batch before the frames count as failed
  ReplyFilter filter;
  XdpMode xdp_mode = XdpMode::kAuto;
  XdpZeroCopy xdp_zerocopy = XdpZeroCopy::kAuto;
  uint32_t xdp_queues = 0;  // 0 = all the interface has (capped by sender threads)
  uint32_t interface_queues = 1;
};

// A packet I/O backend, chosen at run time from an explicit list. It owns its sockets;
// sinks and sources are per queue, one per thread.
class IoEngine {
 public:
  virtual ~IoEngine() = default;
  virtual std::string_view name() const = 0;
  virtual size_t sink_count() const = 0;
  virtual size_t source_count() const = 0;
  virtual PacketSink& sink(size_t queue) = 0;
  virtual PacketSource& source(size_t queue) = 0;
  // Extra per-engine counters for the status line and metadata ("name": value).
  virtual std::vector<std::pair<std::string, uint64_t>> counters() { return {}; }
};

struct IoEngineInfo {
  std::string_view name;
  Result<std::unique_ptr<IoEngine>> (*open)(const EngineConfig& config);
};

const std::vector<IoEngineInfo>& io_engines();
Result<std::unique_ptr<IoEngine>> open_io_engine(std::string_view name, const EngineConfig& config);

}  // namespace anyscan
