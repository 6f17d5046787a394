// UDP scans on a veth pair between two test-made namespaces (198.18.0.0/15 only), on both
// engines and on one and two queues: echo responders on a random open set, every other port
// answered by the target kernel's ICMP port unreachable (its rate limits lifted), forged
// UDP replies and ICMP errors, and real servers from Debian (dnsmasq, snmpd, chronyd,
// memcached) answering the built-in payloads.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "net/checksum.h"
#include "net/frame_layout.h"
#include "probe/udp_probe.h"
#include "probe/validation_cookie.h"
#include "support/pair_scan_test.h"
#include "support/scan_expectations.h"
#include "support/test_frames.h"

namespace anyscan::testing_support {
namespace {

uint32_t test_seed() {
  static const uint32_t seed = std::random_device{}();
  return seed;
}

// Random ports without the built-in payloads' (an echo of those requests is not what the
// service answers: NTP's origin is elsewhere than the request's transmit timestamp).
std::vector<uint16_t> plain_ports(size_t count, uint32_t seed) {
  const std::set<uint16_t> builtin = {53, 111, 123, 137, 161, 1900, 5060, 5683, 11211};
  std::vector<uint16_t> out;
  for (uint16_t port : random_ports(count + builtin.size(), seed))
    if (!builtin.count(port) && out.size() < count) out.push_back(port);
  return out;
}

class UdpScan : public PairScanTest {
 protected:
  void SetUp() override {
    PairScanTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(pair_->lift_icmp_rate_limits());
  }

  pid_t start_udp(std::vector<std::string> extra, const std::string& fields = kDefaultFields) {
    extra.insert(extra.begin(), {"-M", "udp", "-f", fields});
    return start(extra);
  }
  ScanRun scan_udp(const std::vector<std::string>& extra,
                   const std::string& fields = kDefaultFields) {
    return finish(start_udp(extra, fields));
  }

  // udp for the open set, icmp-unreach for every other probed (address, port).
  std::set<std::string> expected(const std::map<std::string, std::set<uint16_t>>& open,
                                 const std::vector<uint16_t>& ports, bool ipv6 = false) {
    std::set<std::string> rows;
    for (const auto& address : ipv6 ? pair_->target_addresses6() : pair_->target_addresses())
      for (uint16_t port : ports) {
        const auto it = open.find(address);
        const bool is_open = it != open.end() && it->second.count(port);
        rows.insert(address + "," + std::to_string(port) +
                    (is_open ? ",udp,1" : ",icmp-unreach,0"));
      }
    return rows;
  }

  void exact_set(size_t port_count, const char* rate, uint32_t seed) {
    SCOPED_TRACE(::testing::Message() << "random open set seed " << seed);
    const auto ports = plain_ports(port_count, seed);
    const auto open = random_open_set(pair_->target_addresses(), ports, seed);
    pair_->udp_respond_on(open);
    ScanRun run =
        scan_udp({"-p", port_list(ports), "-r", rate, "-c", "2", "198.18.0.2-198.18.0.9"});
    ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
    EXPECT_EQ(metadata_count(run.metadata, "sent"), 8u * port_count);
    const auto want = expected(open, ports);
    EXPECT_EQ(run.rows.size(), want.size()) << run.metadata;
    EXPECT_EQ(run.rows, want);
    EXPECT_EQ(metadata_count(run.metadata, "validation_failed"), 0u) << run.metadata;
    EXPECT_EQ(metadata_count(run.metadata, "duplicates"), 0u) << run.metadata;
    EXPECT_EQ(metadata_count(run.metadata, "not_redirected"), 0u) << run.metadata;
  }
};

TEST_P(UdpScan, ReportsExactlyTheOpenSetAtLowRate) { exact_set(40, "2000", test_seed()); }

// UDP over IPv6: echo responders on a random third, every other port answered by the target
// kernel's ICMPv6 port unreachable (matched by the datagram it quotes, our flow label in it);
// then forged ICMPv6 errors (another flow label, a target never probed) and forged replies
// (the wrong DNS ID), counted, never reported.
TEST_P(UdpScan, Ipv6ExactOpenSetAndForgedErrors) {
  const uint32_t seed = test_seed() + 3;
  SCOPED_TRACE(::testing::Message() << "random open set seed " << seed);
  const auto ports = plain_ports(60, seed);
  const auto open = random_open_set(pair_->target_addresses6(), ports, seed);
  pair_->udp_respond_on(open);
  ScanRun run =
      scan_udp({"-p", port_list(ports), "-r", "0", "-c", "2", "-e", "5", "2001:2::2-2001:2::9"},
               "saddr,sport,classification,success,icmp_type,icmp_code,icmp_unreach_str");
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  std::set<std::string> want;
  for (const auto& row : expected(open, ports, true))
    want.insert(row.find("icmp-unreach") != std::string::npos
                    ? row + ",1,4,port unreachable"
                    : row + ",0,0,");  // udp results: no ICMP type or code, no text
  EXPECT_EQ(run.rows, want) << run.metadata;
  EXPECT_EQ(metadata_count(run.metadata, "validation_failed"), 0u) << run.metadata;
  EXPECT_EQ(metadata_count(run.metadata, "results_ipv6"), 8u * ports.size()) << run.metadata;

  // Forged: every reply and error below must fail validation. A fresh scan of closed ports
  // only, so each genuine result is the kernel's port unreachable.
  const pid_t pid = start_udp({"-p", "53,7777", "-r", "50", "-c", "2", "-s", "40000-40999", "-e",
                               "11", "2001:2::2-2001:2::3"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  uint64_t forged = 0;
  const CookieKey key = cookie_key_from_seed(11);
  for (const char* target : {"2001:2::2", "2001:2::3"}) {
    const IpAddress t = *parse_ip(target), us = *parse_ip(NetnsPair::kScannerIp6);
    const uint64_t cookie = validation_cookie(key, us, t, 7777);
    const auto our_port = static_cast<uint16_t>(40000 + (cookie >> 32) % 1000);
    // The quoted probe as we sent it, but with another flow label.
    std::vector<uint8_t> udp = {0, 0, 0, 0, 0, 8, 0, 0};
    store_be16(udp.data(), our_port);
    store_be16(udp.data() + 2, 7777);
    auto inner = ipv6_packet(NetnsPair::kScannerIp6, target, frame::kProtoUdp, udp);
    store_be32(inner.data(), 0x60000000u | ((UdpProbe::flow_label_for(cookie) + 1) & 0xfffff));
    std::vector<uint8_t> error(8 + inner.size(), 0);
    error[0] = frame::kIcmp6Unreachable;
    error[1] = 4;
    std::copy(inner.begin(), inner.end(), error.begin() + 8);
    uint8_t s6[16], d6[16];
    t.to_bytes(s6);
    us.to_bytes(d6);
    store_be16(error.data() + 2, static_cast<uint16_t>(~checksum_fold(checksum_partial(
                                     error.data(), error.size(),
                                     pseudo_header_sum6(s6, d6, frame::kProtoIcmpv6,
                                                        static_cast<uint32_t>(error.size()))))));
    pair_->send_frame_from_target(
        ipv6_packet(target, NetnsPair::kScannerIp6, frame::kProtoIcmpv6, error), 5);
    forged += 5;
    // A DNS answer with an ID that is not the cookie's, to the right port.
    const uint64_t dns_cookie = validation_cookie(key, us, t, 53);
    std::vector<uint8_t> answer = {0,    0, 0, 0, 0, 0, 0, 0, 0xde, 0xad,
                                   0x84, 0, 0, 0, 0, 0, 0, 0, 0,    0};
    store_be16(answer.data(), 53);
    store_be16(answer.data() + 2, static_cast<uint16_t>(40000 + (dns_cookie >> 32) % 1000));
    store_be16(answer.data() + 4, static_cast<uint16_t>(answer.size()));
    answer[8] = static_cast<uint8_t>(~dns_cookie);  // never the ID the probe carried
    pair_->send_frame_from_target(
        ipv6_packet(target, NetnsPair::kScannerIp6, frame::kProtoUdp, answer), 5);
    forged += 5;
  }
  ScanRun forged_run = finish(pid);
  ASSERT_EQ(forged_run.process.exit_code, 0) << forged_run.process.err;
  EXPECT_EQ(forged_run.rows.size(), 4u) << forged_run.metadata;
  for (const auto& row : forged_run.rows)
    EXPECT_NE(row.find(",icmp-unreach,0"), std::string::npos) << row;
  EXPECT_EQ(metadata_count(forged_run.metadata, "validation_failed"), forged)
      << forged_run.metadata;
}

TEST_P(UdpScan, ReportsExactlyTheOpenSetAtTopRate) { exact_set(500, "0", test_seed() + 1); }

// IPv4 + UDP from (saddr, sport) to the scanner's (198.18.0.1, dport); UDP checksum 0 (none).
std::vector<uint8_t> udp_packet(uint32_t saddr, uint16_t sport, uint16_t dport,
                                const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> p(28, 0);
  p[0] = 0x45;
  store_be16(p.data() + 2, static_cast<uint16_t>(28 + payload.size()));
  p[8] = 64;
  p[9] = frame::kProtoUdp;
  store_be32(p.data() + 12, saddr);
  store_be32(p.data() + 16, 0xc6120001);
  store_be16(p.data() + 20, sport);
  store_be16(p.data() + 22, dport);
  store_be16(p.data() + 24, static_cast<uint16_t>(8 + payload.size()));
  p.resize(28 + payload.size());
  std::copy(payload.begin(), payload.end(), p.begin() + 28);
  return p;
}

// An ICMP port unreachable from `responder` quoting a UDP datagram from us (198.18.0.1,
// our_port) to (target, target_port) with IP identification `ip_id`.
std::vector<uint8_t> icmp_error(uint32_t responder, uint32_t target, uint16_t target_port,
                                uint16_t our_port, uint16_t ip_id) {
  std::vector<uint8_t> quoted = udp_packet(0xc6120001, our_port, target_port, {});
  store_be32(quoted.data() + 12, 0xc6120001);
  store_be32(quoted.data() + 16, target);
  store_be16(quoted.data() + 4, ip_id);
  std::vector<uint8_t> p(28, 0);
  p[0] = 0x45;
  store_be16(p.data() + 2, static_cast<uint16_t>(28 + quoted.size()));
  p[8] = 64;
  p[9] = frame::kProtoIcmp;
  store_be32(p.data() + 12, responder);
  store_be32(p.data() + 16, 0xc6120001);
  p[20] = 3;
  p[21] = 3;
  p.resize(28 + quoted.size());
  std::copy(quoted.begin(), quoted.end(), p.begin() + 28);
  return p;
}

TEST_P(UdpScan, ForgedRepliesAndIcmpErrorsAreCountedNeverReported) {
  // Every port closed: the only genuine results are the target kernel's port unreachables.
  auto ports = plain_ports(38, test_seed() + 2);
  ports.push_back(53);
  ports.push_back(123);
  const pid_t pid = start_udp({"-p", port_list(ports), "-r", "100", "-c", "2", "-s", "40000-40999",
                               "-e", "11", "198.18.0.2-198.18.0.9"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  uint64_t forged = 0;
  const uint32_t target = 0xc6120002, other_target = 0xc6120005, stranger = 0xc612004d;
  std::vector<uint8_t> dns_answer(30, 0), ntp_answer(48, 0);
  dns_answer[2] = 0x84;  // a response, ID 0
  ntp_answer[0] = 0x24;  // server mode, origin timestamp 0
  for (uint32_t port = 40000; port < 41000; ++port) {
    const auto our_port = static_cast<uint16_t>(port);
    // From a probed target's DNS and NTP ports, to every one of our ports: one is right, the
    // identifier never.
    pair_->send_ip_from_target(udp_packet(target, 53, our_port, dns_answer));
    pair_->send_ip_from_target(udp_packet(other_target, 123, our_port, ntp_answer));
    // Port unreachables quoting a probe to a real target from each of our ports, with an IP
    // identification that is not the cookie's.
    pair_->send_ip_from_target(icmp_error(target, target, ports[0], our_port, 0));
    forged += 3;
    if (port % 10 == 0) {
      // From an address that was never probed, and errors about probes to it.
      pair_->send_ip_from_target(udp_packet(stranger, ports[1], our_port, {}));
      pair_->send_ip_from_target(icmp_error(stranger, stranger, ports[1], our_port, 54321));
      forged += 2;
    }
  }
  ScanRun run = finish(pid);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(run.rows, expected({}, ports));
  EXPECT_EQ(metadata_count(run.metadata, "validation_failed"), forged) << run.metadata;
  EXPECT_EQ(metadata_count(run.metadata, "results"), 8u * ports.size()) << run.metadata;
}

// Waits until a UDP socket is bound on `address:port` in the target namespace.
bool wait_bound(const NetnsPair& pair, const std::string& address, uint16_t port) {
  for (int i = 0; i < 100; ++i) {
    const std::string bound = shell_output("ip netns exec " + pair.target_ns() +
                                           " ss -Hlun 'sport = :" + std::to_string(port) + "'");
    const std::string shown =
        address.find(':') != std::string::npos ? "[" + address + "]" : address;  // as ss shows it
    if (bound.find(shown + ":" + std::to_string(port)) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

class RealUdpServers : public UdpScan {
 protected:
  // Each server in the target namespace, on one address only (198.18.0.2, or 2001:2::2),
  // on files this test wrote; its host service is never started (scripts/install-deps.sh
  // installs under a policy-rc.d).
  void start_servers(const std::string& a = "198.18.0.2") {
    const bool v6 = a.find(':') != std::string::npos;
    // The agent address is on the command line; its state goes to this test's directory.
    std::ofstream(dir_ + "/snmpd.conf") << "rocommunity public 198.18.0.0/15\n"
                                        << "rocommunity6 public 2001:2::/48\n"
                                        << "sysdescr anyscan test agent\n"
                                        << "[snmp] persistentDir " << dir_ << "/snmp\n"
                                        << "[snmp] mibdirs /nonexistent\n";
    std::ofstream(dir_ + "/chrony.conf") << "port 123\nbindaddress " << a << "\n"
                                         << "allow 198.18.0.0/15\nallow 2001:2::/48\n"
                                         << "local stratum 10\n"
                                         << "cmdport 0\npidfile " << dir_ << "/chronyd.pid\n";
    const std::vector<std::vector<std::string>> servers = {
        {"/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
         "--listen-address=" + a, "--bind-interfaces", "--port=53", "--no-resolv", "--no-hosts",
         "--pid-file=" + dir_ + "/dnsmasq.pid", "--user=nobody", "--group=nogroup"},
        {"/usr/sbin/snmpd", "-f", "-Lo", "-C", "-c", dir_ + "/snmpd.conf", "-p",
         dir_ + "/snmpd.pid", v6 ? "udp6:[" + a + "]:161" : "udp:" + a + ":161"},
        {"/usr/sbin/chronyd", "-d", "-x", "-f", dir_ + "/chrony.conf"},
        {"/usr/bin/memcached", "-U", "11211", "-p", "0", "-l", a, "-u", "nobody"},
    };
    int i = 0;
    for (const auto& argv : servers) start_server("server" + std::to_string(i++), argv);
    for (uint16_t port : {53, 161, 123, 11211})
      ASSERT_TRUE(wait_bound(*pair_, a, port)) << "no server on " << a << ":" << port << "\n"
                                               << shell_output("cat " + dir_ + "/server*.err");
  }
};

// The same servers listening on IPv6, found with the same payloads over IPv6.
TEST_P(RealUdpServers, AreFoundOverIpv6) {
  start_servers("2001:2::2");
  ScanRun run = scan_udp({"-p", "53,123,161,11211,9", "-r", "100", "-c", "2", "2001:2::2"},
                         "saddr,sport,classification,success,udp_pkt_size,data");
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  std::map<uint16_t, std::string> found;
  for (const std::string& row : run.rows) {
    std::vector<std::string> f;
    std::stringstream in(row);
    for (std::string cell; std::getline(in, cell, ',');) f.push_back(cell);
    ASSERT_GE(f.size(), 4u) << row;
    EXPECT_EQ(f[0], "2001:2::2");
    found[static_cast<uint16_t>(std::stoi(f[1]))] = f[2] + "," + f[3];
  }
  const std::map<uint16_t, std::string> want = {
      {53, "udp,1"}, {123, "udp,1"}, {161, "udp,1"}, {11211, "udp,1"}, {9, "icmp-unreach,0"}};
  EXPECT_EQ(found, want) << run.metadata << "\n" << shell_output("cat " + dir_ + "/server*.err");
  EXPECT_EQ(metadata_count(run.metadata, "validation_failed"), 0u) << run.metadata;
}

TEST_P(RealUdpServers, AreFoundWithTheDefaultPayloads) {
  start_servers();
  ScanRun run = scan_udp({"-p", "53,123,161,11211,9", "-r", "100", "-c", "2", "198.18.0.2"},
                         "saddr,sport,classification,success,udp_pkt_size,data");
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  std::map<uint16_t, std::string> found;  // port -> "classification,success"
  std::map<uint16_t, std::string> data;
  for (const std::string& row : run.rows) {
    std::vector<std::string> f;
    std::stringstream in(row);
    for (std::string cell; std::getline(in, cell, ',');) f.push_back(cell);
    ASSERT_GE(f.size(), 5u) << row;
    EXPECT_EQ(f[0], "198.18.0.2");
    found[static_cast<uint16_t>(std::stoi(f[1]))] = f[2] + "," + f[3];
    data[static_cast<uint16_t>(std::stoi(f[1]))] = f.size() > 5 ? f[5] : "";
  }
  const std::map<uint16_t, std::string> want = {
      {53, "udp,1"}, {123, "udp,1"}, {161, "udp,1"}, {11211, "udp,1"}, {9, "icmp-unreach,0"}};
  EXPECT_EQ(found, want) << run.metadata << "\n" << shell_output("cat " + dir_ + "/server*.err");
  // memcached: our request ID, then "VERSION " (56455253494f4e20) in its answer.
  EXPECT_NE(data[11211].find("56455253494f4e20"), std::string::npos) << data[11211];
  // snmpd: the sysDescr we configured ("anyscan test agent") comes back.
  EXPECT_NE(data[161].find("616e797363616e"), std::string::npos) << data[161];
  EXPECT_EQ(metadata_count(run.metadata, "validation_failed"), 0u) << run.metadata;
}

INSTANTIATE_TEST_SUITE_P(Engines, UdpScan,
                         ::testing::Values(ScanVariant{"af_packet", "", 1},
                                           ScanVariant{"af_xdp", "", 1},
                                           ScanVariant{"af_packet", "", 2},
                                           ScanVariant{"af_xdp", "", 2}),
                         [](const auto& info) { return variant_name(info.param); });
INSTANTIATE_TEST_SUITE_P(Engines, RealUdpServers,
                         ::testing::Values(ScanVariant{"af_packet", "", 1},
                                           ScanVariant{"af_xdp", "", 1}),
                         [](const auto& info) { return variant_name(info.param); });

}  // namespace
}  // namespace anyscan::testing_support
