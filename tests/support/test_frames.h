#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "probe/probe_module.h"

namespace anyscan::testing_support {

// What the unit tests of probe frames share: one set of probe parameters (198.18.0.1,
// source ports 40000-40999, two probes per target, a fixed key) and readable hex.

ProbeParams test_probe_params();

// Lower-case hex, two digits per byte, no separators.
std::string hex(const uint8_t* data, size_t bytes);
inline std::string hex(const std::vector<uint8_t>& bytes) {
  return hex(bytes.data(), bytes.size());
}
// The bytes of an even-length hex string (as hex() writes them).
std::vector<uint8_t> unhex(const std::string& text);

}  // namespace anyscan::testing_support
