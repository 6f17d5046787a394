// Real scans on a veth pair between two test-made namespaces (198.18.0.0/15 only).
// Parameterised over the I/O engine so every engine must pass the same suite.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include <fstream>

#include "support/pair_scan_test.h"
#include "support/scan_expectations.h"

namespace anyscan::testing_support {
namespace {

class EngineScan : public PairScanTest {
 protected:
  std::map<std::string, std::set<uint16_t>> random_open_set(const std::vector<uint16_t>& ports,
                                                            uint32_t seed) {
    return testing_support::random_open_set(pair_->target_addresses(), ports, seed);
  }

  std::set<std::string> expected_rows(const std::map<std::string, std::set<uint16_t>>& open,
                                      const std::vector<uint16_t>& ports) {
    return testing_support::expected_rows(pair_->target_addresses(), open, ports);
  }
};

// The exact-set scans run with one sender thread and with the default (one per queue), one
// after the other against the same listeners. Each uses its own source ports: on af_xdp the
// scanner's kernel never sees a SYN-ACK, so it sends no RST and the target keeps the first
// scan's half-open connections (retransmitting their SYN-ACKs); a second-scan SYN on the same
// 4-tuple would be answered with the old connection's SYN-ACK, which rightly fails validation.
struct ThreadChoice {
  const char* name;
  std::vector<std::string> flags;
  std::vector<std::string> with(std::vector<std::string> args) const {
    args.insert(args.end(), flags.begin(), flags.end());
    return args;
  }
};
const ThreadChoice kThreadChoices[] = {{"-T 1", {"-T", "1", "-s", "40000-49999"}},
                                       {"default threads", {"-s", "50000-59999"}}};

uint32_t test_seed() {
  static const uint32_t seed = std::random_device{}();
  return seed;
}

TEST_P(EngineScan, ReportsExactlyTheOpenSetAtLowRate) {
  const uint32_t seed = test_seed();
  SCOPED_TRACE(::testing::Message() << "random open set seed " << seed);
  const auto ports = random_ports(40, seed);
  const auto open = random_open_set(ports, seed);
  pair_->listen_on(open);
  for (const ThreadChoice& threads : kThreadChoices) {
    SCOPED_TRACE(threads.name);
    ScanRun run = scan(
        threads.with({"-p", port_list(ports), "-r", "2000", "-c", "1", "198.18.0.2-198.18.0.9"}));
    ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
    EXPECT_EQ(run.rows, expected_rows(open, ports));
    EXPECT_EQ(metadata_count(run.metadata, "sent"), 8u * 40);
    EXPECT_EQ(metadata_count(run.metadata, "validation_failed"), 0u);
    EXPECT_EQ(metadata_count(run.metadata, "not_redirected"), 0u) << run.metadata;
    EXPECT_EQ(metadata_count(run.metadata, "dropped"), 0u) << run.metadata;
    EXPECT_NE(run.metadata.find("\"engine\":\"" + GetParam().engine + "\""), std::string::npos)
        << run.metadata;
  }
}

TEST_P(EngineScan, ReportsExactlyTheOpenSetAtTopRate) {
  const uint32_t seed = test_seed() + 1;
  SCOPED_TRACE(::testing::Message() << "random open set seed " << seed);
  const auto ports = random_ports(500, seed);
  const auto open = random_open_set(ports, seed);
  pair_->listen_on(open);
  for (const ThreadChoice& threads : kThreadChoices) {
    SCOPED_TRACE(threads.name);
    ScanRun run =
        scan(threads.with({"-p", port_list(ports), "-r", "0", "-c", "2", "198.18.0.2-198.18.0.9"}));
    ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
    EXPECT_EQ(metadata_count(run.metadata, "sent"), 8u * 500);
    const auto expected = expected_rows(open, ports);
    EXPECT_EQ(run.rows.size(), expected.size()) << run.metadata;
    EXPECT_EQ(run.rows, expected);
    EXPECT_EQ(metadata_count(run.metadata, "not_redirected"), 0u) << run.metadata;
  }
}

TEST_P(EngineScan, ForgedSynAcksAreCountedNeverReported) {
  const auto ports = random_ports(40, test_seed() + 2);
  std::map<std::string, std::set<uint16_t>> open;  // everything closed: any synack is forged
  pid_t pid = start({"-p", port_list(ports), "-r", "200", "-c", "2", "-s", "40000-40999",
                     "198.18.0.2-198.18.0.9"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // SYN-ACKs from real targets and scanned ports to our source ports, with guessed acks.
  for (int i = 0; i < 100; ++i)
    pair_->send_tcp_from_target(pair_->target_addresses()[i % 8], ports[i % ports.size()],
                                static_cast<uint16_t>(40000 + i * 7), 1000 + i, 0x12345678u + i,
                                0x12, 1);
  ScanRun run = finish(pid, 60);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(run.rows, expected_rows(open, ports));
  EXPECT_EQ(metadata_count(run.metadata, "validation_failed"), 100u) << run.metadata;
}

TEST_P(EngineScan, SigtermStopsSendingAndStillWritesEveryReply) {
  const uint32_t seed = test_seed() + 3;
  const auto ports = random_ports(100, seed);
  const auto open = random_open_set(ports, seed);
  pair_->listen_on(open);
  pid_t pid = start({"-p", port_list(ports), "-r", "300", "-c", "2", "198.18.0.2-198.18.0.9"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  const auto stopped_at = std::chrono::steady_clock::now();
  ScanRun run = finish(pid, 30);
  const auto took = std::chrono::steady_clock::now() - stopped_at;
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_LT(took, std::chrono::seconds(5)) << "cooldown is 2 s";
  const uint64_t sent = metadata_count(run.metadata, "sent");
  EXPECT_GT(sent, 100u);
  EXPECT_LT(sent, 800u) << "SIGTERM must stop sending";
  EXPECT_NE(run.metadata.find("\"interrupted\":true"), std::string::npos) << run.metadata;
  // Every probe sent was answered, and every answer is in the file, and correct.
  EXPECT_EQ(run.rows.size(), sent);
  EXPECT_EQ(metadata_count(run.metadata, "results"), sent);
  const auto all = expected_rows(open, ports);
  for (const auto& row : run.rows) EXPECT_TRUE(all.count(row)) << row;
}

// What does not depend on the queue count runs on the single-queue variants only.
class SingleQueueScan : public EngineScan {};

TEST_P(SingleQueueScan, SameSeedSameProbeOrderAndSameResults) {
  const uint32_t seed = test_seed() + 4;
  const auto ports = random_ports(20, seed);
  const auto open = random_open_set(ports, seed);
  pair_->listen_on(open);
  std::vector<std::vector<std::string>> orders;
  std::vector<std::set<std::string>> results;
  for (const char* scan_seed : {"42", "42", "43"}) {
    SynCapture capture(*pair_);
    ScanRun run = scan({"-p", port_list(ports), "-r", "5000", "-c", "1", "-T", "1", "-e", scan_seed,
                        "198.18.0.2-198.18.0.9"});
    ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
    orders.push_back(capture.drain());
    results.push_back(run.rows);
  }
  ASSERT_EQ(orders[0].size(), 8u * 20);
  EXPECT_EQ(orders[0], orders[1]);
  EXPECT_NE(orders[0], orders[2]);
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0], results[2]);
  EXPECT_EQ(results[0], expected_rows(open, ports));
}

TEST_P(SingleQueueScan, EveryProbeLeavesEvenWithoutCooldown) {
  // Ring-based engines hold frames after submit: exiting at once (-c 0) must not drop them.
  SynCapture capture(*pair_);
  const auto ports = random_ports(500, test_seed() + 5);
  ScanRun run = scan({"-p", port_list(ports), "-r", "0", "-c", "0", "198.18.0.2-198.18.0.9"});
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(metadata_count(run.metadata, "sent"), 4000u);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto seen = capture.drain();
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 4000u);
}

TEST_P(SingleQueueScan, IcmpEchoScanFindsEveryHost) {
  ScanRun run = scan({"-M", "icmp_echoscan", "-r", "1000", "-c", "1", "-f",
                      "saddr,classification,success", "198.18.0.1-198.18.0.12"});
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  std::set<std::string> expected;
  for (const auto& address : pair_->target_addresses()) expected.insert(address + ",echoreply,1");
  EXPECT_EQ(run.rows, expected);
}

// The exact-set suite on 1, 2, 4 and 8 queues: replies land on every RX queue (the target
// kernel spreads them by flow hash), and every one must be captured.
std::vector<ScanVariant> every_engine_and_queue_count() {
  std::vector<ScanVariant> variants;
  // 1, 2 and 8 queues: one, the smallest several, and more queues than cores (4 adds
  // nothing the others do not cover, and a minute of CI).
  for (int queues : {1, 2, 8})
    for (const ScanVariant& v :
         {ScanVariant{"af_packet", "", queues}, ScanVariant{"af_xdp", "native", queues},
          ScanVariant{"af_xdp", "skb", queues}})
      variants.push_back(v);
  return variants;
}

INSTANTIATE_TEST_SUITE_P(Engines, EngineScan, ::testing::ValuesIn(every_engine_and_queue_count()),
                         [](const auto& info) { return variant_name(info.param); });
INSTANTIATE_TEST_SUITE_P(Engines, SingleQueueScan,
                         ::testing::Values(ScanVariant{"af_packet", "", 1},
                                           ScanVariant{"af_xdp", "", 1}),
                         [](const auto& info) { return variant_name(info.param); });

class HostFacts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    pair_ = std::make_unique<NetnsPair>(1);
    ASSERT_TRUE(pair_->ok()) << pair_->error();
    dir_ = ::testing::TempDir() + "anyscan-hostfacts-" + std::to_string(::getpid());
    ASSERT_EQ(std::system(("mkdir -p '" + dir_ + "'").c_str()), 0);
  }
  ProcessResult run(const std::vector<std::string>& args) {
    return wait_for(pair_->spawn_in_scanner(args, dir_ + "/hf.out", dir_ + "/hf.err"), 30,
                    dir_ + "/hf.out", dir_ + "/hf.err");
  }
  std::unique_ptr<NetnsPair> pair_;
  std::string dir_;
};

// Without -G the gateway MAC is the next hop's neighbour entry; a missing one is resolved by
// the kernel (ARP, neighbour solicitation) when asked; a next hop that never answers is exit
// 69 naming -G, never a broadcast or multicast fallback. Both families.
TEST_F(HostFacts, GatewayMacComesFromTheNeighbourTableOrTheKernelOrTheErrorNamesG) {
  auto args = [](const std::string& target) {
    return std::vector<std::string>{ANYSCAN_BINARY, "-q", "-b",  "/dev/null", "-p", "9",
                                    "-c",           "1",  target};
  };
  // Nobody has 198.18.0.77 or 2001:2::77 (on-link): nothing answers the kernel's requests.
  for (const std::string nobody : {"198.18.0.77", "2001:2::77"}) {
    SCOPED_TRACE(nobody);
    ProcessResult missing = run(args(nobody));
    EXPECT_EQ(missing.exit_code, 69);
    EXPECT_NE(missing.err.find("no neighbour entry for " + nobody), std::string::npos)
        << missing.err;
    EXPECT_NE(missing.err.find("pass -G/--gateway-mac"), std::string::npos) << missing.err;
    EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
  }
  // The targets exist: the kernel resolves them.
  for (const std::string target : {"198.18.0.2", "2001:2::2"}) {
    SCOPED_TRACE(target);
    // Whatever the host learnt before (a neighbour solicitation from the target side makes
    // an entry too) is forgotten: the kernel must resolve it now.
    ASSERT_EQ(std::system(("ip -n " + pair_->scanner_ns() + " neigh flush dev " +
                           pair_->scanner_if() + "; ip -n " + pair_->scanner_ns() +
                           " -6 neigh flush dev " + pair_->scanner_if())
                              .c_str()),
              0);
    ProcessResult resolved = run(args(target));
    ASSERT_EQ(resolved.exit_code, 0) << resolved.err;
    EXPECT_NE(resolved.out.find(target + ",9,rst,0"), std::string::npos) << resolved.out;
    EXPECT_NE(resolved.err.find("resolved by the kernel (" + target + ")"), std::string::npos)
        << resolved.err;
  }
  // A permanent entry is used as it is.
  ASSERT_EQ(std::system(("ip -n " + pair_->scanner_ns() + " neigh replace 198.18.0.3 lladdr " +
                         pair_->target_mac() + " dev " + pair_->scanner_if() + " nud permanent")
                            .c_str()),
            0);
  ProcessResult found = run(args("198.18.0.3"));
  ASSERT_EQ(found.exit_code, 0) << found.err;
  EXPECT_NE(found.err.find("neighbour table (198.18.0.3)"), std::string::npos) << found.err;
}

TEST_F(HostFacts, WithoutCapNetRawExits77WithTheFix) {
  ProcessResult r = run({"/usr/bin/setpriv",
                         "--reuid",
                         "nobody",
                         "--regid",
                         "nogroup",
                         "--clear-groups",
                         "--inh-caps",
                         "-all",
                         "--bounding-set",
                         "-all",
                         ANYSCAN_BINARY,
                         "-q",
                         "-b",
                         "/dev/null",
                         "-i",
                         pair_->scanner_if(),
                         "-G",
                         pair_->target_mac(),
                         "-o",
                         "/dev/null",
                         "-p",
                         "9",
                         "198.18.0.2"});
  EXPECT_EQ(r.exit_code, 77) << r.err;
  EXPECT_NE(r.err.find("CAP_NET_RAW"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace anyscan::testing_support
