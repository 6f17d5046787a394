#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace anyscan {

// Calls `line` for every line in the first `bytes` bytes of the results file at `path`
// (without the header line when `header`), which must end exactly at a line end. Returns
// the number of lines; errors name the file and line (kDataErr for contents, kNoInput /
// kIoErr for the file).
Result<uint64_t> read_result_lines(const std::string& path, uint64_t bytes, bool header,
                                   const std::function<Result<void>(std::string_view)>& line);

}  // namespace anyscan
