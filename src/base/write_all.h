#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace anyscan {

// Writes all of text to fd, retrying short writes and EINTR. what names the file in errors
// ("writing -m metadata file: No space left on device", code kIoErr).
Result<void> write_all(int fd, std::string_view text, const std::string& what);

}  // namespace anyscan
