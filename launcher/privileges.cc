#include "launcher/privileges.h"

#include <cap-ng.h>
#include <sys/prctl.h>

#include <cerrno>

namespace anyscan {

HeldCapabilities held_capabilities() {
  HeldCapabilities held;
  capng_clear(CAPNG_SELECT_ALL);
  if (capng_get_caps_process() != 0) return held;
  held.net_raw = capng_have_capability(CAPNG_EFFECTIVE, kCapNetRaw);
  held.net_admin = capng_have_capability(CAPNG_EFFECTIVE, kCapNetAdmin);
  held.bpf = capng_have_capability(CAPNG_EFFECTIVE, kCapBpf);
  held.ipc_lock = capng_have_capability(CAPNG_EFFECTIVE, kCapIpcLock);
  held.setpcap = capng_have_capability(CAPNG_EFFECTIVE, kCapSetpcap);
  return held;
}

Result<void> drop_capabilities(const std::vector<int>& keep, bool have_setpcap, std::string* how) {
  capng_clear(CAPNG_SELECT_ALL);
  if (capng_get_caps_process() != 0)
    return make_error(ExitCode::kSoftware, "reading own capabilities failed");
  // Start from nothing in the process sets; the bounding set is rebuilt only if we can.
  capng_clear(CAPNG_SELECT_CAPS);
  capng_clear(CAPNG_SELECT_AMBIENT);
  if (have_setpcap) capng_clear(CAPNG_SELECT_BOUNDS);
  for (int cap : keep) {
    const capng_type_t sets =
        static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE |
                                  (have_setpcap ? CAPNG_BOUNDING_SET : 0));
    if (capng_update(CAPNG_ADD, sets, static_cast<unsigned>(cap)) != 0 ||
        capng_update(CAPNG_ADD, CAPNG_AMBIENT, static_cast<unsigned>(cap)) != 0)
      return make_error(ExitCode::kSoftware, "capng_update " + capability_name(cap) + " failed");
  }
  if (have_setpcap) {
    // Bounding set first (needs SETPCAP, which the CAPS step then drops).
    if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
      return make_error(ExitCode::kNoPerm, errno_message("lowering the bounding set", errno));
  }
  if (capng_apply(CAPNG_SELECT_CAPS) != 0)
    return make_error(ExitCode::kNoPerm, errno_message("dropping capabilities", errno));
  if (capng_apply(CAPNG_SELECT_AMBIENT) != 0)
    return make_error(ExitCode::kNoPerm, errno_message("setting ambient capabilities", errno));
  if (how) {
    *how = have_setpcap ? "bounding set lowered with CAP_SETPCAP (then dropped)"
                        : "bounding set left to the unit (no CAP_SETPCAP): CapabilityBoundingSet= "
                          "and NoNewPrivileges= "
                          "keep dropped capabilities out";
  }
  return {};
}

}  // namespace anyscan
