// anyscan-launcher as a non-root user holding exactly the capabilities under test
// (setpriv), with every kind of AF_XDP verdict and engine request; a stand-in scanner
// (anyscan-capdump) reports the capability sets it was exec'd with. And anyscan-probe's
// verdicts, byte-for-byte preservation and crash safety.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "launcher/af_xdp_probe.h"
#include "support/test_shell.h"

namespace {

using anyscan::testing_support::run_shell;
using ShellRun = anyscan::testing_support::ShellResult;
std::string slurp(const std::string& path) { return anyscan::testing_support::read_file(path); }
ShellRun sh(const std::string& command) { return run_shell(command); }

std::string temp_dir() {
  static const std::string dir = anyscan::testing_support::process_temp_dir("anyscan-launcher-");
  return dir;
}

std::string status_field(const std::string& out, const std::string& field) {
  const size_t at = out.find(field + ":\t");
  if (at == std::string::npos) return "";
  return out.substr(at + field.size() + 2, out.find('\n', at) - at - field.size() - 2);
}

unsigned long long mask(const std::string& hex) {
  return std::stoull(hex.empty() ? "0" : hex, nullptr, 16);
}

constexpr unsigned long long kNetRaw = 1ull << 13, kNetAdmin = 1ull << 12, kBpf = 1ull << 39;

class LauncherMatrix : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for setpriv";
  }
};

TEST_F(LauncherMatrix, EngineReasonExitCodeAndCapabilitiesForEveryCombination) {
  const std::string running = anyscan::running_kernel_release();
  // What a re-probe of this very host says (stale verdicts are re-probed in-process).
  const bool host_has_af_xdp = sh(std::string(PROBE_BINARY) + " --check").exit_code == 0;
  struct CapCase {
    const char* name;
    const char* setpriv_caps;
    bool raw, admin, bpf;
  };
  const CapCase cap_cases[] = {
      {"none", "", false, false, false},
      {"net_raw", "+net_raw", true, false, false},
      {"net_raw+net_admin", "+net_raw,+net_admin", true, true, false},
      {"all three", "+net_raw,+net_admin,+bpf", true, true, true},
  };
  struct VerdictCase {
    const char* name;
    std::string contents;
    bool write;
    bool available;
  };
  const VerdictCase verdicts[] = {
      {"true",
       "# probe\nANYSCAN_AF_XDP_AVAILABLE=true\nANYSCAN_AF_XDP_PROBE_REASON=\"test says "
       "yes\"\nANYSCAN_AF_XDP_PROBED_KERNEL=" +
           running + "\n",
       true, true},
      {"false",
       "ANYSCAN_AF_XDP_AVAILABLE=false\nANYSCAN_AF_XDP_PROBE_REASON=\"test says "
       "no\"\nANYSCAN_AF_XDP_PROBED_KERNEL=" +
           running + "\n",
       true, false},
      {"missing", "", false, false},
      {"garbage",
       std::string("\x7f"
                   "ELF\x01\x00 not an env file\n",
                   22),
       true, false},
      {"stale kernel",
       "ANYSCAN_AF_XDP_AVAILABLE=false\nANYSCAN_AF_XDP_PROBE_REASON=old\nANYSCAN_AF_XDP_PROBED_"
       "KERNEL=4.19.0-old\n",
       true, host_has_af_xdp},
  };
  const char* engines[] = {"auto", "af_packet", "af_xdp", "bogus"};
  const std::string env_path = temp_dir() + "/runtime.env";
  int combinations = 0;
  for (const auto& c : cap_cases)
    for (const auto& v : verdicts)
      for (const char* engine : engines) {
        SCOPED_TRACE(testing::Message()
                     << "caps " << c.name << ", verdict " << v.name << ", engine " << engine);
        ::unlink(env_path.c_str());
        if (v.write) std::ofstream(env_path, std::ios::binary) << v.contents;
        const std::string caps = c.setpriv_caps[0] ? std::string("-all,") + c.setpriv_caps : "-all";
        const ShellRun r = sh(std::string("ANYSCAN_SCANNER_IO_ENGINE=") + engine +
                              " setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps " +
                              caps + " --ambient-caps " + caps + " --bounding-set " + caps + " " +
                              LAUNCHER_BINARY + " --runtime-env " + env_path + " --scanner " +
                              CAPDUMP_BINARY + " -- -p 80 198.18.0.1");
        ++combinations;
        if (!c.raw) {
          EXPECT_EQ(r.exit_code, 77) << r.err;
          EXPECT_NE(r.err.find("missing CAP_NET_RAW"), std::string::npos) << r.err;
          EXPECT_EQ(r.out, "") << "the scanner must not run";
          continue;
        }
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const bool want_xdp = std::string(engine) != "af_packet" && v.available && c.admin && c.bpf;
        const std::string chosen = want_xdp ? "af_xdp" : "af_packet";
        EXPECT_NE(r.out.find("args: -p 80 198.18.0.1 --io-engine=" + chosen), std::string::npos)
            << r.out;
        EXPECT_NE(r.err.find("engine " + chosen + ": "), std::string::npos) << r.err;
        if (std::string(engine) == "bogus") {
          EXPECT_NE(r.err.find("'bogus' is not auto"), std::string::npos) << r.err;
        }
        if (std::string(v.name) == "stale kernel") {
          EXPECT_NE(r.err.find("re-probed in-process"), std::string::npos) << r.err;
        }
        if (!want_xdp && std::string(engine) != "af_packet") {
          const char* why = !v.write                           ? "no AF_XDP verdict"
                            : std::string(v.name) == "garbage" ? "verdict unusable"
                            : !v.available                     ? "not available on this host"
                                                               : "missing:";
          EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
        }
        const unsigned long long expected = want_xdp ? (kNetRaw | kNetAdmin | kBpf) : kNetRaw;
        for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"})
          EXPECT_EQ(mask(status_field(r.out, set)), expected) << set << "\n" << r.out;
        // No SETPCAP here: the bounding set stays what the "unit" (setpriv) gave.
        EXPECT_EQ(mask(status_field(r.out, "CapBnd")) & ~(kNetRaw | kNetAdmin | kBpf), 0ull)
            << r.out;
        EXPECT_NE(r.err.find("bounding set left to the unit"), std::string::npos) << r.err;
      }
  EXPECT_EQ(combinations, 4 * 5 * 4);
}

TEST_F(LauncherMatrix, RootWithSetpcapLowersTheBoundingSetToo) {
  const std::string env_path = temp_dir() + "/runtime-root.env";
  std::ofstream(env_path) << "ANYSCAN_AF_XDP_AVAILABLE=false\nANYSCAN_AF_XDP_PROBED_KERNEL="
                          << anyscan::running_kernel_release() << "\n";
  const ShellRun r = sh(std::string(LAUNCHER_BINARY) + " --runtime-env " + env_path +
                        " --scanner " + CAPDUMP_BINARY);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mask(status_field(r.out, "CapBnd")), kNetRaw) << r.out;
  EXPECT_EQ(mask(status_field(r.out, "CapEff")), kNetRaw) << r.out;
  EXPECT_NE(r.err.find("bounding set lowered with CAP_SETPCAP"), std::string::npos) << r.err;
}

TEST_F(LauncherMatrix, AfXdpSetupFailureFallsBackToAfPacketOnce) {
  const std::string env_path = temp_dir() + "/runtime-fallback.env";
  std::ofstream(env_path) << "ANYSCAN_AF_XDP_AVAILABLE=true\nANYSCAN_AF_XDP_PROBED_KERNEL="
                          << anyscan::running_kernel_release() << "\n";
  const std::string caps = "-all,+net_raw,+net_admin,+bpf";
  const ShellRun r =
      sh("ANYSCAN_CAPDUMP_FAIL_AF_XDP=1 setpriv --reuid nobody --regid nogroup --clear-groups "
         "--inh-caps " +
         caps + " --ambient-caps " + caps + " --bounding-set " + caps + " " + LAUNCHER_BINARY +
         " --runtime-env " + env_path + " --scanner " + CAPDUMP_BINARY + " -- -p 80 198.18.0.1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("--io-engine=af_xdp"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("retrying once with af_packet"), std::string::npos) << r.err;
  // The last scanner run is the af_packet one, with NET_RAW only.
  const std::string last = r.out.substr(r.out.rfind("args:"));
  EXPECT_NE(last.find("--io-engine=af_packet"), std::string::npos) << r.out;
  EXPECT_EQ(mask(status_field(last, "CapEff")), kNetRaw) << last;
}

TEST_F(LauncherMatrix, EngineFromRuntimeEnvKey) {
  const std::string env_path = temp_dir() + "/runtime-key.env";
  std::ofstream(env_path) << "ANYSCAN_SCANNER_IO_ENGINE=af_packet\nANYSCAN_AF_XDP_AVAILABLE="
                             "true\nANYSCAN_AF_XDP_PROBED_KERNEL="
                          << anyscan::running_kernel_release() << "\n";
  const ShellRun r = sh(std::string("env -u ANYSCAN_SCANNER_IO_ENGINE ") + LAUNCHER_BINARY +
                        " --runtime-env " + env_path + " --scanner " + CAPDUMP_BINARY);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("af_packet requested by ANYSCAN_SCANNER_IO_ENGINE"), std::string::npos)
      << r.err;
}

// ---- anyscan-probe ----

const std::string kAdminFile =
    "# /etc/anyscan/runtime.env - written by anyscan-probe; admin keys are kept\n"
    "ANYSCAN_SCANNER_IO_ENGINE=auto   # or af_packet\n"
    "\n"
    "ANYSCAN_AF_XDP_AVAILABLE=true\n";

TEST(AnyscanProbe, FakeKernelsAndPreservedLines) {
  const std::string path = temp_dir() + "/probe.env";
  struct Case {
    const char* kernel;
    const char* available;
  };
  for (const Case& c : {Case{"5.4.0-150-generic", "false"}, Case{"5.10.0-26-amd64", "true"},
                        Case{"6.1.0-13-amd64", "true"}}) {
    SCOPED_TRACE(c.kernel);
    std::ofstream(path) << kAdminFile;
    const ShellRun r = sh(std::string(PROBE_BINARY) + " --env-file " + path + " --kernel-release " +
                          c.kernel + " --libxdp present --af-xdp-socket ok");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string text = slurp(path);
    EXPECT_EQ(
        text.rfind("# /etc/anyscan/runtime.env - written by anyscan-probe; admin keys are kept\n"
                   "ANYSCAN_SCANNER_IO_ENGINE=auto   # or af_packet\n\n",
                   0),
        0u)
        << text;
    EXPECT_NE(text.find(std::string("ANYSCAN_AF_XDP_AVAILABLE=") + c.available + "\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(std::string("ANYSCAN_AF_XDP_PROBED_KERNEL=") + c.kernel + "\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("ANYSCAN_AF_XDP_PROBE_REASON="), std::string::npos) << text;
  }
  std::ofstream(path) << kAdminFile;
  const ShellRun no_lib = sh(std::string(PROBE_BINARY) + " --env-file " + path +
                             " --kernel-release 6.1.0 --libxdp absent");
  ASSERT_EQ(no_lib.exit_code, 0);
  EXPECT_NE(
      slurp(path).find(
          "ANYSCAN_AF_XDP_AVAILABLE=false\nANYSCAN_AF_XDP_PROBE_REASON=\"libxdp cannot be loaded"),
      std::string::npos);
  EXPECT_EQ(sh(std::string(PROBE_BINARY) + " --kernel-release").exit_code, 64);
}

TEST(AnyscanProbe, KillDuringWriteLeavesTheOldOrTheNewFileNeverAMix) {
  const std::string path = temp_dir() + "/atomic.env";
  std::ofstream(path) << kAdminFile;
  const std::string before = slurp(path);
  // Killed (SIGKILL) after writing and fsyncing the temporary file, before the rename.
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("ANYSCAN_PROBE_TEST_PAUSE_BEFORE_RENAME_MS", "3000", 1);
    ::execl(PROBE_BINARY, PROBE_BINARY, "--env-file", path.c_str(), "--kernel-release", "5.4.0",
            "--quiet", nullptr);
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ::waitpid(pid, nullptr, 0);
  EXPECT_EQ(slurp(path), before);
  // A later probe completes normally over the leftover temporary file.
  ASSERT_EQ(
      sh(std::string(PROBE_BINARY) + " --env-file " + path + " --kernel-release 5.4.0 --quiet")
          .exit_code,
      0);
  const std::string after = slurp(path);
  EXPECT_NE(after.find("ANYSCAN_AF_XDP_AVAILABLE=false\n"), std::string::npos);

  // Readers racing many writers only ever see one of the two complete versions.
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, reads{0};
  std::thread reader([&] {
    while (!stop) {
      const std::string seen = slurp(path);
      if (seen.find("ANYSCAN_AF_XDP_PROBED_KERNEL=5.4.0\n") == std::string::npos &&
          seen.find("ANYSCAN_AF_XDP_PROBED_KERNEL=6.1.0\n") == std::string::npos)
        ++torn;
      ++reads;
    }
  });
  for (int i = 0; i < 100; ++i)
    sh(std::string(PROBE_BINARY) + " --env-file " + path +
       " --quiet --libxdp present --af-xdp-socket ok --kernel-release " +
       (i % 2 ? "5.4.0" : "6.1.0"));
  stop = true;
  reader.join();
  EXPECT_GT(reads.load(), 100);
  EXPECT_EQ(torn.load(), 0);
}

}  // namespace
