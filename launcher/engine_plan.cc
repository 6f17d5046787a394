#include "launcher/engine_plan.h"

#include <optional>

#include "base/either.h"
#include "base/xdp_features.h"
#include "engine/engine_kind.h"

namespace anyscan {

std::string capability_name(int capability) {
  switch (capability) {
    case kCapIpcLock:
      return "CAP_IPC_LOCK";
    case kCapNetAdmin:
      return "CAP_NET_ADMIN";
    case kCapNetRaw:
      return "CAP_NET_RAW";
    case kCapSetpcap:
      return "CAP_SETPCAP";
    case kCapBpf:
      return "CAP_BPF";
  }
  return "CAP_" + std::to_string(capability);
}

namespace {

// What the NIC lacks that the job forces (the reason's middle), or nullopt with *note set to
// what it offers (or why that is unknown).
std::optional<std::string> nic_lacks(const NicInput& nic, std::string* note) {
  if (!nic.known) {
    if (!nic.problem.empty()) *note = "; " + nic.problem;
    return std::nullopt;
  }
  const std::string offered = nic.interface + " offers XDP " + xdp_feature_names(nic.features) +
                              " (its driver's word, netdev netlink)";
  std::string lacking;
  if (nic.zerocopy == "force" && (nic.features & kXdpXskZerocopy) == 0) {
    lacking = "xsk-zerocopy, which ANYSCAN_XDP_ZEROCOPY=force needs";
  } else if (nic.xdp_mode == "native" && (nic.features & kXdpNativeAfXdp) != kXdpNativeAfXdp) {
    lacking = std::string((nic.features & kXdpBasic) == 0 ? "basic" : "redirect") +
              ", which ANYSCAN_XDP_MODE=native needs";
  }
  if (!lacking.empty()) return nic.interface + " lacks the XDP feature " + lacking + "; " + offered;
  const bool native = (nic.features & kXdpNativeAfXdp) == kXdpNativeAfXdp;
  *note = "; " + offered +
          (!native ? ": no native XDP, the scanner attaches in skb mode"
           : (nic.features & kXdpXskZerocopy) == 0 ? ": native, copy mode (no zero-copy)"
                                                   : "");
  return std::nullopt;
}

}  // namespace

EnginePlan plan_engine(const EnginePlanInput& in) {
  EnginePlan plan;
  const std::string af_packet(engine_name(EngineKind::kAfPacket)),
      af_xdp(engine_name(EngineKind::kAfXdp));
  std::string requested = in.requested.empty() ? "auto" : in.requested;
  if (requested != "auto" && !engine_kind(requested)) {
    std::vector<std::string_view> choices = engine_names();
    choices.insert(choices.begin(), "auto");
    plan.warnings.push_back("ANYSCAN_SCANNER_IO_ENGINE='" + in.requested.substr(0, 40) +
                            "' is not " + either(choices) + ": using auto");
    requested = "auto";
  }
  if (!in.held.net_raw) {
    plan.exit = ExitCode::kNoPerm;
    plan.reason =
        "missing CAP_NET_RAW, which every scan needs: run as root, or give the service "
        "AmbientCapabilities=CAP_NET_RAW (by hand: setpriv --inh-caps +net_raw --ambient-caps "
        "+net_raw)";
    return plan;
  }
  plan.engine = af_packet;
  plan.keep = {kCapNetRaw};
  if (requested == af_packet) {
    plan.reason = af_packet + " requested by ANYSCAN_SCANNER_IO_ENGINE";
    return plan;
  }
  const std::string fallback = requested == af_xdp ? af_xdp + " requested but " : "auto: ";
  switch (in.verdict.source) {
    case VerdictInput::Source::kMissing:
      plan.reason = fallback + "no AF_XDP verdict (" + in.verdict.reason +
                    "; run anyscan-probe): using af_packet";
      return plan;
    case VerdictInput::Source::kUnreadable:
      plan.reason =
          fallback + "AF_XDP verdict unusable (" + in.verdict.reason + "): using af_packet";
      return plan;
    case VerdictInput::Source::kRuntimeEnv:
    case VerdictInput::Source::kReprobed:
      break;
  }
  if (!in.verdict.available) {
    plan.reason =
        fallback + "AF_XDP not available on this host (" + in.verdict.reason + "): using af_packet";
    return plan;
  }
  std::string missing;
  if (!in.held.net_admin) missing += " CAP_NET_ADMIN";
  if (!in.held.bpf) missing += " CAP_BPF";
  if (!missing.empty()) {
    plan.reason = fallback + "AF_XDP needs CAP_NET_ADMIN and CAP_BPF, missing:" + missing +
                  ": using af_packet";
    return plan;
  }
  if (!in.held.ipc_lock && in.memlock_bytes < kMinUsefulUmemBytes) {
    plan.reason = fallback + "no CAP_IPC_LOCK and RLIMIT_MEMLOCK " +
                  std::to_string(in.memlock_bytes / 1024) +
                  " KiB is below the 4096 KiB a useful UMEM needs: using af_packet";
    return plan;
  }
  // The NIC's own word: what the job forces of AF_XDP that the driver says it cannot do is
  // not tried (the scanner would fail with 69 after a bind that cannot work).
  std::string nic_note;
  if (auto lacking = nic_lacks(in.nic, &nic_note)) {
    plan.reason = fallback + *lacking + ": using af_packet";
    return plan;
  }
  plan.engine = af_xdp;
  plan.keep = {kCapNetRaw, kCapNetAdmin, kCapBpf};
  if (in.held.ipc_lock) plan.keep.push_back(kCapIpcLock);
  plan.reason =
      (requested == af_xdp ? af_xdp + " requested" : std::string("auto")) + ": AF_XDP available (" +
      in.verdict.reason + ")" +
      (in.verdict.source == VerdictInput::Source::kReprobed ? " [re-probed]" : "") +
      " and CAP_NET_RAW, CAP_NET_ADMIN, CAP_BPF held" +
      (in.held.ipc_lock ? ", CAP_IPC_LOCK held (UMEM not charged to RLIMIT_MEMLOCK)" : "") +
      nic_note;
  return plan;
}

}  // namespace anyscan
