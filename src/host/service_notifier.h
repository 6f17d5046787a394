#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace anyscan {

// sd_notify(3) with the socket opened once during setup: libsystemd's sd_notify opens a
// new socket for every message, which the scan's system-call filter does not allow.
// Without $NOTIFY_SOCKET (not started by systemd with Type=notify) it does nothing.
class ServiceNotifier {
 public:
  // Reads $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace).
  static Result<ServiceNotifier> open();
  ServiceNotifier() = default;  // notifies no one

  // "READY=1", "STATUS=...": one datagram; a failure is ignored, as sd_notify's callers do.
  void notify(std::string_view state) const;

 private:
  UniqueFd fd_;
  sockaddr_un address_{};
  socklen_t address_bytes_ = 0;
};

}  // namespace anyscan
