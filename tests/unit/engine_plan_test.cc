#include "launcher/engine_plan.h"

#include <gtest/gtest.h>

namespace anyscan {
namespace {

HeldCapabilities caps(bool raw, bool admin, bool bpf, bool ipc = false) {
  return {raw, admin, bpf, ipc, false};
}
VerdictInput verdict(bool available) {
  return {VerdictInput::Source::kRuntimeEnv, available,
          available ? "ok" : "kernel 5.4 is older than 5.10"};
}

TEST(EnginePlan, NoNetRawMeansExit77WithAFix) {
  for (const char* engine : {"auto", "af_packet", "af_xdp", "bogus"}) {
    const EnginePlan plan =
        plan_engine({engine, verdict(true), caps(false, true, true), UINT64_MAX, {}});
    EXPECT_EQ(plan.exit, ExitCode::kNoPerm);
    EXPECT_NE(plan.reason.find("AmbientCapabilities=CAP_NET_RAW"), std::string::npos);
  }
}

TEST(EnginePlan, AfXdpOnlyWithRequestVerdictAndCapabilities) {
  struct Case {
    const char* requested;
    VerdictInput verdict;
    HeldCapabilities held;
    uint64_t memlock;
    const char* engine;
    const char* reason_part;
  };
  const VerdictInput missing{VerdictInput::Source::kMissing, false,
                             "/etc/anyscan/runtime.env does not exist"};
  const VerdictInput garbage{VerdictInput::Source::kUnreadable, false,
                             "ANYSCAN_AF_XDP_AVAILABLE='maybe' is neither true nor false"};
  const VerdictInput reprobed{VerdictInput::Source::kReprobed, true, "kernel 6.1 ok"};
  const Case cases[] = {
      {"auto", verdict(true), caps(true, true, true), UINT64_MAX, "af_xdp", "AF_XDP available"},
      {"", verdict(true), caps(true, true, true), UINT64_MAX, "af_xdp", "auto: AF_XDP available"},
      {"af_xdp", verdict(true), caps(true, true, true, true), 0, "af_xdp", "CAP_IPC_LOCK held"},
      {"auto", reprobed, caps(true, true, true), UINT64_MAX, "af_xdp", "[re-probed]"},
      {"af_packet", verdict(true), caps(true, true, true), UINT64_MAX, "af_packet",
       "af_packet requested"},
      {"auto", verdict(false), caps(true, true, true), UINT64_MAX, "af_packet",
       "not available on this host (kernel 5.4"},
      {"af_xdp", verdict(false), caps(true, true, true), UINT64_MAX, "af_packet",
       "af_xdp requested but AF_XDP not available"},
      {"auto", missing, caps(true, true, true), UINT64_MAX, "af_packet", "no AF_XDP verdict"},
      {"auto", garbage, caps(true, true, true), UINT64_MAX, "af_packet", "verdict unusable"},
      {"auto", verdict(true), caps(true, false, true), UINT64_MAX, "af_packet",
       "missing: CAP_NET_ADMIN"},
      {"auto", verdict(true), caps(true, true, false), UINT64_MAX, "af_packet", "missing: CAP_BPF"},
      {"auto", verdict(true), caps(true, false, false), UINT64_MAX, "af_packet",
       "missing: CAP_NET_ADMIN CAP_BPF"},
      {"auto", verdict(true), caps(true, true, true), 8 << 10, "af_packet", "RLIMIT_MEMLOCK 8 KiB"},
      {"auto", verdict(true), caps(true, true, true), 8 << 20, "af_xdp", "AF_XDP available"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.requested) + " -> " + c.engine + " / " + c.reason_part);
    const EnginePlan plan = plan_engine({c.requested, c.verdict, c.held, c.memlock, {}});
    EXPECT_EQ(plan.exit, ExitCode::kOk);
    EXPECT_EQ(plan.engine, c.engine);
    EXPECT_NE(plan.reason.find(c.reason_part), std::string::npos) << plan.reason;
    if (std::string(c.engine) == "af_packet") {
      EXPECT_EQ(plan.keep, std::vector<int>{kCapNetRaw});
    }
  }
}

TEST(EnginePlan, BogusRequestWarnsAndActsAsAuto) {
  const EnginePlan plan =
      plan_engine({"dpdk", verdict(true), caps(true, true, true), UINT64_MAX, {}});
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_EQ(plan.warnings[0],
            "ANYSCAN_SCANNER_IO_ENGINE='dpdk' is not auto, af_packet or af_xdp: using auto");
  EXPECT_EQ(plan.engine, "af_xdp");
}

TEST(EnginePlan, AfXdpKeepsExactlyItsCapabilities) {
  EXPECT_EQ(plan_engine({"auto", verdict(true), caps(true, true, true), UINT64_MAX, {}}).keep,
            (std::vector<int>{kCapNetRaw, kCapNetAdmin, kCapBpf}));
  EXPECT_EQ(plan_engine({"auto", verdict(true), caps(true, true, true, true), UINT64_MAX, {}}).keep,
            (std::vector<int>{kCapNetRaw, kCapNetAdmin, kCapBpf, kCapIpcLock}));
}

}  // namespace
}  // namespace anyscan
