#include "host/syscall_filter.h"

#include <linux/sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

namespace anyscan {
namespace {

// Allowed whatever their arguments.
constexpr std::string_view kPlainCalls[] = {
    // descriptors setup opened: outputs, sockets, rings, the checkpoint
    "read", "readv", "pread64", "write", "writev", "pwrite64", "lseek", "close", "fstat",
    "newfstatat", "fcntl", "fsync", "fdatasync", "ftruncate", "flock",
    // packet I/O and counters (XDP_STATISTICS, PACKET_STATISTICS), netlink link queries,
    // journal and service-manager datagrams, all on sockets opened during setup
    "sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg", "getsockopt", "poll",
    "ppoll",
    // waiting and time
    "futex", "clock_gettime", "clock_getres", "gettimeofday", "clock_nanosleep", "nanosleep",
    "sched_yield", "getrusage",
    // signals: SIGINT/SIGTERM taken synchronously; glibc sets up its own signal at the first
    // thread start; abort() on a broken invariant
    "rt_sigprocmask", "rt_sigtimedwait", "rt_sigreturn", "rt_sigaction", "sigaltstack",
    "restart_syscall", "getpid", "gettid", "tgkill",
    // memory (mmap and mprotect below: never executable)
    "munmap", "madvise", "brk", "mremap",
    // thread start and end (clone below: threads only)
    "set_robust_list", "rseq", "exit", "exit_group", "sched_getaffinity", "sched_setaffinity",
    "getrandom"};

// SCMP_A0() and friends are C compound literals; this is the same comparison in C++.
scmp_arg_cmp argument(unsigned index, scmp_compare op, uint64_t a, uint64_t b = 0) {
  return scmp_arg_cmp{index, op, a, b};
}

Result<void> add(scmp_filter_ctx filter, const char* name, int action,
                 const std::vector<scmp_arg_cmp>& args, size_t* count) {
  const int number = seccomp_syscall_resolve_name(name);
  if (number == __NR_SCMP_ERROR) return {};  // not a call of this architecture
  const int rc = seccomp_rule_add_array(filter, static_cast<uint32_t>(action), number,
                                        static_cast<unsigned>(args.size()), args.data());
  if (rc != 0)
    return make_error(ExitCode::kSoftware,
                      errno_message(std::string("seccomp rule for ") + name, -rc));
  if (action == SCMP_ACT_ALLOW) ++*count;
  return {};
}

}  // namespace

const std::vector<std::string_view>& scan_syscall_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> all(std::begin(kPlainCalls), std::end(kPlainCalls));
    for (std::string_view conditional : {"mmap", "mprotect", "clone", "prctl"})
      all.push_back(conditional);
    return all;
  }();
  return names;
}

void ScanSyscallFilter::Release::operator()(void* filter) const { seccomp_release(filter); }

Result<ScanSyscallFilter> ScanSyscallFilter::build() {
  ScanSyscallFilter built;
  built.filter_.reset(seccomp_init(SCMP_ACT_ERRNO(EPERM)));
  if (!built.filter_) return make_error(ExitCode::kSoftware, "seccomp_init failed");
  scmp_filter_ctx ctx = built.filter_.get();
  // Thread synchronisation needs the seccomp(2) call, which an outer filter may refuse
  // (systemd's @system-service does not list it); libseccomp then loads through prctl(2).
  // The scan loads its filter before it starts any thread, and every thread started later
  // inherits it, so without TSYNC nothing is left out; receivers check it either way.
  built.synchronised_ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) == 0;
  size_t& count = built.allowed_;
  for (std::string_view name : kPlainCalls)
    if (auto added = add(ctx, std::string(name).c_str(), SCMP_ACT_ALLOW, {}, &count); !added)
      return tl::unexpected(added.error());
  const std::pair<const char*, std::vector<scmp_arg_cmp>> conditional[] = {
      // No executable memory: what a parser bug could write can never run.
      {"mmap", {argument(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}},
      {"mprotect", {argument(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}},
      // Threads of this process, never a new process.
      {"clone", {argument(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)}},
      // Naming threads (anyscan-send0, ...), nothing else prctl can do.
      {"prctl", {argument(0, SCMP_CMP_EQ, PR_SET_NAME)}},
  };
  for (const auto& [name, args] : conditional)
    if (auto added = add(ctx, name, SCMP_ACT_ALLOW, args, &count); !added)
      return tl::unexpected(added.error());
  // clone3 passes its flags in memory the filter cannot read: ENOSYS makes glibc use clone.
  if (auto added = add(ctx, "clone3", SCMP_ACT_ERRNO(ENOSYS), {}, &count); !added)
    return tl::unexpected(added.error());
  return built;
}

Result<ScanSyscallFilter> ScanSyscallFilter::build_for_tcp_client() {
  auto built = build();
  if (!built) return built;
  scmp_filter_ctx ctx = built->filter_.get();
  size_t& count = built->allowed_;
  for (const char* name : {"bind", "connect", "setsockopt", "shutdown", "getsockname",
                           "getpeername", "epoll_ctl", "epoll_wait", "epoll_pwait"})
    if (auto added = add(ctx, name, SCMP_ACT_ALLOW, {}, &count); !added)
      return tl::unexpected(added.error());
  for (int domain : {AF_INET, AF_INET6})
    if (auto added = add(ctx, "socket", SCMP_ACT_ALLOW,
                         {argument(0, SCMP_CMP_EQ, static_cast<uint64_t>(domain)),
                          argument(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM)},
                         &count);
        !added)
      return tl::unexpected(added.error());
  --count;  // socket counted once
  return built;
}

Result<void> ScanSyscallFilter::load() {
  if (int rc = seccomp_load(filter_.get()); rc != 0)
    return make_error(ExitCode::kUnavailable, errno_message("loading the seccomp filter", -rc));
  return {};
}

bool scan_syscall_filter_active() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    ::close(fd);
    return false;
  }
  return errno == EPERM;
}

}  // namespace anyscan
