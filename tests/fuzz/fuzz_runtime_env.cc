// The probe's runtime.env rewrite, the kernel release parser, and the kernel's netdev netlink
// replies the probe, the launcher and the scanner read (base/xdp_features.h). Properties: whatever
// the old file was, a file that parsed still parses after the rewrite, with the probe's values.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "base/env_file.h"
#include "base/xdp_features.h"
#include "launcher/af_xdp_probe.h"
#include "launcher/runtime_env.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)anyscan::parse_kernel_release(text);
  // Netlink replies: any bytes are a reply or an error, never a read past them.
  const std::span<const uint8_t> bytes(data, size);
  (void)anyscan::parse_family_reply(bytes);
  bool done = false;
  if (auto devices = anyscan::parse_dev_replies(bytes, size == 0 ? 0x14 : data[0], &done))
    for (const auto& d : *devices)
      if (anyscan::xdp_feature_names(d.features).empty()) std::abort();
  const std::vector<std::pair<std::string, std::string>> updates = {
      {anyscan::kKeyAvailable, "false"},
      {anyscan::kKeyReason, text.substr(0, 80)},
      {anyscan::kKeyProbedKernel, "6.1.0"}};
  const std::string rewritten = anyscan::rewrite_env(text, updates);
  const bool parsed_before = static_cast<bool>(anyscan::parse_env_file(text, "fuzz"));
  auto after = anyscan::parse_env_file(rewritten, "fuzz");
  if (parsed_before && text.find('\0') == std::string::npos) {
    if (!after) std::abort();
    std::map<std::string, std::string> values;
    for (const auto& e : *after) values[e.key] = e.value;
    if (values[anyscan::kKeyAvailable] != "false" || values[anyscan::kKeyProbedKernel] != "6.1.0")
      std::abort();
  }
  return 0;
}
