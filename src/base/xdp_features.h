#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace anyscan {

// The NIC's own word on XDP (kernel 6.3+): the "netdev" generic-netlink family answers, per
// interface, which XDP actions its driver implements (what `ynl --family netdev --dump
// dev-get` prints). Before 6.3 the family does not exist and nothing is known: callers keep
// their older path.
//
// Bits of xdp-features (enum netdev_xdp_act, include/uapi/linux/netdev.h; bookworm's
// linux-libc-dev predates the header).
enum XdpFeature : uint64_t {
  kXdpBasic = 1,        // XDP_ABORTED, _DROP, _PASS, _TX: a native XDP program runs
  kXdpRedirect = 2,     // XDP_REDIRECT: frames reach an AF_XDP socket in native mode
  kXdpNdoXmit = 4,      // the device can be a redirect target
  kXdpXskZerocopy = 8,  // AF_XDP zero-copy
  kXdpHwOffload = 16,
  kXdpRxSg = 32,
  kXdpNdoXmitSg = 64,
};

struct InterfaceXdp {
  int ifindex = 0;
  uint64_t features = 0;     // XdpFeature bits
  uint32_t zc_max_segs = 0;  // xdp-zc-max-segs (6.5+; 0 when absent)
};

// "basic,redirect,rx-sg" in ynl's names, bit order; "none" for 0; unknown bits "bitN".
std::string xdp_feature_names(uint64_t features);
// What native AF_XDP needs of a driver: basic and redirect.
inline constexpr uint64_t kXdpNativeAfXdp = kXdpBasic | kXdpRedirect;

// Parsers of the kernel's replies, on the bytes read from the socket (fuzzed): every
// length checked against what is there. A reply carries one or several netlink messages.
//   The controller's answer to "which id has family netdev": the id, or nullopt when the
//   kernel has no such family (ENOENT: a kernel before 6.3).
Result<std::optional<uint16_t>> parse_family_reply(std::span<const uint8_t> bytes);
//   Answers to dev-get (one device, or part of a dump): the devices in them; *done set when
//   the dump's end (NLMSG_DONE) is among them. An error message is an error naming errno.
Result<std::vector<InterfaceXdp>> parse_dev_replies(std::span<const uint8_t> bytes, uint16_t family,
                                                    bool* done);

// Queries (a NETLINK_GENERIC socket; no privilege needed). nullopt: the kernel has no
// netdev family. `raw`, when given, receives every reply's bytes (the unit tests' recordings).
Result<std::optional<std::vector<InterfaceXdp>>> read_xdp_features(
    std::vector<std::vector<uint8_t>>* raw = nullptr);
Result<std::optional<InterfaceXdp>> read_xdp_features(int ifindex);

}  // namespace anyscan
