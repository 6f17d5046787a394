// IPv6 scans on a veth pair between two test-made namespaces (2001:2::/48 and
// 198.18.0.0/15 only), on both engines and on 1, 2 and 4 queues: listeners on a random open
// set of several 2001:2:: addresses, every other port answered with RST by the target
// kernel; genuine replies carrying extension headers; forged replies (wrong ack, a port or
// address never probed, truncated headers, chains that cannot be walked, later fragments)
// counted, never reported; ICMPv6 echo; mixed IPv4 + IPv6; neighbour discovery and router
// advertisements still reaching the host while an af_xdp scan runs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "net/checksum.h"
#include "net/frame_layout.h"
#include "probe/validation_cookie.h"
#include "support/pair_scan_test.h"
#include "support/scan_expectations.h"
#include "support/test_frames.h"

namespace anyscan::testing_support {
namespace {

using namespace frame;

uint32_t test_seed() {
  static const uint32_t seed = std::random_device{}();
  return seed;
}

class Ipv6Scan : public PairScanTest {
 protected:
  // The reply a target would send to the probe of (target, port) from our 2001:2::1, for a
  // scan with seed `seed` and source ports `first`-`first + count - 1`.
  std::vector<uint8_t> genuine_reply(const std::string& target, uint16_t port, uint64_t seed,
                                     uint16_t first, uint16_t count, uint8_t flags,
                                     const Ipv6Chain& chain = {}, uint32_t ack_delta = 1) {
    const CookieKey key = cookie_key_from_seed(seed);
    const uint64_t cookie =
        validation_cookie(key, *parse_ip(NetnsPair::kScannerIp6), *parse_ip(target), port);
    const auto our_port = static_cast<uint16_t>(first + (cookie >> 32) % count);
    const auto ack = static_cast<uint32_t>(cookie) + ack_delta;
    return ipv6_packet(
        target, NetnsPair::kScannerIp6, kProtoTcp,
        tcp6_segment(target, NetnsPair::kScannerIp6, port, our_port, 777, ack, flags), chain);
  }
};

// -T 1 and the default threads, one after the other against the same listeners, each with
// its own source ports (see EngineScan: a half-open connection of one must not meet the
// other's SYN).
TEST_P(Ipv6Scan, ReportsExactlyTheOpenSet) {
  const uint32_t seed = test_seed();
  SCOPED_TRACE(::testing::Message() << "random open set seed " << seed);
  const auto ports = random_ports(60, seed);
  const auto open = random_open_set(pair_->target_addresses6(), ports, seed);
  pair_->listen_on(open);
  const auto want = expected_rows(pair_->target_addresses6(), open, ports);
  const std::pair<const char*, std::vector<std::string>> runs[] = {
      {"-T 1", {"-T", "1", "-s", "40000-44999"}}, {"default threads", {"-s", "50000-54999"}}};
  for (const auto& [name, flags] : runs) {
    SCOPED_TRACE(name);
    std::vector<std::string> args = {"-p", port_list(ports),     "-r", "0", "-c",
                                     "2",  "2001:2::2-2001:2::9"};
    args.insert(args.end(), flags.begin(), flags.end());
    const ScanRun run = scan(args);
    ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
    EXPECT_EQ(metadata_count(run.metadata, "sent"), 8u * ports.size());
    EXPECT_EQ(run.rows.size(), want.size()) << run.metadata;
    EXPECT_EQ(run.rows, want);
    EXPECT_EQ(metadata_count(run.metadata, "validation_failed"), 0u) << run.metadata;
    // af_xdp: the scanner's kernel never sees a SYN-ACK, so it sends no RST and the target
    // retransmits its SYN-ACK within the cooldown (a duplicate, counted once each).
    size_t open_count = 0;
    for (const auto& [address, set] : open) open_count += set.size();
    EXPECT_LE(metadata_count(run.metadata, "duplicates"),
              GetParam().engine == "af_packet" ? 0u : 2 * open_count)
        << run.metadata;
    EXPECT_EQ(metadata_count(run.metadata, "not_redirected"), 0u) << run.metadata;
    EXPECT_EQ(metadata_count(run.metadata, "dropped"), 0u) << run.metadata;
    EXPECT_EQ(metadata_count(run.metadata, "results_ipv6"), want.size()) << run.metadata;
    EXPECT_EQ(metadata_count(run.metadata, "addresses_ipv6"), 8u) << run.metadata;
  }
}

TEST_P(Ipv6Scan, ExtensionHeadersAndForgedRepliesAreHandledExactly) {
  // 2001:2::99 is probed but nobody has it: only the replies this test makes come from it.
  const uint64_t seed = 4242;
  const std::vector<uint16_t> ports = {22, 80, 443, 8080};
  const pid_t pid = start({"-p", "22,80,443,8080", "-r", "20", "-c", "2", "-e", "4242", "-s",
                           "40000-40999", "2001:2::2-2001:2::3", "2001:2::99"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const uint8_t synack = kTcpSyn | kTcpAckFlag;
  const std::string silent = "2001:2::99";
  // Genuine replies with a hop-by-hop and a destination-options header: reported once each
  // (the second copy is a duplicate).
  const Ipv6Chain hbh_dst{{kProtoHopByHop, kProtoDestinationOptions}};
  pair_->send_frame_from_target(genuine_reply(silent, 80, seed, 40000, 1000, synack, hbh_dst), 2);
  pair_->send_frame_from_target(genuine_reply(silent, 443, seed, 40000, 1000, kTcpRst | kTcpAckFlag,
                                              Ipv6Chain{{kProtoDestinationOptions}}));
  uint64_t forged = 0;
  auto forge = [&](const std::vector<uint8_t>& packet, int count = 1) {
    pair_->send_frame_from_target(packet, count);
    forged += static_cast<uint64_t>(count);
  };
  // Wrong ack, a port never probed, an address never probed (in our prefix).
  forge(genuine_reply(silent, 22, seed, 40000, 1000, synack, {}, 2), 3);
  forge(genuine_reply(silent, 9999, seed, 40000, 1000, synack), 3);
  forge(genuine_reply("2001:2::98", 80, seed, 40000, 1000, synack), 3);
  // A truncated TCP header (12 bytes of 20).
  auto truncated = genuine_reply(silent, 8080, seed, 40000, 1000, synack);
  truncated.resize(40 + 12);
  store_be16(truncated.data() + 4, 12);
  forge(truncated, 3);
  // Chains that cannot be walked: a hop-by-hop header after another header, nine
  // destination-options headers (more than the bound), a header cut short by the payload
  // length; and a later fragment.
  forge(genuine_reply(silent, 8080, seed, 40000, 1000, synack,
                      Ipv6Chain{{kProtoDestinationOptions, kProtoHopByHop}}),
        2);
  forge(genuine_reply(silent, 8080, seed, 40000, 1000, synack,
                      Ipv6Chain{std::vector<uint8_t>(9, kProtoDestinationOptions)}),
        2);
  auto cut = genuine_reply(silent, 8080, seed, 40000, 1000, synack, Ipv6Chain{{kProtoRouting}});
  store_be16(cut.data() + 4, 4);  // the payload ends inside the routing header
  cut.resize(44);
  forge(cut, 2);
  const uint64_t chains = 6;
  forge(genuine_reply(silent, 8080, seed, 40000, 1000, synack, Ipv6Chain{{kProtoFragment}, 185}),
        2);

  const ScanRun run = finish(pid);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  for (const std::string address : {"2001:2::2", "2001:2::3"})
    for (uint16_t port : ports)
      EXPECT_TRUE(run.rows.count(address + "," + std::to_string(port) + ",rst,0")) << address;
  EXPECT_TRUE(run.rows.count("2001:2::99,80,synack,1"));
  EXPECT_TRUE(run.rows.count("2001:2::99,443,rst,0"));
  EXPECT_EQ(run.rows.size(), 8u + 2) << run.metadata;
  EXPECT_EQ(metadata_count(run.metadata, "duplicates"), 1u) << run.metadata;
  // af_packet sees the later fragments; on af_xdp they go to the kernel (which reassembles).
  const uint64_t fragments = GetParam().engine == "af_packet" ? 2 : 0;
  EXPECT_EQ(metadata_count(run.metadata, "validation_failed"), forged - 2 + fragments)
      << run.metadata;
  EXPECT_EQ(metadata_count(run.metadata, "ipv6_header_chain"), chains) << run.metadata;
  EXPECT_EQ(metadata_count(run.metadata, "ipv6_non_first_fragment"), fragments) << run.metadata;
}

TEST_P(Ipv6Scan, IcmpEchoFindsExactlyTheAddressesOfBothFamilies) {
  const ScanRun run = scan({"-M", "icmp6_echoscan", "-r", "2000", "-c", "1", "-f",
                            "saddr,classification,success", "2001:2::/120", "198.18.0.0/28"});
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  std::set<std::string> expected;
  for (const auto& address : pair_->target_addresses6()) expected.insert(address + ",echoreply,1");
  for (const auto& address : pair_->target_addresses()) expected.insert(address + ",echoreply,1");
  EXPECT_EQ(run.rows, expected) << run.metadata;
  EXPECT_EQ(metadata_count(run.metadata, "sent"), 256u + 16);
  EXPECT_EQ(metadata_count(run.metadata, "validation_failed"), 0u) << run.metadata;
}

TEST_P(Ipv6Scan, MixedFamiliesInOneScanGiveBothExactSets) {
  const uint32_t seed = test_seed() + 1;
  const auto ports = random_ports(40, seed);
  auto open = random_open_set(pair_->target_addresses6(), ports, seed);
  for (const auto& [address, set] : random_open_set(pair_->target_addresses(), ports, seed + 1))
    open[address] = set;
  pair_->listen_on(open);
  auto want = expected_rows(pair_->target_addresses6(), open, ports);
  for (const auto& row : expected_rows(pair_->target_addresses(), open, ports)) want.insert(row);
  const ScanRun run = scan({"-p", port_list(ports), "-r", "0", "-c", "2", "2001:2::2-2001:2::9",
                            "198.18.0.2-198.18.0.9"});
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(run.rows, want) << run.metadata;
  EXPECT_EQ(metadata_count(run.metadata, "results_ipv6"), 8u * ports.size()) << run.metadata;
  EXPECT_EQ(metadata_count(run.metadata, "addresses_ipv4"), 8u) << run.metadata;
}

// An aliased /64 in the target namespace (a local route: its kernel answers on every address)
// beside ordinary hosts. Without the list every probed address of it "answers"; with it in
// --aliased-prefixes, at most K of them are probed and their results carry aliased = 1,
// while the ordinary hosts' results are the same either way.
TEST_P(Ipv6Scan, AliasedPrefixIsCappedAndFlagged) {
  ASSERT_TRUE(pair_->answer_everything_in("2001:2:0:a::/64"));
  std::ofstream(dir_ + "/allow6.conf") << "2001:2::/64\n2001:2:0:a::/64\n";
  std::ofstream(dir_ + "/aliased.txt") << "# aliased\n2001:2:0:a::/64\n";
  const std::vector<std::string> base = {"-p",
                                         "80,443",
                                         "-r",
                                         "0",
                                         "-c",
                                         "1",
                                         "--restrict-to",
                                         dir_ + "/allow6.conf",
                                         "-f",
                                         "saddr,sport,classification,aliased",
                                         "2001:2::2-2001:2::9",
                                         "2001:2:0:a::/120"};
  const ScanRun flood = scan(base);
  ASSERT_EQ(flood.process.exit_code, 0) << flood.process.err;
  EXPECT_EQ(flood.rows.size(), (8u + 256) * 2) << "every address of the aliased /64 answers";
  std::vector<std::string> capped = base;
  capped.insert(capped.end(),
                {"--aliased-prefixes", dir_ + "/aliased.txt", "--aliased-limit", "3"});
  const ScanRun run = scan(capped);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(metadata_count(run.metadata, "sent"), (8u + 3) * 2) << run.metadata;
  EXPECT_EQ(metadata_count(run.metadata, "aliased_capped"), 253u) << run.metadata;
  size_t aliased = 0, ordinary = 0;
  for (const std::string& row : run.rows) {
    const bool in_prefix = row.rfind("2001:2:0:a:", 0) == 0;
    EXPECT_EQ(row.substr(row.size() - 2), in_prefix ? ",1" : ",0") << row;
    (in_prefix ? aliased : ordinary) += 1;
  }
  EXPECT_EQ(aliased, 3u * 2);
  EXPECT_EQ(ordinary, 8u * 2);
  for (const std::string& row : flood.rows) {
    if (row.rfind("2001:2:0:a:", 0) != 0) {
      EXPECT_TRUE(run.rows.count(row)) << row;
    }
  }
}

// --detect-aliases beside ordinary hosts: an aliased /64 (the target kernel answers on every
// address of it), the /64 of the ordinary hosts, and a /64 where nobody answers. Detection
// probes 4 keyed-random addresses in each of the three, marks exactly the aliased one (listed
// in the metadata and kept beside the checkpoint), the scan then probes at most
// --aliased-limit targets in it, flags their results, and the ordinary hosts' results are
// those of a scan without detection. A scan killed after detection resumes with the kept
// outcome: it detects nothing again and ends with the same results.
TEST_P(Ipv6Scan, AliasDetectionMarksExactlyTheAliasedPrefix) {
  ASSERT_TRUE(pair_->answer_everything_in("2001:2:0:a::/64"));
  std::ofstream(dir_ + "/allow6.conf") << "2001:2::/64\n2001:2:0:a::/64\n2001:2:0:b::/64\n";
  const std::vector<std::string> base = {"-p",
                                         "80,443",
                                         "-c",
                                         "1",
                                         "--restrict-to",
                                         dir_ + "/allow6.conf",
                                         "-f",
                                         "saddr,sport,classification,aliased",
                                         "2001:2::2-2001:2::9",
                                         "2001:2:0:a::/120",
                                         "2001:2:0:b::1-2001:2:0:b::4"};
  std::vector<std::string> plain = base;
  plain.insert(plain.end(), {"-r", "0"});
  const ScanRun flood = scan(plain);
  ASSERT_EQ(flood.process.exit_code, 0) << flood.process.err;
  ASSERT_EQ(flood.rows.size(), (8u + 256) * 2);

  std::vector<std::string> detecting = plain;
  detecting.insert(detecting.end(), {"--detect-aliases", "4", "--aliased-limit", "3"});
  const ScanRun run = scan(detecting);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_NE(run.metadata.find("\"probed\":12,"), std::string::npos) << run.metadata;
  EXPECT_NE(run.metadata.find("\"aliased\":[\"2001:2:0:a::/64\"]"), std::string::npos)
      << run.metadata;
  EXPECT_EQ(metadata_count(run.metadata, "sent"), (8u + 3 + 4) * 2) << run.metadata;
  EXPECT_EQ(metadata_count(run.metadata, "capped"), 253u * 2) << run.metadata;
  auto expect_capped_rows = [&](const std::set<std::string>& rows) {
    size_t aliased = 0;
    for (const std::string& row : rows) {
      const bool in_prefix = row.rfind("2001:2:0:a:", 0) == 0;
      EXPECT_EQ(row.substr(row.size() - 2), in_prefix ? ",1" : ",0") << row;
      aliased += in_prefix;
    }
    EXPECT_EQ(aliased, 3u * 2);
    for (const std::string& row : flood.rows) {
      if (row.rfind("2001:2:0:a:", 0) != 0) {
        EXPECT_TRUE(rows.count(row)) << row;
      }
    }
    EXPECT_EQ(rows.size(), (8u + 3) * 2);
  };
  expect_capped_rows(run.rows);

  // Killed once the outcome is kept and the (slow) scan is under way, then resumed.
  std::vector<std::string> slow = base;
  const std::string checkpoint = dir_ + "/scan.ckpt";
  slow.insert(slow.end(), {"-r", "10", "--detect-aliases", "4", "--aliased-limit", "3",
                           "--checkpoint-file", checkpoint});
  const pid_t pid = start(slow);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (read_file(checkpoint + ".aliases").find("# end\n") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  ::kill(pid, SIGKILL);
  (void)finish(pid);
  EXPECT_EQ(
      read_file(checkpoint + ".aliases").substr(read_file(checkpoint + ".aliases").find('\n') + 1),
      "2001:2:0:a::/64\n# end\n");
  std::vector<std::string> resumed = slow;
  resumed.insert(resumed.end(), {"--resume", "-r", "0"});
  const ScanRun rest = scan(resumed);
  ASSERT_EQ(rest.process.exit_code, 0) << rest.process.err;
  EXPECT_NE(rest.process.err.find("aliased prefixes kept in"), std::string::npos)
      << rest.process.err;
  EXPECT_NE(rest.metadata.find("\"probed\":0,"), std::string::npos) << rest.metadata;
  expect_capped_rows(rest.rows);
}

std::vector<ScanVariant> engines_and_queues() {
  std::vector<ScanVariant> variants;
  for (int queues : {1, 2, 4})
    for (const char* engine : {"af_packet", "af_xdp"}) variants.push_back({engine, "", queues});
  return variants;
}
INSTANTIATE_TEST_SUITE_P(Engines, Ipv6Scan, ::testing::ValuesIn(engines_and_queues()),
                         [](const auto& info) { return variant_name(info.param); });

// While an af_xdp scan of IPv6 targets runs, the host's own IPv6 keeps working: neighbour
// discovery (a ping resolves and keeps its neighbour entry REACHABLE) and router
// advertisements (one with a prefix but no default route, sent by the target side, gives
// the scanner's host a SLAAC address in it).
class Ipv6HostTraffic : public PairScanTest {};

TEST_P(Ipv6HostTraffic, NeighbourDiscoveryAndRouterAdvertisementsReachTheHost) {
  const pid_t pid = start({"-p", "1-2000", "-r", "2000", "-c", "1", "2001:2::2-2001:2::3"});
  auto attached = [&] {
    return shell_output("ip -n " + pair_->scanner_ns() + " -d link show dev " + pair_->scanner_if())
               .find("prog/xdp") != std::string::npos;
  };
  for (int i = 0; i < 100 && !attached(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(attached());
  const std::string ns = "ip netns exec " + pair_->scanner_ns() + " ";
  // No entry yet: the ping's neighbour solicitation and the target's advertisement go
  // through the XDP program's pass path.
  ASSERT_EQ(std::system((ns + "ip -6 neigh flush dev " + pair_->scanner_if()).c_str()), 0);
  const std::string ping = shell_output(ns + "ping -6 -c 5 -i 0.2 -W 1 2001:2::3 2>&1");
  EXPECT_NE(ping.find(" 0% packet loss"), std::string::npos) << ping;
  const std::string neighbour = shell_output(ns + "ip -6 neigh show 2001:2::3");
  EXPECT_NE(neighbour.find("REACHABLE"), std::string::npos) << neighbour;

  // A router advertisement from the target's link-local address: prefix 2001:2:0:77::/64,
  // on-link and autonomous, router lifetime 0 (no default route).
  const std::string link_local =
      shell_output("ip -n " + pair_->target_ns() + " -6 -o addr show dev " + pair_->target_if() +
                   " scope link | awk '{print $4}' | cut -d/ -f1");
  ASSERT_FALSE(link_local.empty());
  std::vector<uint8_t> ra = {134, 0, 0,  0,    64, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
                             3,   4, 64, 0xc0, 0,  0, 1, 44, 0, 0, 1, 44, 0, 0, 0, 0};
  uint8_t prefix[16];
  parse_ip("2001:2:0:77::")->to_bytes(prefix);
  ra.insert(ra.end(), prefix, prefix + 16);
  std::string source = link_local;
  while (!source.empty() && (source.back() == '\n' || source.back() == ' ')) source.pop_back();
  uint8_t s[16], d[16];
  parse_ip(source)->to_bytes(s);
  parse_ip("ff02::1")->to_bytes(d);
  const uint32_t pseudo = pseudo_header_sum6(s, d, kProtoIcmpv6, static_cast<uint32_t>(ra.size()));
  store_be16(ra.data() + 2,
             static_cast<uint16_t>(~checksum_fold(checksum_partial(ra.data(), ra.size(), pseudo))));
  auto packet = ipv6_packet(source, "ff02::1", kProtoIcmpv6, ra);
  packet[7] = 255;  // RFC 4861: hop limit 255 or the host drops it
  pair_->send_frame_from_target(packet);
  std::string addresses;
  for (int i = 0; i < 50; ++i) {
    addresses = shell_output(ns + "ip -6 -o addr show dev " + pair_->scanner_if());
    if (addresses.find("2001:2:0:77:") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(addresses.find("2001:2:0:77:"), std::string::npos) << addresses;
  EXPECT_EQ(shell_output(ns + "ip -6 route show default"), "") << "no default route, ever";
  EXPECT_TRUE(attached()) << "the scan should still be running";
  const ScanRun run = finish(pid);
  EXPECT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(run.rows.size(), 2u * 2000) << run.metadata;
}

INSTANTIATE_TEST_SUITE_P(Engines, Ipv6HostTraffic, ::testing::Values(ScanVariant{"af_xdp", "", 2}),
                         [](const auto& info) { return variant_name(info.param); });

}  // namespace
}  // namespace anyscan::testing_support
