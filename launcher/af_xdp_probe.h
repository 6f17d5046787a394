#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/xdp_features.h"

namespace anyscan {

// The three facts anyscan-probe checks, each possibly overridden for tests.
struct ProbeFacts {
  std::string kernel_release;  // uname -r
  bool libxdp_loadable = false;
  std::string libxdp_detail;  // dlerror() when not loadable
  bool af_xdp_socket = false;
  std::string socket_detail;  // strerror when socket(AF_XDP) failed
};

struct ProbeVerdict {
  bool available = false;
  std::string reason;
};

inline constexpr int kMinKernelMajor = 5;
inline constexpr int kMinKernelMinor = 10;

// "6.1.0-13-amd64" -> {6, 1}; nullopt when it does not start with MAJOR.MINOR.
std::optional<std::pair<int, int>> parse_kernel_release(const std::string& release);

// Pure: available only if kernel >= 5.10 and libxdp loads and socket(AF_XDP) works; the
// reason names the first check that failed, or all that passed.
ProbeVerdict decide_af_xdp(const ProbeFacts& facts);

// Gathers the real facts of this host. libxdp_override / socket_override: "" = check,
// "present"/"absent", "ok"/"fail" = forced (tests).
ProbeFacts gather_probe_facts(const std::string& kernel_override,
                              const std::string& libxdp_override,
                              const std::string& socket_override);

std::string running_kernel_release();

// The record of every interface's XDP features: "NAME:features" (xdp_feature_names) for
// each, space-separated, in ifindex order (interface names hold no space or colon).
std::string xdp_interfaces_text(const std::vector<InterfaceXdp>& devices);

}  // namespace anyscan
