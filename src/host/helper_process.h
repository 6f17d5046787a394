#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace anyscan {

// The scan's helpers (store/metrics_file.h, store/opt_out_helper.h) are children forked at
// setup, before any thread, that do the file work a confined scan may not (its system-call
// filter has no open, rename or unlink) and nothing else. They talk to the scan over a Unix
// socket pair.

// Forks a helper over a new Unix socket pair: the child runs `helper_main(its end)`, which
// must not return (it ends with _exit); the parent gets its own end. `what` names the helper
// in errors.
template <typename Main>
Result<UniqueFd> fork_helper(const std::string& what, Main helper_main) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return make_error(ExitCode::kSoftware, errno_message("socket pair for " + what, errno));
  UniqueFd ours(fds[0]), theirs(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return make_error(ExitCode::kSoftware, errno_message("fork for " + what, errno));
  if (pid == 0) {
    ours.release();  // closed with everything else (become_helper)
    helper_main(theirs.get());
    ::_exit(0);
  }
  return ours;
}

// Makes the calling child a helper: `socket` becomes fd 3 and every other descriptor above
// stderr is closed; the terminal's signals are ignored (a Ctrl-C or a hangup reaches the
// whole process group; the scan decides when it ends), no new privileges, no capability
// (its user stays the one the scan started as). Returns 3.
int become_helper(int socket);

// read(2) exactly `bytes` (false at the end of the stream or on an error).
bool read_exact(int fd, void* into, size_t bytes);
// write(2) all of it; to a socket (`socket`), send(2) without SIGPIPE.
bool write_exact(int fd, const void* from, size_t bytes, bool socket = false);

}  // namespace anyscan
