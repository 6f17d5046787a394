#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/unique_fd.h"
#include "support/test_shell.h"

namespace anyscan::testing_support {

// How the two namespaces are joined: a veth pair (Ethernet), or two tun devices (L3, no
// link-layer header, like WireGuard's or an ipip tunnel's) whose packets a relay thread of
// the test copies across, seeing every one.
enum class PairLink { kVeth, kTun };

// What the tun relay saw and did (PairLink::kTun).
struct RelayCounts {
  uint64_t to_target = 0;  // packets from the scanner side
  uint64_t syns = 0;       // ... of them TCP SYNs (probes), either family
  uint64_t to_scanner = 0;
  // ... of them TCP but neither a SYN-ACK nor a RST (the target's challenge ACKs when the
  // scanner's kernel answers a forged SYN-ACK with a RST it finds out of order)
  uint64_t to_scanner_other_tcp = 0;
  uint64_t forged = 0;  // replies the relay made up (forge_replies)
};

// Two network namespaces made for one test, joined by one veth pair and nothing else: no
// default route, no bridge, addresses in 198.18.0.0/15 and 2001:2::/48 only. The scanner
// side has 198.18.0.1/24 and 2001:2::1/64; the target side answers on 198.18.0.2 ..
// 198.18.0.(1+target_count) and 2001:2::2 .. 2001:2::(1+target_count, in hex).
// Everything is removed in the destructor, also when the test failed.
class NetnsPair {
 public:
  static constexpr const char* kScannerIp = "198.18.0.1";
  static constexpr const char* kScannerIp6 = "2001:2::1";

  // queues > 1: both veth ends get that many TX and RX queues, the way a multi-queue NIC
  // with RSS looks to the scanner (the target kernel spreads its replies over them).
  // PairLink::kTun: queues must be 1; the tun devices carry the same addresses.
  explicit NetnsPair(int target_count = 8, int queues = 1, PairLink link = PairLink::kVeth);
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::string& scanner_ns() const { return scanner_ns_; }
  const std::string& target_ns() const { return target_ns_; }
  const std::string& scanner_if() const { return scanner_if_; }
  const std::string& target_if() const { return target_if_; }
  std::string target_mac() const;
  std::string scanner_mac() const;
  std::vector<std::string> target_addresses() const;
  std::vector<std::string> target_addresses6() const;

  // Runs fn with the calling thread inside the named namespace (setns on a helper thread).
  static void in_namespace(const std::string& ns, const std::function<void()>& fn);

  // Makes every address of `cidr` (inside 198.18.0.0/15) local to the target namespace
  // (`ip route add local CIDR dev lo`): its kernel then answers every SYN to any of them,
  // with a RST as no socket listens, and every ICMP echo. A scan where every probe is
  // answered.
  bool answer_everything_in(const std::string& cidr);

  // Frames the target's veth end could not hand to the scanner's end: with an XDP program
  // on the scanner's end, veth queues them in a 256-entry ring per queue, which overflows
  // like a NIC's receive ring (the loss a real NIC counts in its rx_missed_errors).
  uint64_t target_tx_dropped() const;

  // PairLink::kTun: for each of the next `count` SYNs the relay passes on, it first sends
  // the scanner a forged SYN-ACK that a check of "ack = seq + 1" alone would take: half with
  // ack = seq + 2, half with the right ack from the next port up (another target). None may
  // be reported; each is one validation failure.
  void forge_replies(uint64_t count) { forge_left_ = count; }
  RelayCounts relay_counts() const;

  // Listening TCP sockets in the target namespace on exactly these (address, port) pairs,
  // of either family.
  void listen_on(const std::map<std::string, std::set<uint16_t>>& open);
  // UDP sockets in the target namespace on exactly these (address, port) pairs, each
  // answering every datagram with a copy of it (an echo service); every other port is
  // answered by the target kernel's ICMP port unreachable.
  void udp_respond_on(const std::map<std::string, std::set<uint16_t>>& open);
  // No ICMP rate limit in the target namespace (per-namespace sysctls): every closed UDP
  // port gets its port unreachable, however fast the probes come.
  bool lift_icmp_rate_limits();
  // An IPv4 packet (header included; its checksum is filled in by the kernel) sent from the
  // target namespace, `count` times: any source address, to the scanner.
  void send_ip_from_target(const std::vector<uint8_t>& packet, int count = 1);
  // An IPv4 or IPv6 packet (header included, as it is: checksums, extension headers and all)
  // sent as an Ethernet frame from the target's veth end to the scanner's, `count` times.
  void send_frame_from_target(const std::vector<uint8_t>& packet, int count = 1);
  // Raw TCP segments sent from the target namespace to the scanner.
  void send_tcp_from_target(const std::string& from, uint16_t from_port, uint16_t to_port,
                            uint32_t seq, uint32_t ack, uint8_t flags, int count);

  // The scanner on this pair: its binary, --io-engine, our veth (-i), the target's MAC (-G)
  // and no blocklist (-b /dev/null: the default one holds 198.18.0.0/15); add the rest.
  std::vector<std::string> scanner_argv(const std::string& engine) const;

  // Starts `argv` inside the scanner namespace; returns the PID (stdout/stderr to files).
  pid_t spawn_in_scanner(const std::vector<std::string>& argv, const std::string& stdout_path,
                         const std::string& stderr_path);
  // The same in the target namespace (a server the scan should find).
  pid_t spawn_in_target(const std::vector<std::string>& argv, const std::string& stdout_path,
                        const std::string& stderr_path);

 private:
  bool sh(const std::string& command);

  std::string scanner_ns_, target_ns_, scanner_if_, target_if_;
  int target_count_;
  int queues_;
  bool ok_ = false;
  std::string error_;
  std::vector<UniqueFd> listeners_;
  std::vector<UniqueFd> udp_sockets_;
  std::atomic<bool> stop_responder_{false};
  std::thread responder_;
  PairLink link_;
  UniqueFd tun_scanner_, tun_target_;
  std::atomic<bool> stop_relay_{false};
  std::atomic<uint64_t> forge_left_{0};
  std::atomic<uint64_t> relayed_to_target_{0}, relayed_syns_{0}, relayed_to_scanner_{0},
      relayed_other_tcp_{0}, forged_{0};
  std::thread relay_;
  void relay();
};

pid_t spawn_in(const std::string& ns, const std::vector<std::string>& argv,
               const std::string& stdout_path, const std::string& stderr_path);

// Captures, in the target namespace, the TCP SYNs arriving on the target interface, in order.
class SynCapture {
 public:
  SynCapture(const NetnsPair& pair);
  // (daddr, dport) of every SYN received so far ("198.18.0.2:80").
  std::vector<std::string> drain();

 private:
  UniqueFd fd_;
};

struct ProcessResult {
  int exit_code = -1;  // -1: killed after the timeout
  std::string out, err;
};
// Waits for pid up to timeout_s (then SIGKILLs it, by PID) and collects its output files.
ProcessResult wait_for(pid_t pid, int timeout_s, const std::string& stdout_path,
                       const std::string& stderr_path);

// CSV rows (header dropped) as sets of lines.
std::set<std::string> csv_rows(const std::string& text);

}  // namespace anyscan::testing_support
