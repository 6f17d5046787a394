// -X/--iplayer: probes as IP packets on a cooked AF_PACKET socket. On a real L3 interface
// (two tun devices between the test's namespaces, relayed by the test, which sees every
// packet: no link-layer header, as on WireGuard or ipip) and, cooked, on a veth (Ethernet,
// the kernel writing the header). 198.18.0.0/15 and 2001:2::/48 only.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <random>

#include "support/pair_scan_test.h"
#include "support/scan_expectations.h"

namespace anyscan::testing_support {
namespace {

class IpLayer : public PairScanTest {};

// Every address of both families the target namespace answers on: the pair's 8 + 8 and an
// AnyIP /25 (but its last) and /120 behind them.
std::vector<std::string> all_targets(const NetnsPair& pair) {
  std::vector<std::string> out = pair.target_addresses();
  // Not .255: the target takes it for its /24's broadcast address.
  for (int i = 128; i < 255; ++i) out.push_back("198.18.0." + std::to_string(i));
  const auto six = pair.target_addresses6();
  out.insert(out.end(), six.begin(), six.end());
  char text[48];
  for (int i = 0x100; i < 0x200; ++i) {
    std::snprintf(text, sizeof text, "2001:2::%x", i);
    out.push_back(text);
  }
  return out;
}

TEST_P(IpLayer, FindsExactlyTheOpenSetAndCountsForgedReplies) {
  const bool tun = GetParam().link == PairLink::kTun;
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "random open set seed " << seed);
  ASSERT_TRUE(pair_->answer_everything_in("198.18.0.128/25"));
  ASSERT_TRUE(pair_->answer_everything_in("2001:2::100/120"));
  rlimit files{};  // a listener per open pair: a thousand and more
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);
  const auto targets = all_targets(*pair_);
  const auto ports = random_ports(8, seed);
  const auto open = random_open_set(targets, ports, seed);
  pair_->listen_on(open);
  constexpr uint64_t kForged = 100;
  if (tun) pair_->forge_replies(kForged);

  // On the tun pair -X is implied (the interface has no link-layer header); on the veth it
  // is asked for.
  std::vector<std::string> args = {"-p", port_list(ports), "-r", "20000", "-c", "2"};
  if (!tun) args.push_back("-X");
  args.insert(args.end(), targets.begin(), targets.end());
  const ScanRun run = scan(args);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  const uint64_t probes = targets.size() * ports.size();
  const auto expected = expected_rows(targets, open, ports);
  std::string missing, extra;
  for (const auto& row : expected)
    if (!run.rows.count(row)) missing += row + " ";
  for (const auto& row : run.rows)
    if (!expected.count(row)) extra += row + " ";
  EXPECT_EQ(run.rows.size(), expected.size());
  EXPECT_EQ(missing, "");
  EXPECT_EQ(extra, "");
  EXPECT_EQ(metadata_count(run.metadata, "sent"), probes);
  EXPECT_NE(run.metadata.find("\"link\":\"ip\""), std::string::npos) << run.metadata;
  if (tun) {
    EXPECT_NE(run.process.err.find("has no link-layer header: sending IP packets"),
              std::string::npos)
        << run.process.err;
    const RelayCounts relayed = pair_->relay_counts();
    EXPECT_EQ(relayed.syns, probes) << "every probe crossed the L3 link once";
    EXPECT_EQ(relayed.forged, kForged);
    // Each forged reply counted and none reported; so is each other TCP segment the relay
    // passed (the target's challenge ACKs to the RSTs the scanner's kernel sent for forged
    // SYN-ACKs): exactly what crossed the link, counted on the far side of it.
    EXPECT_EQ(metadata_count(run.metadata, "validation_failed"),
              kForged + relayed.to_scanner_other_tcp)
        << relayed.to_scanner_other_tcp << " other TCP segments";
    EXPECT_EQ(run.metadata.find("gateway_mac"), std::string::npos) << "no MACs on an L3 link";

    // af_xdp cannot: exit 69 (the launcher then runs af_packet), saying why.
    const ScanRun refused = scan({"--io-engine", "af_xdp", "-p", "80", "198.18.0.2"});
    EXPECT_EQ(refused.process.exit_code, 69) << refused.process.err;
    EXPECT_NE(refused.process.err.find("af_xdp sends and receives Ethernet frames only"),
              std::string::npos)
        << refused.process.err;
  } else {
    EXPECT_EQ(metadata_count(run.metadata, "validation_failed"), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Links, IpLayer,
                         ::testing::Values(ScanVariant{"af_packet", "", 1, PairLink::kTun},
                                           ScanVariant{"af_packet", "", 1, PairLink::kVeth}),
                         [](const auto& info) { return variant_name(info.param); });

}  // namespace
}  // namespace anyscan::testing_support
