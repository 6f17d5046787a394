#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace anyscan {

// The system calls a running scan makes, and nothing else: its threads read, write and
// send on the descriptors setup opened, wait (futex, clocks, poll), manage memory without
// ever making it executable, start threads (never processes), name them, take SIGINT and
// SIGTERM, and exit. Some are allowed only with given arguments (see the .cc).
const std::vector<std::string_view>& scan_syscall_names();

// The allow-list, built with libseccomp (nothing loaded yet); any other call fails with
// EPERM (clone3 with ENOSYS, so glibc falls back to clone, whose flags the filter can check).
class ScanSyscallFilter {
 public:
  static Result<ScanSyscallFilter> build();
  // The scan's list plus what anyscan-identify's kernel TCP connections need: socket(2) for
  // IPv4/IPv6 stream sockets only, bind, connect, setsockopt, shutdown, getsockname and
  // epoll_ctl/epoll_wait/epoll_pwait (the epoll set is made before the filter).
  static Result<ScanSyscallFilter> build_for_tcp_client();
  // How many calls it allows (those this architecture has).
  size_t allowed() const { return allowed_; }
  // Whether it is loaded on every thread at once (TSYNC); else on the calling one, whose
  // later threads inherit it.
  bool synchronised() const { return synchronised_; }
  // Installs it (on every thread when synchronised()). Needs PR_SET_NO_NEW_PRIVS.
  Result<void> load();

 private:
  struct Release {
    void operator()(void* filter) const;
  };
  std::unique_ptr<void, Release> filter_;
  size_t allowed_ = 0;
  bool synchronised_ = false;
};

// Checked, not assumed: true when the calling thread is under the filter, seen from a call
// the scan never makes (socket(2)) failing with EPERM.
bool scan_syscall_filter_active();

}  // namespace anyscan
