// anyscan-probe: decides whether AF_XDP can work on this host and records the verdict in
// /etc/anyscan/runtime.env, always explicitly (true or false), so a stale "true" never
// survives a kernel change. Only its own three keys change; the file is replaced atomically.
#include <net/if.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "base/exit_code.h"
#include "base/log.h"
#include "base/xdp_features.h"
#include "launcher/af_xdp_probe.h"
#include "launcher/runtime_env.h"

using namespace anyscan;

namespace {
const char* kUsage =
    "Usage: anyscan-probe [--env-file FILE] [--kernel-release RELEASE] [--libxdp present|absent]\n"
    "                     [--af-xdp-socket ok|fail] [--check] [--quiet]\n"
    "       anyscan-probe --xdp-features [--raw]\n"
    "Writes ANYSCAN_AF_XDP_AVAILABLE, ANYSCAN_AF_XDP_PROBE_REASON and "
    "ANYSCAN_AF_XDP_PROBED_KERNEL\n"
    "to FILE (default /etc/anyscan/runtime.env). --check prints the verdict and writes nothing\n"
    "(exit 0 if available, 1 if not). The other options force a check's outcome (tests).\n"
    "Each interface's XDP features (kernel 6.3+, the netdev netlink family) are recorded as\n"
    "ANYSCAN_AF_XDP_INTERFACES; --xdp-features prints them (--raw: the kernel's replies in\n"
    "hex too) and writes nothing.\n";
}

// The NIC's word for every interface: "eth0:basic,redirect,ndo-xmit,rx-sg lo:none", or why
// it is unknown.
std::string interfaces_record() {
  auto features = read_xdp_features();
  if (!features) return "unknown: " + features.error().message;
  if (!*features) return "unknown: no netdev netlink family (kernel before 6.3)";
  return xdp_interfaces_text(**features);
}

int print_xdp_features(bool raw) {
  std::vector<std::vector<uint8_t>> replies;
  auto features = read_xdp_features(raw ? &replies : nullptr);
  if (!features) {
    log_message(LogLevel::kError, features.error().message);
    return static_cast<int>(features.error().code);
  }
  if (!*features) {
    std::printf("no netdev netlink family (kernel before 6.3): XDP features unknown\n");
    return static_cast<int>(ExitCode::kUnavailable);
  }
  for (const InterfaceXdp& d : **features) {
    char name[IF_NAMESIZE] = "?";
    ::if_indextoname(static_cast<unsigned>(d.ifindex), name);
    std::printf("%-16s ifindex %-4d xdp-features %s xdp-zc-max-segs %u\n", name, d.ifindex,
                xdp_feature_names(d.features).c_str(), d.zc_max_segs);
  }
  for (const auto& reply : replies) {
    std::printf("reply:");
    for (const uint8_t b : reply) std::printf("%02x", b);
    std::printf("\n");
  }
  return 0;
}

int main(int argc, char** argv) {
  set_log_program("anyscan-probe");
  std::string env_file = kRuntimeEnvPath, kernel, libxdp, socket_check;
  bool check_only = false, quiet = false, features_only = false, raw = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    bool ok = true;
    if (a == "--env-file")
      ok = value(env_file);
    else if (a == "--kernel-release")
      ok = value(kernel);
    else if (a == "--libxdp")
      ok = value(libxdp) && (libxdp == "present" || libxdp == "absent");
    else if (a == "--af-xdp-socket")
      ok = value(socket_check) && (socket_check == "ok" || socket_check == "fail");
    else if (a == "--check")
      check_only = true;
    else if (a == "--xdp-features")
      features_only = true;
    else if (a == "--raw")
      raw = true;
    else if (a == "--quiet" || a == "-q")
      quiet = true;
    else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else
      ok = false;
    if (!ok) {
      log_message(LogLevel::kError, "bad argument '" + a + "' (see --help)");
      return static_cast<int>(ExitCode::kUsage);
    }
  }
  if (features_only) return print_xdp_features(raw);
  const ProbeFacts facts = gather_probe_facts(kernel, libxdp, socket_check);
  const ProbeVerdict verdict = decide_af_xdp(facts);
  if (check_only) {
    std::printf("AF_XDP %s on kernel %s: %s\n", verdict.available ? "available" : "not available",
                facts.kernel_release.c_str(), verdict.reason.c_str());
    return verdict.available ? 0 : 1;
  }
  std::string note;
  auto written = update_env_file(env_file,
                                 {{kKeyAvailable, verdict.available ? "true" : "false"},
                                  {kKeyReason, verdict.reason},
                                  {kKeyProbedKernel, facts.kernel_release},
                                  {kKeyInterfaces, interfaces_record()}},
                                 &note);
  if (!note.empty()) log_message(LogLevel::kWarn, note);
  if (!written) {
    log_message(LogLevel::kError, written.error().message);
    return static_cast<int>(written.error().code);
  }
  if (!quiet)
    std::printf("anyscan-probe: AF_XDP %s (%s); wrote %s\n",
                verdict.available ? "available" : "not available", verdict.reason.c_str(),
                env_file.c_str());
  return 0;
}
