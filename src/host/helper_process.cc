#include "host/helper_process.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>

namespace anyscan {

int become_helper(int socket) {
  // The socket as 3 (through a copy above it, so nothing is overwritten); nothing else.
  ::dup2(::fcntl(socket, F_DUPFD, 10), 3);
  ::syscall(SYS_close_range, 4u, ~0u, 0u);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1})
    ::signal(signal, SIG_IGN);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct no_capability[2] = {};
  ::syscall(SYS_capset, &header, no_capability);
  return 3;
}

bool read_exact(int fd, void* into, size_t bytes) {
  auto* p = static_cast<char*>(into);
  while (bytes > 0) {
    const ssize_t n = ::read(fd, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    bytes -= static_cast<size_t>(n);
  }
  return true;
}

bool write_exact(int fd, const void* from, size_t bytes, bool socket) {
  const auto* p = static_cast<const char*>(from);
  while (bytes > 0) {
    const ssize_t n = socket ? ::send(fd, p, bytes, MSG_NOSIGNAL) : ::write(fd, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    bytes -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace anyscan
