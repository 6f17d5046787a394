#include "launcher/af_xdp_probe.h"

#include <dlfcn.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/parse_number.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

namespace anyscan {

std::optional<std::pair<int, int>> parse_kernel_release(const std::string& release) {
  const size_t dot = release.find('.');
  if (dot == std::string::npos) return std::nullopt;
  size_t end = dot + 1;
  while (end < release.size() && release[end] >= '0' && release[end] <= '9') ++end;
  auto major = parse_decimal(std::string_view(release).substr(0, dot), 1000);
  auto minor = parse_decimal(std::string_view(release).substr(dot + 1, end - dot - 1), 1000);
  if (!major || !minor) return std::nullopt;
  return std::make_pair(static_cast<int>(*major), static_cast<int>(*minor));
}

ProbeVerdict decide_af_xdp(const ProbeFacts& facts) {
  const auto version = parse_kernel_release(facts.kernel_release);
  if (!version) return {false, "cannot read kernel release '" + facts.kernel_release + "'"};
  if (*version < std::make_pair(kMinKernelMajor, kMinKernelMinor))
    return {false, "kernel " + facts.kernel_release + " is older than 5.10"};
  if (!facts.libxdp_loadable) return {false, "libxdp cannot be loaded: " + facts.libxdp_detail};
  if (!facts.af_xdp_socket) return {false, "socket(AF_XDP) failed: " + facts.socket_detail};
  return {true, "kernel " + facts.kernel_release + " >= 5.10, libxdp loads, socket(AF_XDP) works"};
}

std::string running_kernel_release() {
  utsname name{};
  if (::uname(&name) != 0) return "unknown";
  return name.release;
}

ProbeFacts gather_probe_facts(const std::string& kernel_override,
                              const std::string& libxdp_override,
                              const std::string& socket_override) {
  ProbeFacts facts;
  facts.kernel_release = kernel_override.empty() ? running_kernel_release() : kernel_override;
  if (libxdp_override == "present") {
    facts.libxdp_loadable = true;
  } else if (libxdp_override == "absent") {
    facts.libxdp_detail = "forced absent (--libxdp=absent)";
  } else if (void* handle = ::dlopen("libxdp.so.1", RTLD_NOW | RTLD_LOCAL)) {
    facts.libxdp_loadable = true;
    ::dlclose(handle);
  } else {
    const char* error = ::dlerror();
    facts.libxdp_detail = error ? error : "dlopen(libxdp.so.1) failed";
  }
  if (socket_override == "ok") {
    facts.af_xdp_socket = true;
  } else if (socket_override == "fail") {
    facts.socket_detail = "forced failure (--af-xdp-socket=fail)";
  } else {
    const int fd = ::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
      facts.af_xdp_socket = true;
      ::close(fd);
    } else {
      facts.socket_detail = std::strerror(errno);
    }
  }
  return facts;
}

std::string xdp_interfaces_text(const std::vector<InterfaceXdp>& devices) {
  std::string out;
  for (const InterfaceXdp& d : devices) {
    char name[IF_NAMESIZE] = {};
    if (::if_indextoname(static_cast<unsigned>(d.ifindex), name) == nullptr)
      std::snprintf(name, sizeof name, "if%d", d.ifindex);
    out += (out.empty() ? "" : " ") + std::string(name) + ":" + xdp_feature_names(d.features);
  }
  return out;
}

}  // namespace anyscan
