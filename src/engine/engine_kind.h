#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <vector>

namespace anyscan {

// The I/O engines by name: the one list the scanner's registry (engine/io_engine.cc), its
// option parser and help, and the launcher's engine choice all read. Header-only and free
// of any socket or BPF header, so the launcher can use it without linking the engines.
enum class EngineKind { kAfPacket, kAfXdp };

struct EngineName {
  EngineKind kind;
  std::string_view name;
};

inline constexpr std::array<EngineName, 2> kEngineNames = {{
    {EngineKind::kAfPacket, "af_packet"},
    {EngineKind::kAfXdp, "af_xdp"},
}};

inline constexpr std::string_view engine_name(EngineKind kind) {
  for (const auto& e : kEngineNames)
    if (e.kind == kind) return e.name;
  return "?";
}

inline std::vector<std::string_view> engine_names() {
  std::vector<std::string_view> names;
  for (const auto& e : kEngineNames) names.push_back(e.name);
  return names;
}

inline std::optional<EngineKind> engine_kind(std::string_view name) {
  for (const auto& e : kEngineNames)
    if (e.name == name) return e.kind;
  return std::nullopt;
}

}  // namespace anyscan
