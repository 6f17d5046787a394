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

Result<void> switch_user(const ScanUser& user) {
  if (::setgroups(0, nullptr) != 0)
    return make_error(ExitCode::kNoPerm, errno_message("dropping supplementary groups", errno));
  if (::setresgid(user.gid, user.gid, user.gid) != 0)
    return make_error(ExitCode::kNoPerm,
                      errno_message("switching to group " + std::to_string(user.gid), errno));
  if (::setresuid(user.uid, user.uid, user.uid) != 0)
    return make_error(ExitCode::kNoPerm, errno_message("switching to user " + user.name, errno));
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
