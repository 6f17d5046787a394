// The bench's meter: runs a sender in the scanner namespace and watches the target veth's
// rx_packets counter (frames that reached the target; it counts before the XDP_DROP
// program) every 0.5 ms, which a shell loop forking date and cat cannot do on two cores.
// Prints one line:
//   first_frame_ms F pps P frames N cpu_s C rss_kib R exit E
// F: from just before exec to the first frame (start-up); P: frames over the time from the
// first to the last change of the counter (the sending rate, start-up and exit excluded);
// C and R: the sender's user+system CPU seconds and peak RSS (wait4).
// Run in the target namespace: ip netns exec TARGET_NS measure SCANNER_NS TARGET_IF CMD...
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

namespace {

double now_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long long read_counter(int fd) {
  char text[32];
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return -1;
  text[n] = 0;
  return std::atoll(text);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: measure SCANNER_NS TARGET_IF COMMAND [ARGS...]\n");
    return 64;
  }
  const std::string counter = std::string("/sys/class/net/") + argv[2] + "/statistics/rx_packets";
  const int fd = ::open(counter.c_str(), O_RDONLY | O_CLOEXEC);
  const int ns = ::open((std::string("/run/netns/") + argv[1]).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ns < 0) {
    std::perror("measure: counter or namespace");
    return 69;
  }
  const long long before = read_counter(fd);
  const double start = now_s();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setns(ns, CLONE_NEWNET) != 0) ::_exit(120);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::execvp(argv[3], argv + 3);
    ::_exit(127);
  }
  long long last = before;
  double first_change = -1, last_change = -1;
  long long at_first = before;
  int status = 0;
  rusage usage{};
  const timespec pause{0, 500000};
  while (true) {
    const pid_t done = ::wait4(pid, &status, WNOHANG, &usage);
    const long long now = read_counter(fd);
    const double t = now_s();
    if (now != last) {
      if (first_change < 0) {
        first_change = t;
        at_first = last;  // frames counted from the first change on
      }
      last_change = t;
      last = now;
    }
    if (done == pid) break;
    ::nanosleep(&pause, nullptr);
  }
  // Frames still in flight when the sender exits (a ring being drained) arrive just after.
  for (int i = 0; i < 40; ++i) {
    ::nanosleep(&pause, nullptr);
    const long long now = read_counter(fd);
    if (now != last) {
      last = now;
      last_change = now_s();
    }
  }
  const long long frames = last - before;
  const double span = last_change - first_change;
  const double pps = span > 0 ? static_cast<double>(last - at_first) / span : 0;
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  std::printf("first_frame_ms %.1f pps %.0f frames %lld cpu_s %.3f rss_kib %ld exit %d\n",
              first_change < 0 ? -1.0 : (first_change - start) * 1e3, pps, frames, cpu,
              usage.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}
