#include "support/netns_fixture.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "net/checksum.h"
#include "net/frame_layout.h"

namespace anyscan::testing_support {

namespace {
// address:port as a socket address of its family; returns its length.
socklen_t socket_address(const std::string& address, uint16_t port, sockaddr_storage* out) {
  if (address.find(':') != std::string::npos) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(out);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(port);
    ::inet_pton(AF_INET6, address.c_str(), &sa->sin6_addr);
    return sizeof *sa;
  }
  auto* sa = reinterpret_cast<sockaddr_in*>(out);
  sa->sin_family = AF_INET;
  sa->sin_port = htons(port);
  ::inet_pton(AF_INET, address.c_str(), &sa->sin_addr);
  return sizeof *sa;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

std::set<std::string> csv_rows(const std::string& text) {
  std::set<std::string> rows;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line))
    if (!line.empty()) rows.insert(line);
  return rows;
}

namespace {

// A test process whose output is piped into `head` must not die of SIGPIPE with a pair
// still standing: with the signal ignored a write fails, the test goes on and every pair's
// destructor runs.
const bool kSigpipeIgnored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

// Pairs of test processes that are gone (killed: a SIGKILL or a ctest timeout leaves no
// destructor to run), found by the pid in their names, are deleted before a new pair is
// made. Only our own names: anyscan-s<PID>x<N> and anyscan-t<PID>x<N>.
void remove_stale_pairs() {
  DIR* dir = ::opendir("/run/netns");
  if (dir == nullptr) return;
  std::vector<std::string> stale;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.rfind("anyscan-s", 0) != 0 && name.rfind("anyscan-t", 0) != 0) continue;
    const size_t x = name.find('x', 9);
    if (x == std::string::npos || x == 9) continue;
    const std::string pid_text = name.substr(9, x - 9);
    if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    if (pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      stale.push_back(name);
  }
  ::closedir(dir);
  for (const std::string& name : stale)
    std::system(("ip netns del '" + name + "' >/dev/null 2>&1").c_str());
}

}  // namespace

namespace {

// A tun device (IFF_TUN, no packet-information header) made in namespace `ns`: the device
// is born there and never exists in the host's namespace; it goes when the fd is closed.
UniqueFd open_tun(const std::string& ns, const std::string& name) {
  UniqueFd fd;
  NetnsPair::in_namespace(ns, [&] {
    fd.reset(::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
    ifreq request{};
    std::snprintf(request.ifr_name, IFNAMSIZ, "%s", name.c_str());
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (!fd.valid() || ::ioctl(fd.get(), TUNSETIFF, &request) != 0) fd.reset();
  });
  return fd;
}

}  // namespace

NetnsPair::NetnsPair(int target_count, int queues, PairLink link)
    : target_count_(target_count), queues_(queues), link_(link) {
  static const bool reaped = (remove_stale_pairs(), true);
  (void)reaped;
  (void)kSigpipeIgnored;
  // Unique per process and per instance: parallel runs and leftovers never collide; the
  // whole pid, so a later process can tell whether the one that made a pair is gone.
  static int instance = 0;
  const std::string id = std::to_string(::getpid()) + "x" + std::to_string(instance++);
  scanner_ns_ = "anyscan-s" + id;
  target_ns_ = "anyscan-t" + id;
  scanner_if_ = "as" + id + "a";
  target_if_ = "as" + id + "b";
  const std::string queue_args = queues_ > 1 ? " numtxqueues " + std::to_string(queues_) +
                                                   " numrxqueues " + std::to_string(queues_)
                                             : "";
  // IPv6 without duplicate address detection (addresses usable at once, link-local ones
  // too): set before the veth exists, so both ends inherit it.
  const std::string no_dad =
      " sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0";
  if (link_ == PairLink::kTun) {
    ok_ = queues_ == 1 && sh("ip netns add " + scanner_ns_ + " && ip netns add " + target_ns_ +
                             " && ip netns exec " + scanner_ns_ + no_dad + " && ip netns exec " +
                             target_ns_ + no_dad);
    if (ok_) {
      tun_scanner_ = open_tun(scanner_ns_, scanner_if_);
      tun_target_ = open_tun(target_ns_, target_if_);
    }
    std::string commands;
    for (const auto& [ns, ifname, address, address6] :
         {std::tuple{scanner_ns_, scanner_if_, std::string(kScannerIp), std::string(kScannerIp6)},
          std::tuple{target_ns_, target_if_, target_addresses().front(),
                     target_addresses6().front()}})
      // A long transmit queue: the relay is a thread of a test that may be descheduled.
      commands += std::string(commands.empty() ? "" : " && ") + "ip -n " + ns +
                  " link set lo up && ip -n " + ns + " link set " + ifname +
                  " txqueuelen 20000 && ip -n " + ns + " addr add " + address + "/24 dev " +
                  ifname + " && ip -n " + ns + " addr add " + address6 + "/64 dev " + ifname +
                  " nodad && ip -n " + ns + " link set " + ifname + " up";
    for (size_t i = 1; i < target_addresses().size(); ++i)
      commands += " && ip -n " + target_ns_ + " addr add " + target_addresses()[i] + "/24 dev " +
                  target_if_ + " && ip -n " + target_ns_ + " addr add " + target_addresses6()[i] +
                  "/64 dev " + target_if_ + " nodad";
    ok_ = ok_ && tun_scanner_.valid() && tun_target_.valid() && sh(commands);
    if (!ok_) {
      error_ = "could not create the tun pair (needs root and CONFIG_TUN)";
      return;
    }
    relay_ = std::thread([this] { relay(); });
    return;
  }
  std::string commands =
      "ip netns add " + scanner_ns_ + " && ip netns add " + target_ns_ + " && ip netns exec " +
      scanner_ns_ + no_dad + " && ip netns exec " + target_ns_ + no_dad +
      // The veth pair is created inside the scanner namespace with its peer directly in the
      // target namespace: it never exists in the host's namespace.
      " && ip -n " + scanner_ns_ + " link add " + scanner_if_ + queue_args +
      " type veth peer name " + target_if_ + queue_args + " netns " + target_ns_ + " && ip -n " +
      scanner_ns_ + " link set lo up && ip -n " + target_ns_ + " link set lo up" + " && ip -n " +
      scanner_ns_ + " addr add 198.18.0.1/24 dev " + scanner_if_ + " && ip -n " + scanner_ns_ +
      " addr add " + kScannerIp6 + "/64 dev " + scanner_if_ + " nodad && ip -n " + scanner_ns_ +
      " link set " + scanner_if_ + " up";
  for (const auto& address : target_addresses())
    commands += " && ip -n " + target_ns_ + " addr add " + address + "/24 dev " + target_if_;
  for (const auto& address : target_addresses6())
    commands +=
        " && ip -n " + target_ns_ + " addr add " + address + "/64 dev " + target_if_ + " nodad";
  commands += " && ip -n " + target_ns_ + " link set " + target_if_ + " up";
  ok_ = sh(commands);
  if (!ok_) error_ = "could not create the namespace pair (needs root and CONFIG_VETH)";
}

NetnsPair::~NetnsPair() {
  stop_responder_ = true;
  if (responder_.joinable()) responder_.join();
  stop_relay_ = true;
  if (relay_.joinable()) relay_.join();
  tun_scanner_.reset();  // the tun devices go with their descriptors
  tun_target_.reset();
  udp_sockets_.clear();
  listeners_.clear();
  // Deleting a namespace deletes the veth pair (and any XDP program attached to it).
  sh("ip netns del " + scanner_ns_ + " 2>/dev/null; ip netns del " + target_ns_ +
     " 2>/dev/null; true");
}

namespace {

// The forged SYN-ACK for a SYN probe (an IPv4 or IPv6 packet without options or extension
// headers): the addresses and ports swapped, `ack` and `sport` as given.
std::vector<uint8_t> forged_synack(const uint8_t* syn, uint16_t sport, uint32_t ack) {
  using namespace frame;
  const bool v6 = (syn[0] >> 4) == 6;
  const size_t ip_bytes = v6 ? kIpv6HeaderBytes : kIpMinHeaderBytes;
  std::vector<uint8_t> out(ip_bytes + kTcpMinHeaderBytes, 0);
  uint8_t* ip = out.data();
  uint8_t* tcp = ip + ip_bytes;
  const uint8_t* probe_tcp = syn + ip_bytes;
  store_be16(tcp + kTcpSrcPort, sport);
  store_be16(tcp + kTcpDstPort, load_be16(probe_tcp + kTcpSrcPort));
  store_be32(tcp + kTcpSeq, 0x5eed0000u);
  store_be32(tcp + kTcpAck, ack);
  tcp[kTcpDataOffset] = 0x50;
  tcp[kTcpFlags] = kTcpSyn | kTcpAckFlag;
  store_be16(tcp + kTcpWindow, 65535);
  uint32_t pseudo = 0;
  if (v6) {
    ip[0] = 0x60;
    store_be16(ip + kIpv6PayloadLength, kTcpMinHeaderBytes);
    ip[kIpv6NextHeader] = kProtoTcp;
    ip[kIpv6HopLimit] = 64;
    std::memcpy(ip + kIpv6Src, syn + kIpv6Dst, 16);
    std::memcpy(ip + kIpv6Dst, syn + kIpv6Src, 16);
    pseudo = pseudo_header_sum6(ip + kIpv6Src, ip + kIpv6Dst, kProtoTcp, kTcpMinHeaderBytes);
  } else {
    ip[0] = 0x45;
    store_be16(ip + 2, static_cast<uint16_t>(out.size()));
    ip[8] = 64;
    ip[9] = kProtoTcp;
    std::memcpy(ip + 12, syn + 16, 4);
    std::memcpy(ip + 16, syn + 12, 4);
    store_be16(ip + 10, checksum(ip, kIpMinHeaderBytes));
    pseudo =
        pseudo_header_sum(load_be32(ip + 12), load_be32(ip + 16), kProtoTcp, kTcpMinHeaderBytes);
  }
  store_be16(
      tcp + kTcpChecksum,
      static_cast<uint16_t>(~checksum_fold(checksum_partial(tcp, kTcpMinHeaderBytes, pseudo))));
  return out;
}

// The TCP flags of a segment in an IPv4 or IPv6 packet without options or extension headers;
// -1 for anything else.
int tcp_flags(const uint8_t* p, size_t n) {
  using namespace frame;
  const bool v6 = n >= kIpv6HeaderBytes && (p[0] >> 4) == 6;
  const size_t ip_bytes = v6 ? kIpv6HeaderBytes : kIpMinHeaderBytes;
  if (n < ip_bytes + kTcpMinHeaderBytes) return -1;
  if (v6 ? p[kIpv6NextHeader] != kProtoTcp : (p[0] != 0x45 || p[9] != kProtoTcp)) return -1;
  return p[ip_bytes + kTcpFlags];
}

// A SYN without ACK: a probe.
bool is_syn(const uint8_t* p, size_t n) {
  const int flags = tcp_flags(p, n);
  return flags >= 0 && (flags & frame::kTcpSyn) != 0 && (flags & frame::kTcpAckFlag) == 0;
}

// Neither a SYN-ACK nor a RST: what a scanner counts as a failed validation when it reaches
// one of its ports.
bool is_tcp_neither_synack_nor_rst(const uint8_t* p, size_t n) {
  using namespace frame;
  const int flags = tcp_flags(p, n);
  return flags >= 0 && (flags & kTcpRst) == 0 &&
         (flags & (kTcpSyn | kTcpAckFlag)) != (kTcpSyn | kTcpAckFlag);
}

// Writes a packet to a non-blocking tun descriptor, waiting while its queue is full.
void tun_write(int fd, const uint8_t* p, size_t n, const std::atomic<bool>& stop) {
  while (::write(fd, p, n) < 0 && (errno == EAGAIN || errno == ENOBUFS) && !stop)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
}

}  // namespace

void NetnsPair::relay() {
  pollfd polled[2] = {{tun_scanner_.get(), POLLIN, 0}, {tun_target_.get(), POLLIN, 0}};
  uint8_t buffer[65536];
  while (!stop_relay_) {
    if (::poll(polled, 2, 50) <= 0) continue;
    for (int side = 0; side < 2; ++side) {
      if ((polled[side].revents & POLLIN) == 0) continue;
      const int from = polled[side].fd, to = polled[1 - side].fd;
      for (int burst = 0; burst < 256; ++burst) {
        const ssize_t n = ::read(from, buffer, sizeof buffer);
        if (n <= 0) break;
        const auto bytes = static_cast<size_t>(n);
        if (side == 0) {
          relayed_to_target_.fetch_add(1);
          if (is_syn(buffer, bytes)) {
            relayed_syns_.fetch_add(1);
            uint64_t left = forge_left_.load();
            while (left > 0 && !forge_left_.compare_exchange_weak(left, left - 1)) {
            }
            if (left > 0) {
              const size_t tcp = (buffer[0] >> 4) == 6 ? 40 : 20;
              const uint32_t seq = load_be32(buffer + tcp + frame::kTcpSeq);
              const uint16_t dport = load_be16(buffer + tcp + frame::kTcpDstPort);
              const auto forged =
                  left % 2 == 0 ? forged_synack(buffer, dport, seq + 2)
                                : forged_synack(buffer, static_cast<uint16_t>(dport + 1), seq + 1);
              tun_write(tun_scanner_.get(), forged.data(), forged.size(), stop_relay_);
              forged_.fetch_add(1);
            }
          }
        } else {
          relayed_to_scanner_.fetch_add(1);
          if (is_tcp_neither_synack_nor_rst(buffer, bytes)) relayed_other_tcp_.fetch_add(1);
        }
        tun_write(to, buffer, bytes, stop_relay_);
      }
    }
  }
}

RelayCounts NetnsPair::relay_counts() const {
  return RelayCounts{relayed_to_target_.load(), relayed_syns_.load(), relayed_to_scanner_.load(),
                     relayed_other_tcp_.load(), forged_.load()};
}

bool NetnsPair::sh(const std::string& command) {
  const std::string wrapped = "set -e; " + command + " >/dev/null 2>&1";
  return std::system(wrapped.c_str()) == 0;
}

std::vector<std::string> NetnsPair::target_addresses() const {
  std::vector<std::string> out;
  for (int i = 0; i < target_count_; ++i) out.push_back("198.18.0." + std::to_string(2 + i));
  return out;
}

std::vector<std::string> NetnsPair::target_addresses6() const {
  std::vector<std::string> out;
  char text[48];
  for (int i = 0; i < target_count_; ++i) {
    std::snprintf(text, sizeof text, "2001:2::%x", 2 + i);
    out.push_back(text);
  }
  return out;
}

static std::string mac_of(const std::string& ns, const std::string& ifname) {
  // "N: name@peer: <...> ... link/ether aa:bb:cc:dd:ee:ff brd ..."
  const std::string command = "ip -n " + ns + " -o link show dev " + ifname;
  std::string text;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buffer[1024];
    while (std::fgets(buffer, sizeof buffer, p)) text += buffer;
    ::pclose(p);
  }
  const size_t at = text.find("link/ether ");
  return at == std::string::npos ? "" : trim(text.substr(at + 11, 17));
}

std::string NetnsPair::target_mac() const { return mac_of(target_ns_, target_if_); }
std::string NetnsPair::scanner_mac() const { return mac_of(scanner_ns_, scanner_if_); }

void NetnsPair::in_namespace(const std::string& ns, const std::function<void()>& fn) {
  std::exception_ptr failure;
  std::thread worker([&] {
    try {
      UniqueFd fd(::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.valid() || ::setns(fd.get(), CLONE_NEWNET) != 0)
        throw std::runtime_error("setns " + ns + ": " + std::strerror(errno));
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
}

bool NetnsPair::answer_everything_in(const std::string& cidr) {
  return cidr.rfind("198.18.", 0) == 0 || cidr.rfind("198.19.", 0) == 0 ||
                 cidr.rfind("2001:2:", 0) == 0
             ? sh("ip -n " + target_ns_ + " route add local " + cidr + " dev lo")
             : false;
}

uint64_t NetnsPair::target_tx_dropped() const {
  const std::string text = shell_output("ip netns exec " + target_ns_ + " cat /sys/class/net/" +
                                        target_if_ + "/statistics/tx_dropped");
  return text.empty() ? UINT64_MAX : std::stoull(text);
}

void NetnsPair::listen_on(const std::map<std::string, std::set<uint16_t>>& open) {
  in_namespace(target_ns_, [&] {
    for (const auto& [address, ports] : open)
      for (uint16_t port : ports) {
        const bool v6 = address.find(':') != std::string::npos;
        UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const int one = 1;
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        // An AnyIP address (answer_everything_in) is local by route, not by interface:
        // IPv6 binds to one only with freebind.
        ::setsockopt(fd.get(), IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
        sockaddr_storage sa{};
        socklen_t length = socket_address(address, port, &sa);
        if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), length) != 0 ||
            ::listen(fd.get(), 4096) != 0)
          throw std::runtime_error("listen " + address + ":" + std::to_string(port) + ": " +
                                   std::strerror(errno));
        listeners_.push_back(std::move(fd));
      }
  });
}

void NetnsPair::udp_respond_on(const std::map<std::string, std::set<uint16_t>>& open) {
  // One descriptor per pair: a thousand and more of them.
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);
  in_namespace(target_ns_, [&] {
    for (const auto& [address, ports] : open)
      for (uint16_t port : ports) {
        const bool v6 = address.find(':') != std::string::npos;
        UniqueFd fd(
            ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        sockaddr_storage sa{};
        const socklen_t length = socket_address(address, port, &sa);
        if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), length) != 0)
          throw std::runtime_error("udp bind " + address + ":" + std::to_string(port) + ": " +
                                   std::strerror(errno));
        udp_sockets_.push_back(std::move(fd));
      }
  });
  std::vector<pollfd> polled;
  for (const UniqueFd& fd : udp_sockets_) polled.push_back(pollfd{fd.get(), POLLIN, 0});
  responder_ = std::thread([this, polled]() mutable {
    uint8_t buffer[2048];
    while (!stop_responder_) {
      if (::poll(polled.data(), polled.size(), 50) <= 0) continue;
      for (pollfd& p : polled) {
        if ((p.revents & POLLIN) == 0) continue;
        while (true) {
          sockaddr_storage from{};
          socklen_t length = sizeof from;
          const ssize_t n = ::recvfrom(p.fd, buffer, sizeof buffer, 0,
                                       reinterpret_cast<sockaddr*>(&from), &length);
          if (n < 0) break;
          ::sendto(p.fd, buffer, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from),
                   length);
        }
      }
    }
  });
}

bool NetnsPair::lift_icmp_rate_limits() {
  return sh("ip netns exec " + target_ns_ +
            " sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_ratemask=0"
            " net.ipv4.icmp_msgs_per_sec=100000000 net.ipv4.icmp_msgs_burst=100000000"
            " net.ipv6.icmp.ratelimit=0");
}

void NetnsPair::send_ip_from_target(const std::vector<uint8_t>& packet, int count) {
  in_namespace(target_ns_, [&] {
    UniqueFd fd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
    if (!fd.valid()) throw std::runtime_error(std::string("raw socket: ") + std::strerror(errno));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, packet.data() + 16, 4);
    for (int i = 0; i < count; ++i)
      while (::sendto(fd.get(), packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
                      sizeof to) < 0) {
        if (errno != ENOBUFS && errno != EAGAIN)
          throw std::runtime_error(std::string("sendto: ") + std::strerror(errno));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
  });
}

void NetnsPair::send_tcp_from_target(const std::string& from, uint16_t from_port, uint16_t to_port,
                                     uint32_t seq, uint32_t ack, uint8_t flags, int count) {
  in_namespace(target_ns_, [&] {
    UniqueFd fd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
    if (!fd.valid()) throw std::runtime_error(std::string("raw socket: ") + std::strerror(errno));
    uint8_t packet[40] = {};
    using namespace frame;
    uint8_t* ip = packet;
    ip[0] = 0x45;
    store_be16(ip + 2, 40);
    ip[8] = 64;
    ip[9] = kProtoTcp;
    in_addr src{}, dst{};
    ::inet_pton(AF_INET, from.c_str(), &src);
    ::inet_pton(AF_INET, NetnsPair::kScannerIp, &dst);
    std::memcpy(ip + 12, &src, 4);
    std::memcpy(ip + 16, &dst, 4);
    uint8_t* tcp = packet + 20;
    store_be16(tcp + kTcpSrcPort, from_port);
    store_be16(tcp + kTcpDstPort, to_port);
    store_be32(tcp + kTcpSeq, seq);
    store_be32(tcp + kTcpAck, ack);
    tcp[kTcpDataOffset] = 0x50;
    tcp[kTcpFlags] = flags;
    store_be16(tcp + kTcpWindow, 1024);
    const uint32_t pseudo =
        pseudo_header_sum(load_be32(ip + 12), load_be32(ip + 16), kProtoTcp, 20);
    store_be16(tcp + kTcpChecksum,
               static_cast<uint16_t>(~checksum_fold(checksum_partial(tcp, 20, pseudo))));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr = dst;
    for (int i = 0; i < count; ++i)
      if (::sendto(fd.get(), packet, sizeof packet, 0, reinterpret_cast<sockaddr*>(&to),
                   sizeof to) < 0)
        throw std::runtime_error(std::string("sendto: ") + std::strerror(errno));
  });
}

void NetnsPair::send_frame_from_target(const std::vector<uint8_t>& packet, int count) {
  const std::string to_mac = scanner_mac(), from_mac = target_mac();
  std::vector<uint8_t> frame(14);
  auto put_mac = [&](const std::string& text, size_t at) {
    for (size_t i = 0; i < 6; ++i)
      frame[at + i] = static_cast<uint8_t>(std::stoi(text.substr(3 * i, 2), nullptr, 16));
  };
  put_mac(to_mac, 0);
  put_mac(from_mac, 6);
  store_be16(frame.data() + 12, (packet.at(0) >> 4) == 6 ? 0x86dd : 0x0800);
  frame.insert(frame.end(), packet.begin(), packet.end());
  in_namespace(target_ns_, [&] {
    UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!fd.valid())
      throw std::runtime_error(std::string("packet socket: ") + std::strerror(errno));
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = static_cast<int>(::if_nametoindex(target_if_.c_str()));
    to.sll_halen = 6;
    for (int i = 0; i < count; ++i)
      while (::sendto(fd.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
                      sizeof to) < 0) {
        if (errno != ENOBUFS && errno != EAGAIN)
          throw std::runtime_error(std::string("sendto: ") + std::strerror(errno));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
  });
}

std::vector<std::string> NetnsPair::scanner_argv(const std::string& engine) const {
  if (link_ == PairLink::kTun)  // no MAC to name: the link has no header
    return {ANYSCAN_BINARY, "--io-engine", engine, "-i", scanner_if_, "-b", "/dev/null"};
  return {ANYSCAN_BINARY, "--io-engine", engine, "-i",       scanner_if_,
          "-G",           target_mac(),  "-b",   "/dev/null"};
}

pid_t NetnsPair::spawn_in_scanner(const std::vector<std::string>& argv,
                                  const std::string& stdout_path, const std::string& stderr_path) {
  return spawn_in(scanner_ns_, argv, stdout_path, stderr_path);
}

pid_t NetnsPair::spawn_in_target(const std::vector<std::string>& argv,
                                 const std::string& stdout_path, const std::string& stderr_path) {
  return spawn_in(target_ns_, argv, stdout_path, stderr_path);
}

pid_t spawn_in(const std::string& name, const std::vector<std::string>& argv,
               const std::string& stdout_path, const std::string& stderr_path) {
  const std::string ns_path = "/run/netns/" + name;
  // Built before the fork: the test may have threads (a responder), so the child allocates
  // nothing.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child: join the namespace, redirect, exec. Only async-signal-safe calls.
  const int ns = ::open(ns_path.c_str(), O_RDONLY);
  if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) ::_exit(120);
  const int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int in = ::open("/dev/null", O_RDONLY);
  if (out < 0 || err < 0 || in < 0) ::_exit(121);
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  ::execv(args[0], args.data());
  ::_exit(127);
}

ProcessResult wait_for(pid_t pid, int timeout_s, const std::string& stdout_path,
                       const std::string& stderr_path) {
  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.exit_code = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  result.out = read_file(stdout_path);
  result.err = read_file(stderr_path);
  return result;
}

SynCapture::SynCapture(const NetnsPair& pair) {
  NetnsPair::in_namespace(pair.target_ns(), [&] {
    fd_.reset(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_IP)));
    if (!fd_.valid())
      throw std::runtime_error(std::string("capture socket: ") + std::strerror(errno));
    sockaddr_ll sa{};
    sa.sll_family = AF_PACKET;
    sa.sll_protocol = htons(ETH_P_IP);
    sa.sll_ifindex = static_cast<int>(::if_nametoindex(pair.target_if().c_str()));
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      throw std::runtime_error(std::string("capture bind: ") + std::strerror(errno));
    const int size = 64 << 20;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  });
}

std::vector<std::string> SynCapture::drain() {
  std::vector<std::string> out;
  uint8_t buffer[2048];
  sockaddr_ll from{};
  socklen_t from_length = sizeof from;
  while (true) {
    const ssize_t n = ::recvfrom(fd_.get(), buffer, sizeof buffer, 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_length);
    if (n <= 0) break;
    if (from.sll_pkttype == PACKET_OUTGOING || n < 40) continue;
    using namespace frame;
    if (buffer[9] != kProtoTcp || (buffer[0] & 0x0f) != 5 ||
        (buffer[20 + kTcpFlags] & kTcpSyn) == 0 || (buffer[20 + kTcpFlags] & kTcpAckFlag) != 0)
      continue;
    char daddr[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, buffer + 16, daddr, sizeof daddr);
    out.push_back(std::string(daddr) + ":" + std::to_string(load_be16(buffer + 20 + kTcpDstPort)));
  }
  return out;
}

}  // namespace anyscan::testing_support
