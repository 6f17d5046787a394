#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/result.h"

namespace anyscan {

// The account a scan started as root continues as once setup is over (--user).
struct ScanUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// As root (effective uid 0): the account NAME names (kNoUser when there is none). Anyone
// else already runs as the user it should (the service's `anyscan`): nullopt.
Result<std::optional<ScanUser>> scan_user_for(const std::string& name);

// What drop_privileges did, for the log and the metadata.
struct PrivilegeDrop {
  bool bounding_set_cleared = false;  // needs CAP_SETPCAP; else the unit's bound stays
  std::optional<ScanUser> user;       // switched to (a root start)
};

// The end of setup: with libcap-ng, lowers the bounding set (when CAP_SETPCAP allows),
// switches to `user` (supplementary groups dropped, then gid, then uid, each real, effective
// and saved), clears the effective, permitted, inheritable and ambient sets, sets
// PR_SET_NO_NEW_PRIVS, and reads the sets back: any capability left is kNoPerm. Capabilities
// and ids are per thread to the kernel, so this runs before the scan starts any thread.
Result<PrivilegeDrop> drop_privileges(const std::optional<ScanUser>& user);

}  // namespace anyscan
