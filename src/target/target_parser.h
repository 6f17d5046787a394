#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "target/address_set.h"

namespace anyscan {

// One target expression: "198.18.0.0/15" (host bits are cleared, as zmap does),
// "198.18.0.1-198.18.0.9", or "198.18.0.1". Errors name the expression.
Result<AddressRange> parse_target(std::string_view text);

// A target/allowlist/blocklist file (zmap's format): one expression per line, '#' starts a
// comment, blank lines are ignored. Errors say "NAME:LINE: ...", with code kDataErr.
Result<AddressSet> parse_target_list(std::string_view contents, const std::string& name);

// Reads and parses a file; an unreadable file is kNoInput.
Result<AddressSet> load_target_file(const std::string& path);

}  // namespace anyscan
