// The scan's system-call filter, loaded in a child process: what a running scan needs still
// works (threads, memory, I/O on open descriptors, clocks), and what an attacker who took
// over a parser would want next is refused: new sockets, files, processes, programs,
// executable memory, ptrace, ioctls.
#include "host/syscall_filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstddef>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "support/test_shell.h"

namespace anyscan {
namespace {

// Runs `checks` in a forked child under the filter; returns what failed ("" = all held).
template <class Checks>
std::string under_filter(Checks checks) {
  return testing_support::in_child([&] {
    auto filter = ScanSyscallFilter::build();
    if (!filter || !filter->load()) return std::string("the filter did not load");
    return checks();
  });
}

// "name: got X" unless `result` failed with `expected`.
std::string refused(const char* name, long result, int expected = EPERM) {
  if (result == -1 && errno == expected) return "";
  return std::string(name) + ": returned " + std::to_string(result) + " errno " +
         std::strerror(errno) + "; ";
}

TEST(ScanSyscallFilter, RefusesWhatAScanNeverDoes) {
  const std::string failures = under_filter([] {
    std::string f;
    f += refused("socket", ::socket(AF_INET, SOCK_DGRAM, 0));
    f += refused("socket(AF_PACKET)", ::socket(AF_PACKET, SOCK_RAW, 0));
    f += refused("open", ::open("/etc/hostname", O_RDONLY));
    f +=
        refused("openat", ::openat(AT_FDCWD, "/tmp/anyscan-filter-test", O_CREAT | O_WRONLY, 0600));
    f += refused("execve", ::execl("/bin/true", "true", nullptr));
    f += refused("fork", ::fork());
    f += refused("clone3", ::syscall(SYS_clone3, nullptr, 0), ENOSYS);
    f += refused("ptrace", ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr));
    f += refused("ioctl", ::ioctl(0, FIONREAD, nullptr));
    f += refused("prctl(PR_SET_DUMPABLE)", ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
    f += refused("setuid", ::syscall(SYS_setuid, 0));
    f += refused("bpf", ::syscall(SYS_bpf, 0, nullptr, 0));
    f += refused("connect", ::connect(1, nullptr, 0));
    void* exec = ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    f += refused("mmap(PROT_EXEC)", exec == MAP_FAILED ? -1 : 0);
    void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
      f += "mmap(PROT_READ|PROT_WRITE) refused; ";
    else
      f += refused("mprotect(PROT_EXEC)", ::mprotect(page, 4096, PROT_READ | PROT_EXEC));
    return f;
  });
  EXPECT_EQ(failures, "");
}

TEST(ScanSyscallFilter, AllowsWhatAScanDoesAndHoldsInEveryThread) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, fds), 0);
  const std::string failures = under_filter([&] {
    std::string f;
    if (!scan_syscall_filter_active()) f += "scan_syscall_filter_active() is false; ";
    // A thread started after the filter is under it too, and can name itself.
    bool thread_filtered = false;
    std::thread([&] {
      ::pthread_setname_np(::pthread_self(), "anyscan-recv0");
      thread_filtered = scan_syscall_filter_active();
    }).join();
    if (!thread_filtered) f += "a new thread is not under the filter; ";
    if (::send(fds[0], "x", 1, 0) != 1) f += "send on an open socket refused; ";
    char c;
    if (::recv(fds[1], &c, 1, 0) != 1) f += "recv on an open socket refused; ";
    if (::write(STDERR_FILENO, "", 0) != 0) f += "write refused; ";
    timespec now{};
    if (::syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now) != 0) f += "clock_gettime refused; ";
    void* big = ::malloc(64 << 20);  // mmap'ed by malloc
    if (big == nullptr) f += "a 64 MiB malloc failed; ";
    ::free(big);
    return f;
  });
  EXPECT_EQ(failures, "");
  ::close(fds[0]);
  ::close(fds[1]);
}

// Under an outer filter that refuses seccomp(2), as systemd's @system-service does, the
// filter cannot be synchronised over threads but still loads (through prctl) and holds.
TEST(ScanSyscallFilter, LoadsUnderAnOuterFilterThatRefusesSeccomp) {
  EXPECT_EQ(testing_support::in_child([] {
              std::string f;
              // The outer filter in classic BPF through prctl, as systemd installs it before
              // exec: so libseccomp, used first after it, finds seccomp(2) refused, as the
              // scanner does.
              sock_filter code[] = {
                  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
                  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_seccomp, 0, 1),
                  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
                  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
              };
              sock_fprog program{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
              if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
                  ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
                f += "the outer filter did not load; ";
              auto filter = ScanSyscallFilter::build();
              if (!filter) f += "build: " + filter.error().message + "; ";
              if (filter && filter->synchronised())
                f += "synchronised although seccomp(2) is refused; ";
              if (filter && !filter->load()) f += "load failed; ";
              if (!scan_syscall_filter_active()) f += "not active; ";
              return f;
            }),
            "");
}

TEST(ScanSyscallFilter, IsNotActiveWithoutLoading) { EXPECT_FALSE(scan_syscall_filter_active()); }

}  // namespace
}  // namespace anyscan
