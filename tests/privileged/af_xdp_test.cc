// AF_XDP specifics on a test-made veth pair: host traffic keeps flowing during a scan,
// kill -9 leaves no XDP program behind, exactly three capabilities suffice, the bind ladder,
// and both engines agree.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "support/netns_fixture.h"
#include "support/scan_expectations.h"
#include "support/test_shell.h"

namespace anyscan::testing_support {
namespace {

class AfXdp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    pair_ = std::make_unique<NetnsPair>(4);
    ASSERT_TRUE(pair_->ok()) << pair_->error();
    dir_ = ::testing::TempDir() + "anyscan-xdp-" + std::to_string(::getpid());
    ASSERT_EQ(std::system(("mkdir -p '" + dir_ + "' && chmod 777 '" + dir_ + "'").c_str()), 0);
    pair_->listen_on({{"198.18.0.2", {22, 443}}, {"198.18.0.4", {80}}});
  }

  std::vector<std::string> args(const std::string& engine, const std::vector<std::string>& extra) {
    std::vector<std::string> a = pair_->scanner_argv(engine);
    a.insert(a.end(), {"-o", dir_ + "/results.csv", "-m", dir_ + "/meta.json", "-f",
                       "saddr,sport,classification", "-q"});
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  ProcessResult run(const std::vector<std::string>& argv, int timeout_s = 60) {
    return wait_for(pair_->spawn_in_scanner(argv, dir_ + "/out", dir_ + "/err"), timeout_s,
                    dir_ + "/out", dir_ + "/err");
  }

  bool xdp_attached() {
    return shell_output("ip -n " + pair_->scanner_ns() + " -d link show dev " + pair_->scanner_if())
               .find("prog/xdp") != std::string::npos;
  }

  std::unique_ptr<NetnsPair> pair_;
  std::string dir_;
};

TEST_F(AfXdp, SameSeedSameResultsOnBothEngines) {
  std::set<std::string> results[2];
  int i = 0;
  for (const char* engine : {"af_packet", "af_xdp"}) {
    ProcessResult r = run(args(engine, {"-e", "99", "-p", "20-30,80,443", "-r", "3000", "-c", "1",
                                        "198.18.0.2-198.18.0.5"}));
    ASSERT_EQ(r.exit_code, 0) << engine << ": " << r.err;
    results[i++] = csv_rows(read_file(dir_ + "/results.csv"));
  }
  EXPECT_EQ(results[0].size(), 4u * 13);
  EXPECT_EQ(results[0], results[1]);
}

TEST_F(AfXdp, HostTrafficKeepsFlowingDuringAScan) {
  // A TCP echo server in the target namespace on a port no probe uses...
  UniqueFd server;
  NetnsPair::in_namespace(pair_->target_ns(), [&] {
    server.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int one = 1;
    ::setsockopt(server.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{AF_INET, htons(5555), {}, {}};
    ::inet_pton(AF_INET, "198.18.0.2", &sa.sin_addr);
    ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    ASSERT_EQ(::listen(server.get(), 4), 0);
  });
  std::thread echo([&] {
    UniqueFd c(::accept(server.get(), nullptr, nullptr));
    char buffer[64];
    ssize_t n;
    while ((n = ::recv(c.get(), buffer, sizeof buffer, 0)) > 0)
      ::send(c.get(), buffer, static_cast<size_t>(n), 0);
  });
  // ...and a client in the scanner namespace whose port (50000) is outside the scan's
  // source ports (40000-40999), connected before the XDP program is attached.
  UniqueFd client;
  NetnsPair::in_namespace(pair_->scanner_ns(), [&] {
    client.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in local{AF_INET, htons(50000), {}, {}};
    ::inet_pton(AF_INET, NetnsPair::kScannerIp, &local.sin_addr);
    ASSERT_EQ(::bind(client.get(), reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
    sockaddr_in peer{AF_INET, htons(5555), {}, {}};
    ::inet_pton(AF_INET, "198.18.0.2", &peer.sin_addr);
    ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&peer), sizeof peer), 0);
    timeval timeout{1, 0};
    ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  });
  const pid_t scanner = pair_->spawn_in_scanner(
      args("af_xdp",
           {"-s", "40000-40999", "-p", "1-200", "-r", "300", "-c", "1", "198.18.0.2-198.18.0.5"}),
      dir_ + "/out", dir_ + "/err");
  // Wait until the program is attached, then talk and ping while it scans.
  for (int i = 0; i < 100 && !xdp_attached(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(xdp_attached());
  const std::string ping_output = dir_ + "/ping";
  std::thread pinger([&] {
    std::system(("ip netns exec " + pair_->scanner_ns() + " ping -c 15 -i 0.1 -W 1 198.18.0.3 >" +
                 ping_output + " 2>&1")
                    .c_str());
  });
  int round_trips = 0;
  for (int i = 0; i < 30; ++i) {
    const std::string message = "hello " + std::to_string(i);
    ASSERT_EQ(::send(client.get(), message.data(), message.size(), 0),
              static_cast<ssize_t>(message.size()));
    char buffer[64] = {};
    const ssize_t n = ::recv(client.get(), buffer, sizeof buffer, 0);
    if (n == static_cast<ssize_t>(message.size()) &&
        message == std::string(buffer, static_cast<size_t>(n)))
      ++round_trips;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(xdp_attached()) << "the scan should still be running";
  pinger.join();
  EXPECT_EQ(round_trips, 30);
  EXPECT_NE(read_file(ping_output).find(" 0% packet loss"), std::string::npos)
      << read_file(ping_output);
  ProcessResult r = wait_for(scanner, 60, dir_ + "/out", dir_ + "/err");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(csv_rows(read_file(dir_ + "/results.csv")).size(), 4u * 200);
  client.reset();
  echo.join();
}

namespace {

// A socket of `type` in namespace `ns` bound to address:port (listening, for TCP servers).
UniqueFd bound_socket(const std::string& ns, int type, const char* address, uint16_t port,
                      bool listening) {
  UniqueFd fd;
  NetnsPair::in_namespace(ns, [&] {
    fd.reset(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{AF_INET, htons(port), {}, {}};
    ::inet_pton(AF_INET, address, &sa.sin_addr);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        (listening && ::listen(fd.get(), 4) != 0))
      fd.reset();
    timeval timeout{1, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  });
  return fd;
}

bool connect_to(int fd, const char* address, uint16_t port) {
  sockaddr_in peer{AF_INET, htons(port), {}, {}};
  ::inet_pton(AF_INET, address, &peer.sin_addr);
  return ::connect(fd, reinterpret_cast<sockaddr*>(&peer), sizeof peer) == 0;
}

// Echoes what arrives on a connected TCP socket, or each datagram on a UDP one, until the
// peer closes or a second passes without anything.
void echo(int fd, bool datagrams) {
  char buffer[256];
  while (true) {
    sockaddr_in from{};
    socklen_t length = sizeof from;
    const ssize_t n =
        ::recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
    if (n <= 0) return;
    if (datagrams)
      ::sendto(fd, buffer, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), length);
    else
      ::send(fd, buffer, static_cast<size_t>(n), 0);
  }
}

// Messages sent on `fd` that came back unchanged.
int round_trips(int fd, int count) {
  int ok = 0;
  for (int i = 0; i < count; ++i) {
    const std::string message = "ping " + std::to_string(i);
    if (::send(fd, message.data(), message.size(), 0) != static_cast<ssize_t>(message.size()))
      continue;
    char buffer[64] = {};
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0 && message == std::string(buffer, static_cast<size_t>(n))) ++ok;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ok;
}

}  // namespace

// The scan's source ports are the kernel's ephemeral ports too (32768-60999 by default):
// the host's own connections on them keep their packets while af_xdp scans, the program
// asking the kernel's socket tables before it takes a frame. Here, on ports inside -s and
// all opened while the program is attached: a TCP client of the host (its SYN-ACK must
// reach the kernel), a TCP server of the host (the SYN, then the connection), and a UDP
// socket (under a UDP scan); and the scan's results stay exact.
TEST_F(AfXdp, HostConnectionsOnTheScansOwnPortsKeepTheirPackets) {
  UniqueFd target_echo = bound_socket(pair_->target_ns(), SOCK_STREAM, "198.18.0.2", 5555, true);
  ASSERT_TRUE(target_echo.valid());
  std::thread target_side([&] {
    UniqueFd c(::accept(target_echo.get(), nullptr, nullptr));
    timeval timeout{3, 0};
    ::setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    echo(c.get(), false);
  });
  const pid_t scanner = pair_->spawn_in_scanner(
      args("af_xdp",
           {"-s", "40000-40999", "-p", "1-200", "-r", "200", "-c", "1", "198.18.0.2-198.18.0.5"}),
      dir_ + "/out", dir_ + "/err");
  for (int i = 0; i < 100 && !xdp_attached(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(xdp_attached());

  // The host as a client, from port 40500.
  UniqueFd client =
      bound_socket(pair_->scanner_ns(), SOCK_STREAM, NetnsPair::kScannerIp, 40500, false);
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(connect_to(client.get(), "198.18.0.2", 5555)) << std::strerror(errno);
  // The host as a server on port 40600.
  UniqueFd server =
      bound_socket(pair_->scanner_ns(), SOCK_STREAM, NetnsPair::kScannerIp, 40600, true);
  ASSERT_TRUE(server.valid());
  std::thread host_side([&] {
    UniqueFd c(::accept(server.get(), nullptr, nullptr));
    echo(c.get(), false);
  });
  UniqueFd remote = bound_socket(pair_->target_ns(), SOCK_STREAM, "198.18.0.3", 0, false);
  ASSERT_TRUE(connect_to(remote.get(), NetnsPair::kScannerIp, 40600)) << std::strerror(errno);

  EXPECT_EQ(round_trips(client.get(), 20), 20) << "the host's client on port 40500";
  EXPECT_EQ(round_trips(remote.get(), 20), 20) << "the host's server on port 40600";
  EXPECT_TRUE(xdp_attached()) << "the scan should still be running";
  client.reset();
  remote.reset();
  target_side.join();
  host_side.join();

  ProcessResult r = wait_for(scanner, 60, dir_ + "/out", dir_ + "/err");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(csv_rows(read_file(dir_ + "/results.csv")).size(), 4u * 200);
  std::string metadata = read_file(dir_ + "/meta.json");
  EXPECT_EQ(metadata_count(metadata, "validation_failed"), 0u) << metadata;
  // The host's segments to those ports went to the kernel, counted: the SYN-ACK, the SYN
  // and the handshake's ACK, and the 40 echoed messages (acknowledgements may ride on them).
  EXPECT_GE(metadata_count(metadata, "queue0.xdp_host_socket"), 43u) << metadata;

  // A UDP scan, and the host's UDP service on one of its source ports (40700).
  const pid_t udp_scanner =
      pair_->spawn_in_scanner(args("af_xdp", {"-M", "udp", "-s", "40000-40999", "-p", "1-200", "-r",
                                              "200", "-c", "1", "198.18.0.2-198.18.0.5"}),
                              dir_ + "/out", dir_ + "/err");
  for (int i = 0; i < 100 && !xdp_attached(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(xdp_attached());
  UniqueFd udp = bound_socket(pair_->scanner_ns(), SOCK_DGRAM, NetnsPair::kScannerIp, 40700, false);
  UniqueFd remote_udp = bound_socket(pair_->target_ns(), SOCK_DGRAM, "198.18.0.3", 0, false);
  ASSERT_TRUE(udp.valid() && remote_udp.valid());
  ASSERT_TRUE(connect_to(remote_udp.get(), NetnsPair::kScannerIp, 40700));
  std::thread udp_side([&] { echo(udp.get(), true); });
  EXPECT_EQ(round_trips(remote_udp.get(), 20), 20) << "the host's UDP socket on port 40700";
  EXPECT_TRUE(xdp_attached()) << "the scan should still be running";
  udp_side.join();
  r = wait_for(udp_scanner, 60, dir_ + "/out", dir_ + "/err");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  metadata = read_file(dir_ + "/meta.json");
  EXPECT_EQ(metadata_count(metadata, "validation_failed"), 0u) << metadata;
  EXPECT_EQ(metadata_count(metadata, "queue0.xdp_host_socket"), 20u) << metadata;
}

TEST_F(AfXdp, KillNineLeavesNoXdpProgramAndTrafficFlows) {
  const pid_t scanner = pair_->spawn_in_scanner(
      args("af_xdp", {"-p", "1-1000", "-r", "200", "198.18.0.2-198.18.0.5"}), dir_ + "/out",
      dir_ + "/err");
  for (int i = 0; i < 100 && !xdp_attached(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(xdp_attached());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(::kill(scanner, SIGKILL), 0);
  ProcessResult r = wait_for(scanner, 10, dir_ + "/out", dir_ + "/err");
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  // The bpf_link died with the process.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = !xdp_attached();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << shell_output("ip -n " + pair_->scanner_ns() + " -d link show dev " +
                                    pair_->scanner_if());
  EXPECT_EQ(std::system(("ip netns exec " + pair_->scanner_ns() +
                         " ping -c 3 -i 0.2 -W 1 198.18.0.2 >/dev/null")
                            .c_str()),
            0);
}

TEST_F(AfXdp, ExactlyThreeCapabilitiesSufficeAndWithoutCapBpfItExits69) {
  const std::string base = "-all,+net_raw,+net_admin";
  for (const bool with_bpf : {true, false}) {
    SCOPED_TRACE(with_bpf ? "NET_RAW+NET_ADMIN+BPF" : "NET_RAW+NET_ADMIN, no BPF");
    const std::string caps = base + (with_bpf ? ",+bpf" : "");
    std::vector<std::string> argv = {
        "/usr/bin/setpriv", "--reuid",    "nobody", "--regid",        "nogroup",
        "--clear-groups",   "--inh-caps", caps,     "--ambient-caps", caps,
        "--bounding-set",   caps};
    const auto scan =
        args("af_xdp", {"-p", "22,80,443", "-r", "2000", "-c", "1", "198.18.0.2-198.18.0.5"});
    argv.insert(argv.end(), scan.begin(), scan.end());
    ::unlink((dir_ + "/results.csv").c_str());  // root-owned files from earlier tests
    ::unlink((dir_ + "/meta.json").c_str());
    ProcessResult r = run(argv);
    if (with_bpf) {
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(csv_rows(read_file(dir_ + "/results.csv")).size(), 12u);
      // No CAP_IPC_LOCK here: the UMEM had to fit RLIMIT_MEMLOCK (8 MiB on these hosts).
      EXPECT_NE(r.err.find("bound 1 queue(s)"), std::string::npos) << r.err;
    } else {
      EXPECT_EQ(r.exit_code, 69) << r.err;
      EXPECT_NE(r.err.find("CAP_BPF"), std::string::npos) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
  }
}

TEST_F(AfXdp, NativeAndSkbModesBothScanExactly) {
  for (const char* mode : {"native", "skb"}) {
    SCOPED_TRACE(mode);
    ProcessResult r = run(args("af_xdp", {"--xdp-mode", mode, "-v", "3", "-p", "22,80,443", "-r",
                                          "2000", "-c", "1", "198.18.0.2-198.18.0.5"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(std::string("in ") + mode + ", copy mode"), std::string::npos) << r.err;
    const auto rows = csv_rows(read_file(dir_ + "/results.csv"));
    EXPECT_EQ(rows.size(), 12u);
    EXPECT_TRUE(rows.count("198.18.0.2,443,synack") && rows.count("198.18.0.4,80,synack") &&
                rows.count("198.18.0.3,22,rst"));
  }
}

// The NIC's own word (netdev netlink, kernel 6.3+), read by anyscan-probe and by an
// independent reader (tests/tools/netdev_xdp_features.py), as the veth driver gives it: basic,
// redirect, rx-sg; ndo-xmit and ndo-xmit-sg once its peer runs a native XDP program. The
// scanner then does not try a zero-copy bind the driver says it lacks (forced: exit 69
// naming the feature, before any bind; auto: native copy mode at once), and the launcher
// runs a job that forces zero-copy with af_packet, saying why.
TEST_F(AfXdp, TheNicsOwnWordDecidesWhatIsTried) {
  const std::string in_scanner = "ip netns exec " + pair_->scanner_ns() + " ";
  const std::string& nic = pair_->scanner_if();
  auto probe_says = [&] {
    const std::string out = shell_output(in_scanner + PROBE_BINARY + " --xdp-features");
    const size_t at = out.find(nic + " ");
    return at == std::string::npos ? out : out.substr(at, out.find('\n', at) - at);
  };
  auto kernel_says = [&] {
    const std::string out = shell_output(in_scanner + "python3 " ANYSCAN_SOURCE_DIR
                                                      "/tests/tools/netdev_xdp_features.py");
    const size_t at = out.find(nic + " ");
    return at == std::string::npos
               ? out
               : out.substr(at + nic.size() + 1, out.find('\n', at) - at - nic.size() - 1);
  };
  const std::string alone = probe_says();
  if (alone.find("no netdev netlink family") != std::string::npos)
    GTEST_SKIP() << "the kernel has no netdev netlink family (before 6.3): " << alone;
  EXPECT_NE(alone.find("xdp-features basic,redirect,rx-sg "), std::string::npos) << alone;
  EXPECT_EQ(kernel_says(), "0x23");
  // A native XDP program (XDP_PASS) on the peer: the veth driver can now transmit redirects.
  NetnsPair::in_namespace(pair_->target_ns(), [&] {
    const bpf_insn pass[] = {{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS},
                             {BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
    const int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "pass", "GPL", pass, 2, nullptr);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    ASSERT_EQ(bpf_xdp_attach(static_cast<int>(::if_nametoindex(pair_->target_if().c_str())), fd,
                             XDP_FLAGS_DRV_MODE, nullptr),
              0);
    ::close(fd);  // the attachment holds it
  });
  const std::string with_peer = probe_says();
  EXPECT_NE(with_peer.find("xdp-features basic,redirect,ndo-xmit,rx-sg,ndo-xmit-sg "),
            std::string::npos)
      << with_peer;
  EXPECT_EQ(kernel_says(), "0x67");
  // The probe records every interface's features beside its verdict.
  const std::string env = dir_ + "/runtime.env";
  ASSERT_EQ(std::system((in_scanner + PROBE_BINARY + " --quiet --env-file " + env).c_str()), 0);
  const std::string recorded = read_file(env);
  EXPECT_NE(recorded.find("ANYSCAN_AF_XDP_INTERFACES=\"lo:none " + nic +
                          ":basic,redirect,ndo-xmit,rx-sg,ndo-xmit-sg\""),
            std::string::npos)
      << recorded;

  // Forced zero-copy: refused before any bind, naming the feature; nothing left attached.
  ProcessResult forced =
      run(args("af_xdp", {"--xdp-zerocopy", "force", "-p", "22", "-c", "0", "198.18.0.2"}));
  EXPECT_EQ(forced.exit_code, 69);
  EXPECT_NE(forced.err.find("lacks the XDP feature xsk-zerocopy"), std::string::npos) << forced.err;
  EXPECT_EQ(forced.err.find("Operation not supported"), std::string::npos) << forced.err;
  EXPECT_FALSE(xdp_attached());
  // Auto: no zero-copy try (the step down costs a failed bind), native copy mode at once.
  ProcessResult automatic = run(args("af_xdp", {"-v", "4", "-p", "22", "-c", "0", "198.18.0.2"}));
  ASSERT_EQ(automatic.exit_code, 0) << automatic.err;
  EXPECT_NE(automatic.err.find("zero-copy not tried"), std::string::npos) << automatic.err;
  EXPECT_EQ(automatic.err.find("(native, zero-copy)"), std::string::npos) << automatic.err;
  EXPECT_NE(automatic.err.find("in native, copy mode"), std::string::npos) << automatic.err;
  EXPECT_NE(read_file(dir_ + "/meta.json").find("\"nic_xdp_features\":103"), std::string::npos);

  // The launcher, with the probe's verdict: a job forcing zero-copy runs on af_packet, and
  // the reason names the missing feature; the scan is still exact.
  std::vector<std::string> launched = {LAUNCHER_BINARY, "--runtime-env", env,
                                       "--scanner",     ANYSCAN_BINARY,  "--"};
  // --user root: the launcher leaves the scanner no CAP_SETUID to become nobody with.
  const auto scan = args("af_xdp", {"--xdp-zerocopy", "force", "--user", "root", "-p", "22,80,443",
                                    "-r", "2000", "-c", "1", "198.18.0.2-198.18.0.5"});
  launched.insert(launched.end(), scan.begin() + 1, scan.end());  // without the scanner path
  ProcessResult via_launcher = run(launched);
  ASSERT_EQ(via_launcher.exit_code, 0) << via_launcher.err;
  EXPECT_NE(via_launcher.err.find("engine af_packet: auto: " + nic +
                                  " lacks the XDP feature xsk-zerocopy, which "
                                  "ANYSCAN_XDP_ZEROCOPY=force needs"),
            std::string::npos)
      << via_launcher.err;
  EXPECT_EQ(csv_rows(read_file(dir_ + "/results.csv")).size(), 12u);
  EXPECT_NE(read_file(dir_ + "/meta.json").find("\"engine\":\"af_packet\""), std::string::npos);
}

}  // namespace
}  // namespace anyscan::testing_support

namespace anyscan::testing_support {
namespace {

// A reply on a receive queue whose socket is gone is counted (XDP program), shown in the
// metadata and warned about: the loss counters cannot rot silently. The test removes
// queue 1's socket from the program's XSK map with bpftool while the scan runs.
TEST(AfXdpQueues, RepliesOnAQueueWithoutASocketAreCountedAndWarnedAbout) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
  NetnsPair pair(4, 4);
  ASSERT_TRUE(pair.ok()) << pair.error();
  const std::string dir = ::testing::TempDir() + "anyscan-xdpq-" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("mkdir -p '" + dir + "'").c_str()), 0);
  const std::vector<std::string> argv = {ANYSCAN_BINARY,
                                         "--io-engine",
                                         "af_xdp",
                                         "-i",
                                         pair.scanner_if(),
                                         "-G",
                                         pair.target_mac(),
                                         "-b",
                                         "/dev/null",
                                         "-o",
                                         dir + "/results.csv",
                                         "-m",
                                         dir + "/meta.json",
                                         "-q",
                                         "-T",
                                         "1",
                                         "-r",
                                         "300",
                                         "-c",
                                         "1",
                                         "-p",
                                         "1-450",
                                         "198.18.0.2-198.18.0.5"};
  // 1800 probes at 300 pps: 6 s, so the map edit below (several bpftool runs) lands well
  // inside the scan even on a loaded machine (at 2 s it once came after the last reply).
  const pid_t pid = pair.spawn_in_scanner(argv, dir + "/out", dir + "/err");
  // Wait for the program, then delete queue 1 from its XSK map.
  const std::string remove_queue_1 =
      "for i in $(seq 50); do "
      "prog=$(ip netns exec " +
      pair.scanner_ns() + " bpftool -j net show dev " + pair.scanner_if() +
      " | python3 -c 'import json,sys; d=json.load(sys.stdin); x=d[0][\"xdp\"]; print(x[0][\"id\"] "
      "if x else \"\")'); "
      "[ -n \"$prog\" ] && break; sleep 0.05; done; "
      "for m in $(bpftool -j prog show id $prog | python3 -c 'import json,sys; "
      "print(*json.load(sys.stdin)[\"map_ids\"])'); do "
      "if bpftool -j map show id $m | grep -q '\"type\":\"xskmap\"'; then bpftool map delete id $m "
      "key 1 0 0 0 && echo deleted; fi; "
      "done";
  EXPECT_NE(shell_output(remove_queue_1).find("deleted"), std::string::npos);
  ProcessResult r = wait_for(pid, 60, dir + "/out", dir + "/err");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string metadata = read_file(dir + "/meta.json");
  const size_t at = metadata.find("\"not_redirected\":");
  ASSERT_NE(at, std::string::npos) << metadata;
  EXPECT_GT(std::stoull(metadata.substr(at + 17)), 0u) << metadata;
  EXPECT_NE(metadata.find("\"queue1.xdp_no_socket\":"), std::string::npos) << metadata;
  EXPECT_NE(r.err.find("without an AF_XDP socket"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not redirected"), std::string::npos) << r.err;
}

// `ethtool -L` raising the queue count during a scan: replies RSS puts on the new queues
// have no socket. They must be counted (xdp_no_socket_other_queues, counts.not_redirected)
// and warned about, and the next run binds every queue again.
TEST(AfXdpQueues, QueuesAddedByEthtoolDuringAScanAreCountedAndTheNextRunBindsThem) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
  NetnsPair pair(4, 4);
  ASSERT_TRUE(pair.ok()) << pair.error();
  const std::string channels =
      "ip netns exec " + pair.scanner_ns() + " ethtool -L " + pair.scanner_if();
  if (run_shell(channels + " rx 2 tx 2").exit_code != 0)
    GTEST_SKIP() << "this kernel's veth cannot change its channel count (ethtool -L)";
  const std::string dir = process_temp_dir("anyscan-xdp-ethtool");
  const std::vector<std::string> argv = {ANYSCAN_BINARY,
                                         "--io-engine",
                                         "af_xdp",
                                         "-i",
                                         pair.scanner_if(),
                                         "-G",
                                         pair.target_mac(),
                                         "-b",
                                         "/dev/null",
                                         "-o",
                                         dir + "/results.csv",
                                         "-m",
                                         dir + "/meta.json",
                                         "-q",
                                         "-r",
                                         "400",
                                         "-c",
                                         "1",
                                         "-p",
                                         "1-200",
                                         "198.18.0.2-198.18.0.5"};
  const pid_t pid = pair.spawn_in_scanner(argv, dir + "/out", dir + "/err");
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const ShellResult raised = run_shell(channels + " rx 4 tx 4");
  ProcessResult r = wait_for(pid, 60, dir + "/out", dir + "/err");
  if (raised.exit_code != 0)
    GTEST_SKIP() << "this kernel refuses ethtool -L on a veth with XDP attached: " << raised.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("bound 2 queue(s)"), std::string::npos) << r.err;
  const std::string metadata = read_file(dir + "/meta.json");
  EXPECT_GT(metadata_count(metadata, "not_redirected"), 0u) << metadata;
  EXPECT_GT(metadata_count(metadata, "xdp_no_socket_other_queues"), 0u) << metadata;
  EXPECT_NE(r.err.find("without an AF_XDP socket"), std::string::npos) << r.err;
  // Every reply is either reported or counted as lost: nothing silent.
  EXPECT_EQ(metadata_count(metadata, "results") + metadata_count(metadata, "not_redirected"), 800u)
      << metadata;

  ProcessResult next = wait_for(pair.spawn_in_scanner(argv, dir + "/out", dir + "/err"), 60,
                                dir + "/out", dir + "/err");
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_NE(next.err.find("bound 4 queue(s)"), std::string::npos) << next.err;
  const std::string second = read_file(dir + "/meta.json");
  EXPECT_EQ(metadata_count(second, "results"), 800u) << second;
  EXPECT_EQ(metadata_count(second, "not_redirected"), 0u) << second;
}

}  // namespace
}  // namespace anyscan::testing_support
