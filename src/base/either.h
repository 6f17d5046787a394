#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace anyscan {

// The alternatives of a choice, for messages: {"a"} -> "a", {"a", "b"} -> "a or b",
// {"a", "b", "c"} -> "a, b or c".
inline std::string either(const std::vector<std::string_view>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += std::string(i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + std::string(names[i]);
  return out;
}

}  // namespace anyscan
