#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/engine_kind.h"
#include "engine/packet_sink.h"
#include "engine/packet_source.h"
#include "net/reply_filter_spec.h"

namespace anyscan {

enum class XdpMode { kAuto, kNative, kSkb };
enum class XdpZeroCopy { kAuto, kForce, kOff };

struct EngineConfig {
  std::string interface;
  int ifindex = 0;
  uint32_t sender_threads = 1;  // one transmit queue (sink) each
  uint32_t rx_queues = 1;       // the interface's receive queues (ETHTOOL_GCHANNELS)
  uint32_t tx_queues = 1;       // ... and transmit queues
  uint32_t retries = 10;        // per failed send batch before the frames count as failed
  ReplyFilterSpec filter;       // from the probe module; engines enforce it in the kernel
  uint32_t frame_bytes = 64;    // the probe module's largest frame: transmit slots hold it
  // Cooked sockets (af_packet only): frames are built as Ethernet II as always, and sent as
  // their IP packet with the kernel writing the interface's own link header (none on an L3
  // interface); received packets start at their IP header and are handed over behind a
  // synthetic Ethernet header (zero MACs, the EtherType of their IP version).
  bool ip_layer = false;
  XdpMode xdp_mode = XdpMode::kAuto;
  XdpZeroCopy xdp_zerocopy = XdpZeroCopy::kAuto;
};

// Replies the engine knows it lost before user space saw them.
struct EngineLoss {
  uint64_t kernel_dropped = 0;  // no room in a receive ring (sum of the sources' `dropped`)
  uint64_t not_redirected = 0;  // AF_XDP: matched on a queue with no socket (went to the kernel)
  uint64_t total() const { return kernel_dropped + not_redirected; }
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
  // Extra per-engine counters for the metadata ("name": value). Safe while the scan runs.
  virtual std::vector<std::pair<std::string, uint64_t>> counters() { return {}; }
  // Safe to call while the scan runs (the status reporter does, every second).
  virtual EngineLoss loss() {
    EngineLoss loss;
    for (size_t q = 0; q < source_count(); ++q) loss.kernel_dropped += source(q).stats().dropped;
    return loss;
  }
};

struct IoEngineInfo {
  EngineKind kind;
  Result<std::unique_ptr<IoEngine>> (*open)(const EngineConfig& config);
};

// The explicit registry, in the order of kEngineNames.
const std::vector<IoEngineInfo>& io_engines();
Result<std::unique_ptr<IoEngine>> open_io_engine(EngineKind kind, const EngineConfig& config);

}  // namespace anyscan
