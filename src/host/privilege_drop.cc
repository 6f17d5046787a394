#include "host/privilege_drop.h"

#include <cap-ng.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace anyscan {

Result<std::optional<ScanUser>> scan_user_for(const std::string& name) {
  if (::geteuid() != 0) return std::optional<ScanUser>();
  passwd entry{}, *found = nullptr;
  std::vector<char> buffer(16384);
  const int error = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found == nullptr)
    return make_error(ExitCode::kNoUser,
                      error != 0 ? errno_message("--user " + name, error)
                                 : "--user " + name +
                                       ": no such user (the account a scan started as root runs "
                                       "as once its sockets and files are open)");
  return std::optional<ScanUser>(ScanUser{name, found->pw_uid, found->pw_gid});
}

namespace {

// Whether the process already is `user` through and through: its ids, and no supplementary
// group other than its own. Then there is nothing to switch, and nothing needs CAP_SETUID or
// CAP_SETGID (a container granted only the engine's capabilities, run with --user root).
bool already(const ScanUser& user) {
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0) return false;
  if (ruid != user.uid || euid != user.uid || suid != user.uid || rgid != user.gid ||
      egid != user.gid || sgid != user.gid)
    return false;
  gid_t groups[64];
  const int count = ::getgroups(64, groups);
  if (count < 0) return false;
  for (int i = 0; i < count; ++i)
    if (groups[i] != user.gid) return false;
  return true;
}

Result<void> switch_user(const ScanUser& user) {
  if (already(user)) return {};
  // Root without CAP_SETUID/CAP_SETGID: a container granted only the engine's capabilities.
  auto failed = [&user](const std::string& what) {
    const int error = errno;
    return make_error(ExitCode::kNoPerm,
                      errno_message(what, error) +
                          (error == EPERM ? " (running as " + user.name +
                                                " needs CAP_SETUID and CAP_SETGID; a container "
                                                "without them: --user root keeps uid 0 and "
                                                "drops every capability)"
                                          : ""));
  };
  if (::setgroups(0, nullptr) != 0) return failed("dropping supplementary groups");
  if (::setresgid(user.gid, user.gid, user.gid) != 0)
    return failed("switching to group " + std::to_string(user.gid));
  if (::setresuid(user.uid, user.uid, user.uid) != 0)
    return failed("switching to user " + user.name);
  return {};
}

}  // namespace

Result<PrivilegeDrop> drop_privileges(const std::optional<ScanUser>& user) {
  PrivilegeDrop done;
  capng_clear(CAPNG_SELECT_ALL);
  if (capng_get_caps_process() != 0)
    return make_error(ExitCode::kSoftware, "reading own capabilities failed");
  if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP)) {
    capng_clear(CAPNG_SELECT_BOUNDS);
    if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
      return make_error(ExitCode::kNoPerm, errno_message("clearing the bounding set", errno));
    done.bounding_set_cleared = true;
  }
  if (user) {
    if (auto switched = switch_user(*user); !switched) return tl::unexpected(switched.error());
    done.user = user;
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
    return make_error(ExitCode::kNoPerm, errno_message("clearing ambient capabilities", errno));
  capng_clear(CAPNG_SELECT_CAPS);
  if (capng_apply(CAPNG_SELECT_CAPS) != 0)
    return make_error(ExitCode::kNoPerm, errno_message("clearing capabilities", errno));
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return make_error(ExitCode::kNoPerm, errno_message("setting no_new_privs", errno));
  // Checked, not assumed: read back what the kernel holds now.
  capng_clear(CAPNG_SELECT_ALL);
  if (capng_get_caps_process() != 0 || capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE ||
      capng_have_permitted_capabilities() != CAPNG_NONE ||
      capng_have_capabilities(CAPNG_SELECT_AMBIENT) != CAPNG_NONE)
    return make_error(ExitCode::kNoPerm, "capabilities are still held after dropping them");
  return done;
}

}  // namespace anyscan
