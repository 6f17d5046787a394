#include "base/result.h"

#include <cstring>

namespace anyscan {

std::string errno_message(const std::string& context, int err) {
  return context + ": " + std::strerror(err);
}

}  // namespace anyscan
