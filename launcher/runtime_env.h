#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace anyscan {

inline constexpr const char* kRuntimeEnvPath = "/etc/anyscan/runtime.env";
inline constexpr const char* kKeyAvailable = "ANYSCAN_AF_XDP_AVAILABLE";
inline constexpr const char* kKeyReason = "ANYSCAN_AF_XDP_PROBE_REASON";
inline constexpr const char* kKeyProbedKernel = "ANYSCAN_AF_XDP_PROBED_KERNEL";
inline constexpr const char* kKeyInterfaces = "ANYSCAN_AF_XDP_INTERFACES";
inline constexpr const char* kKeyEngine = "ANYSCAN_SCANNER_IO_ENGINE";
inline constexpr size_t kRuntimeEnvMaxBytes = 1 << 20;

// What the launcher read from runtime.env. A missing, unreadable or malformed file is a
// state, never an error: the launcher then treats AF_XDP as not available.
struct RuntimeEnv {
  enum class State { kOk, kMissing, kUnreadable, kMalformed };
  State state = State::kMissing;
  std::string problem;  // why, for kUnreadable / kMalformed
  std::map<std::string, std::string> values;

  std::optional<std::string> get(const std::string& key) const;
};

RuntimeEnv read_runtime_env(const std::string& path);

// The new text of an env file with `updates` applied: an assignment line of an updated key
// is replaced in place (later duplicates of it are dropped), every other line (comments,
// blank lines, other keys) is kept byte for byte, and keys not present are appended.
// Values are written double-quoted when they need it.
std::string rewrite_env(std::string_view old_text,
                        const std::vector<std::pair<std::string, std::string>>& updates);

// Applies updates to the file at path atomically: write a temporary file in the same
// directory, fsync it, rename it over path, fsync the directory. A crash at any point
// leaves either the old or the new file. A binary or oversized existing file is moved
// aside to PATH.invalid (reported in *note) and replaced by a fresh one.
Result<void> update_env_file(const std::string& path,
                             const std::vector<std::pair<std::string, std::string>>& updates,
                             std::string* note);

}  // namespace anyscan
