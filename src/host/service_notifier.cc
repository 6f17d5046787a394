#include "host/service_notifier.h"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace anyscan {

Result<ServiceNotifier> ServiceNotifier::open() {
  ServiceNotifier notifier;
  const char* socket_path = std::getenv("NOTIFY_SOCKET");
  if (socket_path == nullptr || socket_path[0] == '\0') return notifier;
  const size_t length = std::strlen(socket_path);
  if ((socket_path[0] != '/' && socket_path[0] != '@') ||
      length >= sizeof notifier.address_.sun_path)
    return make_error(ExitCode::kConfig, std::string("NOTIFY_SOCKET=") + socket_path +
                                             " is not a socket path or @name");
  notifier.address_.sun_family = AF_UNIX;
  std::memcpy(notifier.address_.sun_path, socket_path, length);
  if (socket_path[0] == '@') notifier.address_.sun_path[0] = '\0';
  notifier.address_bytes_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
  notifier.fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!notifier.fd_.valid())
    return make_error(ExitCode::kUnavailable, errno_message("NOTIFY_SOCKET socket", errno));
  return notifier;
}

void ServiceNotifier::notify(std::string_view state) const {
  if (!fd_.valid()) return;
  ::sendto(fd_.get(), state.data(), state.size(), MSG_NOSIGNAL,
           reinterpret_cast<const sockaddr*>(&address_), address_bytes_);
}

}  // namespace anyscan
