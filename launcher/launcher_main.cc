// anyscan-launcher: between systemd and the scanner. Reads the AF_XDP verdict, checks the
// capabilities it holds, picks the engine, drops what the engine does not need and execs
// /usr/sbin/anyscan --io-engine=<engine> ARGS (same PID: Type=notify keeps working).
// For af_xdp it runs the scanner as a child first: if that exits 69 (engine setup failed),
// it execs the af_packet scan itself, so a scan is never lost to an engine failure.
#include <net/if.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/exit_code.h"
#include "base/log.h"
#include "base/xdp_features.h"
#include "engine/engine_kind.h"
#include "launcher/af_xdp_probe.h"
#include "launcher/engine_plan.h"
#include "launcher/privileges.h"
#include "launcher/runtime_env.h"

using namespace anyscan;

namespace {

constexpr const char* kScannerPath = "/usr/sbin/anyscan";

const char* kUsage =
    "Usage: anyscan-launcher [--runtime-env FILE] [--scanner PATH] [--] [SCANNER ARGS...]\n"
    "Chooses the I/O engine (ANYSCAN_SCANNER_IO_ENGINE, the AF_XDP verdict in\n"
    "/etc/anyscan/runtime.env, the capabilities held), drops the capabilities that engine\n"
    "does not need and execs the scanner. Exit 77 without CAP_NET_RAW.\n";

pid_t g_child = 0;
void forward_signal(int signal) {
  if (g_child > 0) ::kill(g_child, signal);
}

std::vector<char*> scanner_argv(const std::string& scanner, const std::string& engine,
                                std::vector<std::string>& args, std::string& engine_flag) {
  engine_flag = "--io-engine=" + engine;
  std::vector<char*> argv = {const_cast<char*>(scanner.c_str())};
  bool inserted = false;
  for (auto& a : args) {
    // The launcher's choice goes last among the options so it overrides a -C file or flag.
    if (!inserted && a == "--") {
      argv.push_back(engine_flag.data());
      inserted = true;
    }
    argv.push_back(a.data());
  }
  if (!inserted) argv.push_back(engine_flag.data());
  argv.push_back(nullptr);
  return argv;
}

[[noreturn]] void exec_scanner(const std::string& scanner, const std::string& engine,
                               std::vector<std::string>& args) {
  std::string flag;
  auto argv = scanner_argv(scanner, engine, args, flag);
  ::execv(scanner.c_str(), argv.data());
  log_message(LogLevel::kError, "cannot run " + scanner + ": " + std::strerror(errno));
  ::_exit(static_cast<int>(ExitCode::kUnavailable));
}

VerdictInput read_verdict(const std::string& path, std::string* note) {
  VerdictInput verdict;
  const RuntimeEnv env = read_runtime_env(path);
  if (env.state == RuntimeEnv::State::kMissing) {
    verdict.source = VerdictInput::Source::kMissing;
    verdict.reason = env.problem;
    return verdict;
  }
  if (env.state != RuntimeEnv::State::kOk) {
    verdict.source = VerdictInput::Source::kUnreadable;
    verdict.reason = env.problem;
    return verdict;
  }
  const auto available = env.get(kKeyAvailable);
  if (!available) {
    verdict.source = VerdictInput::Source::kMissing;
    verdict.reason = std::string(kKeyAvailable) + " not set in " + path;
    return verdict;
  }
  if (*available != "true" && *available != "false") {
    verdict.source = VerdictInput::Source::kUnreadable;
    verdict.reason = std::string(kKeyAvailable) + "='" + available->substr(0, 40) +
                     "' is neither true nor false";
    return verdict;
  }
  const std::string probed = env.get(kKeyProbedKernel).value_or("");
  const std::string running = running_kernel_release();
  if (probed != running) {
    // The verdict is for another kernel (a reboot into a new one since the last probe).
    const ProbeVerdict fresh = decide_af_xdp(gather_probe_facts("", "", ""));
    verdict.source = VerdictInput::Source::kReprobed;
    verdict.available = fresh.available;
    verdict.reason = fresh.reason;
    *note = "verdict in " + path + " was probed on kernel '" + probed + "', running " + running +
            ": re-probed in-process: " + (fresh.available ? "available" : "not available");
    return verdict;
  }
  verdict.source = VerdictInput::Source::kRuntimeEnv;
  verdict.available = *available == "true";
  verdict.reason = env.get(kKeyReason).value_or("no reason recorded");
  return verdict;
}

// Drops to `keep` and execs the scanner with `engine`; returns only on failure (exit code).
int drop_and_exec(const std::string& scanner, EngineKind engine, const std::vector<int>& keep,
                  bool setpcap, std::vector<std::string>& args, const std::string& kept_text) {
  std::string how;
  if (auto dropped = drop_capabilities(keep, setpcap, &how); !dropped) {
    log_message(LogLevel::kError, dropped.error().message);
    return static_cast<int>(dropped.error().code);
  }
  if (!kept_text.empty()) log_message(LogLevel::kInfo, "kept " + kept_text + "; " + how);
  exec_scanner(scanner, std::string(engine_name(engine)), args);
}

// af_xdp: the scanner runs as a child with the AF_XDP capabilities while we keep ours, so
// that if its engine setup fails (exit 69) we can still run the scan with af_packet.
int run_af_xdp_with_fallback(const std::string& scanner, const EnginePlan& plan,
                             const HeldCapabilities& held, std::vector<std::string>& args) {
  struct sigaction action {};
  action.sa_handler = forward_signal;
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGHUP, &action, nullptr);  // systemctl reload: the scanner reads its blocklist
  g_child = ::fork();
  if (g_child < 0) {
    log_message(LogLevel::kError, std::string("fork: ") + std::strerror(errno));
    return static_cast<int>(ExitCode::kSoftware);
  }
  if (g_child == 0)
    ::_exit(drop_and_exec(scanner, EngineKind::kAfXdp, plan.keep, held.setpcap, args,
                          "CAP_NET_RAW, CAP_NET_ADMIN, CAP_BPF" +
                              std::string(held.ipc_lock ? ", CAP_IPC_LOCK" : "")));
  int status = 0;
  while (::waitpid(g_child, &status, 0) < 0 && errno == EINTR) {
  }
  g_child = 0;
  if (WIFEXITED(status) && WEXITSTATUS(status) == static_cast<int>(ExitCode::kUnavailable)) {
    const std::string af_packet(engine_name(EngineKind::kAfPacket));
    const std::string reason =
        std::string(engine_name(EngineKind::kAfXdp)) +
        " scanner exited 69 (engine setup failed, see its message above): retrying once with " +
        af_packet;
    log_message(LogLevel::kWarn, reason,
                {{"ANYSCAN_ENGINE", af_packet}, {"ANYSCAN_ENGINE_REASON", reason}});
    ::setenv("ANYSCAN_ENGINE_REASON", reason.c_str(), 1);
    return drop_and_exec(scanner, EngineKind::kAfPacket, {kCapNetRaw}, held.setpcap, args, "");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

// What the scan asks of AF_XDP and on which interface: the job file's keys (-C/--config),
// then the flags, which win as they do in the scanner; then the driver's word on it.
NicInput gather_nic(const std::vector<std::string>& args) {
  NicInput nic;
  std::string config;
  auto option = [&](size_t& i, const char* flag, char short_flag, std::string& out) {
    const std::string& a = args[i];
    const std::string long_flag = std::string("--") + flag;
    if (a.rfind(long_flag + "=", 0) == 0) {
      out = a.substr(long_flag.size() + 1);
      return true;
    }
    if ((a == long_flag || (short_flag != 0 && a == std::string("-") + short_flag)) &&
        i + 1 < args.size()) {
      out = args[++i];
      return true;
    }
    return false;
  };
  std::string interface, mode, zerocopy;
  for (size_t i = 0; i < args.size(); ++i)
    option(i, "config", 'C', config) || option(i, "interface", 'i', interface) ||
        option(i, "xdp-mode", 0, mode) || option(i, "xdp-zerocopy", 0, zerocopy);
  if (!config.empty()) {
    const RuntimeEnv job = read_runtime_env(config);  // the same KEY=VALUE format
    nic.interface = job.get("ANYSCAN_INTERFACE").value_or("");
    nic.xdp_mode = job.get("ANYSCAN_XDP_MODE").value_or("auto");
    nic.zerocopy = job.get("ANYSCAN_XDP_ZEROCOPY").value_or("auto");
  }
  if (!interface.empty()) nic.interface = interface;
  if (!mode.empty()) nic.xdp_mode = mode;
  if (!zerocopy.empty()) nic.zerocopy = zerocopy;
  if (nic.interface.empty()) return nic;  // the scanner finds it from the route
  const unsigned ifindex = ::if_nametoindex(nic.interface.c_str());
  if (ifindex == 0) return nic;  // the scanner says what is wrong with it
  auto features = read_xdp_features(static_cast<int>(ifindex));
  if (!features) {
    nic.problem = nic.interface + "'s XDP features unknown: " + features.error().message;
  } else if (!*features) {
    nic.problem = "no netdev netlink family (kernel before 6.3): " + nic.interface +
                  "'s XDP features unknown";
  } else {
    nic.known = true;
    nic.features = (*features)->features;
  }
  return nic;
}

EnginePlanInput gather_plan_input(const std::string& env_path,
                                  const std::vector<std::string>& args) {
  EnginePlanInput input;
  const RuntimeEnv env = read_runtime_env(env_path);
  // The admin's engine choice: the unit's Environment= or the runtime.env key.
  if (const char* from_environment = std::getenv(kKeyEngine))
    input.requested = from_environment;
  else
    input.requested = env.get(kKeyEngine).value_or("");
  std::string reprobe_note;
  input.verdict = read_verdict(env_path, &reprobe_note);
  if (!reprobe_note.empty()) log_message(LogLevel::kInfo, reprobe_note);
  input.held = held_capabilities();
  input.memlock_bytes = memlock_limit_bytes();
  input.nic = gather_nic(args);
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  set_log_program("anyscan-launcher");
  set_log_journal(true);
  std::string env_path = kRuntimeEnvPath;
  std::string scanner = kScannerPath;
  std::vector<std::string> args;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runtime-env" && i + 1 < argc) {
      env_path = argv[++i];
      continue;
    }
    if (a == "--scanner" && i + 1 < argc) {
      scanner = argv[++i];
      continue;
    }
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--") {
      ++i;
      break;
    }
    break;
  }
  for (; i < argc; ++i) args.emplace_back(argv[i]);

  const EnginePlanInput input = gather_plan_input(env_path, args);
  const EnginePlan plan = plan_engine(input);
  for (const auto& warning : plan.warnings) log_message(LogLevel::kWarn, warning);
  if (plan.exit != ExitCode::kOk) {
    log_message(LogLevel::kError, plan.reason,
                {{"ANYSCAN_ENGINE", "none"}, {"ANYSCAN_ENGINE_REASON", plan.reason}});
    return static_cast<int>(plan.exit);
  }
  log_message(LogLevel::kInfo, "engine " + plan.engine + ": " + plan.reason,
              {{"ANYSCAN_ENGINE", plan.engine}, {"ANYSCAN_ENGINE_REASON", plan.reason}});
  // The scanner's metrics carry it (anyscan_info's engine_reason label).
  ::setenv("ANYSCAN_ENGINE_REASON", plan.reason.c_str(), 1);
  if (plan.engine == engine_name(EngineKind::kAfPacket))
    return drop_and_exec(scanner, EngineKind::kAfPacket, plan.keep, input.held.setpcap, args,
                         "CAP_NET_RAW only");
  return run_af_xdp_with_fallback(scanner, plan, input.held, args);
}
