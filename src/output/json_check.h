#pragma once

#include <string_view>

#include "base/result.h"

namespace anyscan {

// Whether text is one JSON value (RFC 8259), so that it can be placed into the metadata
// document as it is (--user-metadata). Nesting deeper than 64 is refused. kUsage naming
// the byte where it stops being JSON.
Result<void> check_json(std::string_view text);

}  // namespace anyscan
