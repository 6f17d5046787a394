#include "base/write_all.h"

#include <unistd.h>

#include <cerrno>

namespace anyscan {

Result<void> write_all(int fd, std::string_view text, const std::string& what) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ExitCode::kIoErr, errno_message("writing " + what, errno));
    done += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace anyscan
