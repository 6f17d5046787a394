// anyscan-listen ADDR:PORT ...: holds listening TCP sockets (the kernel answers SYNs) until
// (ADDR IPv4, or IPv6 in brackets: [2001:2::2]:443)
// SIGTERM/SIGINT or --timeout SECONDS. Used by the demo and benchmarks inside a test-made
// target namespace; needs nothing beyond the C++ standard library.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  int timeout_s = 60;
  std::vector<int> fds;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--timeout" && i + 1 < argc) {
      timeout_s = std::atoi(argv[++i]);
      continue;
    }
    const size_t colon = arg.rfind(':');
    const int port = colon == std::string::npos ? 0 : std::atoi(arg.c_str() + colon + 1);
    const bool v6 = !arg.empty() && arg[0] == '[' && colon != std::string::npos && colon > 2 &&
                    arg[colon - 1] == ']';
    sockaddr_storage storage{};
    socklen_t length = 0;
    int parsed = 0;
    if (v6) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(&storage);
      sa->sin6_family = AF_INET6;
      sa->sin6_port = htons(static_cast<uint16_t>(port));
      parsed = ::inet_pton(AF_INET6, arg.substr(1, colon - 2).c_str(), &sa->sin6_addr);
      length = sizeof *sa;
    } else if (colon != std::string::npos) {
      auto* sa = reinterpret_cast<sockaddr_in*>(&storage);
      sa->sin_family = AF_INET;
      sa->sin_port = htons(static_cast<uint16_t>(port));
      parsed = ::inet_pton(AF_INET, arg.substr(0, colon).c_str(), &sa->sin_addr);
      length = sizeof *sa;
    }
    if (parsed != 1 || port <= 0 || port > 65535) {
      std::fprintf(stderr, "anyscan-listen: bad ADDR:PORT '%s'\n", arg.c_str());
      return 64;
    }
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
        ::listen(fd, 4096) != 0) {
      std::fprintf(stderr, "anyscan-listen: %s: %s\n", arg.c_str(), std::strerror(errno));
      return 69;
    }
    fds.push_back(fd);
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  timespec wait{timeout_s, 0};
  sigtimedwait(&set, nullptr, &wait);
  return 0;
}
