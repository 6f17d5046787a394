#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/memlock_limit.h"
#include "base/result.h"
#include "launcher/engine_plan.h"

namespace anyscan {

// What this process really holds (effective set), read with libcap-ng.
HeldCapabilities held_capabilities();

// Keeps exactly `keep` in the effective, permitted, inheritable and ambient sets (ambient
// so they survive exec into a binary without file capabilities) and drops the rest.
// The bounding set is lowered too when CAP_SETPCAP is held (then SETPCAP goes as well);
// otherwise the unit's CapabilityBoundingSet= and NoNewPrivileges= keep dropped ones out.
// *how says which happened, for the log.
Result<void> drop_capabilities(const std::vector<int>& keep, bool have_setpcap, std::string* how);

}  // namespace anyscan
