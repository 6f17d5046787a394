#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/exit_code.h"

namespace anyscan {

// Capabilities the launcher knows about (numbers from <linux/capability.h>).
enum Capability : int {
  kCapIpcLock = 14,
  kCapNetAdmin = 12,
  kCapNetRaw = 13,
  kCapSetpcap = 8,
  kCapBpf = 39,
};
std::string capability_name(int capability);

struct HeldCapabilities {
  bool net_raw = false;
  bool net_admin = false;
  bool bpf = false;
  bool ipc_lock = false;
  bool setpcap = false;
};

// The AF_XDP verdict as the launcher ends up with it.
struct VerdictInput {
  enum class Source { kRuntimeEnv, kReprobed, kMissing, kUnreadable };
  Source source = Source::kMissing;
  bool available = false;
  std::string reason;  // the probe's reason, or why there is no usable verdict
};

// The interface the job scans on and what its driver says it can do (base/xdp_features.h),
// with what the job asks of AF_XDP; known = false where the kernel cannot say (before 6.3),
// the interface is not named, or the question failed.
struct NicInput {
  std::string interface;
  bool known = false;
  uint64_t features = 0;          // XdpFeature bits
  std::string xdp_mode = "auto";  // --xdp-mode / ANYSCAN_XDP_MODE
  std::string zerocopy = "auto";  // --xdp-zerocopy / ANYSCAN_XDP_ZEROCOPY
  std::string problem;            // why not known, for the reason
};

struct EnginePlanInput {
  std::string requested;  // ANYSCAN_SCANNER_IO_ENGINE as read ("" = unset)
  VerdictInput verdict;
  HeldCapabilities held;
  uint64_t memlock_bytes = 0;  // RLIMIT_MEMLOCK soft limit (UINT64_MAX = unlimited)
  NicInput nic;
};

struct EnginePlan {
  ExitCode exit = ExitCode::kOk;  // kNoPerm: do not scan
  std::string engine;             // "af_packet" or "af_xdp"
  std::string reason;             // one line, for the journal and stderr
  std::vector<std::string> warnings;
  std::vector<int> keep;  // capabilities the scanner keeps; all others are dropped
};

// UMEM below this is not worth AF_XDP (measured: a 4 MiB UMEM works; the scanner sizes
// its UMEM to the limit when it lacks CAP_IPC_LOCK).
inline constexpr uint64_t kMinUsefulUmemBytes = 4ull << 20;

// Pure decision: the engine, why, and what the scanner keeps.
EnginePlan plan_engine(const EnginePlanInput& input);

}  // namespace anyscan
