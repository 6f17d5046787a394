#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mix64.h"
#include "base/result.h"
#include "net/frame_buffer.h"
#include "net/ip_address.h"
#include "net/ip_frame.h"
#include "net/mac_address.h"
#include "net/reply.h"
#include "net/reply_filter_spec.h"
#include "probe/validation_cookie.h"

namespace anyscan {

class UdpPayloadTable;

// Everything a probe module needs to build frames and check replies; fixed per scan.
struct ProbeParams {
  MacAddress source_mac;
  MacAddress gateway_mac;   // the next hop of IPv4 probes
  MacAddress gateway6_mac;  // of IPv6 probes (zero: gateway_mac)
  // Our source addresses (-S or the routes'): of each family the scan has targets in, one,
  // a range or a list, sorted, at most kMaxSourceAddresses; IPv6 ones within one /96.
  std::vector<IpAddress> source_ips;
  uint16_t source_port_first = 32768;
  uint16_t source_port_count = 28232;  // Linux's default ephemeral range 32768-60999
  uint32_t probes_per_target = 1;
  uint8_t ttl = 255;
  CookieKey key;
  // udp: the payload per destination port (null: the built-in table).
  std::shared_ptr<const UdpPayloadTable> udp_payloads;
};

inline constexpr size_t kMaxSourceAddresses = 256;

inline MacAddress gateway6_of(const ProbeParams& params) {
  return params.gateway6_mac.is_zero() ? params.gateway_mac : params.gateway6_mac;
}

// Which of our source addresses probes a target: always the same one for a target address
// (a keyed hash of it picks, among our addresses of its family), so a reply is valid only
// when it comes back to that one, and a target sees one scanner address, as with zmap's
// -S a-b.
class SourceChoice {
 public:
  SourceChoice(const std::vector<IpAddress>& sources, const CookieKey& key);
  IpAddress for_target(IpAddress daddr) const {
    if (daddr.is_ipv4()) {
      const uint32_t v4 = daddr.ipv4();
      return IpAddress::v4(v4_.size() == 1 ? v4_[0] : v4_[mix64(v4 ^ salt_) % v4_.size()]);
    }
    if (v6_.size() <= 1) return v6_.empty() ? IpAddress{} : v6_[0];
    return v6_[mix64(mix64(daddr.high64() ^ salt_) ^ daddr.low64()) % v6_.size()];
  }
  // Whether `address` is one of ours (the kernel filters pass each family's [first, last]).
  bool contains(IpAddress address) const;
  bool has(IpFamily family) const {
    return family == IpFamily::kIpv4 ? !v4_.empty() : !v6_.empty();
  }
  // The filter's view: each family's first and last address (has_ipv4/has_ipv6 set).
  void fill_filter(ReplyFilterSpec& spec) const;

 private:
  std::vector<uint32_t> v4_;   // sorted
  std::vector<IpAddress> v6_;  // sorted
  uint64_t salt_;
};

struct ProbeTarget {
  IpAddress daddr;
  uint16_t dport;
  uint16_t probe_number;  // 0 .. probes_per_target-1
};

// A probe type: builds its frame template once, patches per-target fields into frames and
// classifies replies. Calls are per batch (one virtual call per batch, not per packet).
class ProbeModule {
 public:
  virtual ~ProbeModule() = default;

  virtual std::string_view name() const = 0;
  // Whether the module probes ports (tcp) or only addresses (icmp).
  virtual bool uses_ports() const = 0;
  // What the kernel filters of both engines admit as possible replies to this module.
  virtual ReplyFilterSpec reply_filter() const = 0;
  virtual size_t frame_bytes() const = 0;
  // What else decides what the module sends (udp: its payloads), as a short text a
  // checkpoint keeps so a resume sends the same probes; "" when the name says it all.
  virtual std::string parameters() const { return ""; }

  // Writes one complete frame per target into slots[i].data and sets slots[i].length.
  virtual void build(const ProbeTarget* targets, size_t count, FrameSlot* slots) const = 0;

  // Parses and validates each frame; verdicts[i] says what frames[i] was, and valid
  // replies fill replies[i]. Frames may be truncated or malformed: never reads past length.
  virtual void classify(const FrameView* frames, size_t count, ReplyVerdict* verdicts,
                        Reply* replies) const = 0;
};

// The IP layer of a received frame, for a module's classify: kValid when `ip` holds an IP
// packet with an upper layer to look at (any address: the module checks); otherwise the
// verdict the frame gets: kUnrelated (not IP, an IPv4 later fragment, not to one of our
// addresses) or kInvalid with reply->invalid_reason (an IPv6 later fragment or a chain that
// cannot be walked, to one of our addresses).
ReplyVerdict reply_ip_layer(const FrameView& view, const SourceChoice& sources, IpFrame* ip,
                            Reply* reply);

struct ProbeModuleInfo {
  std::string_view name;
  std::string_view description;
  bool needs_ports;  // probes (address, port) targets; -p is required
  std::unique_ptr<ProbeModule> (*create)(const ProbeParams& params);
};

// The explicit registry (zmap style): every module is listed here, nothing registers itself.
// The only source of module names: help text, option validation and error lists read it.
const std::vector<ProbeModuleInfo>& probe_modules();
const ProbeModuleInfo* find_probe_module(std::string_view name);
std::vector<std::string_view> probe_module_names();
Result<std::unique_ptr<ProbeModule>> make_probe_module(std::string_view name,
                                                       const ProbeParams& params);

}  // namespace anyscan
