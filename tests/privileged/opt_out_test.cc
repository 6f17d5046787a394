// Live opt-out: SIGHUP during a scan reads the blocklist again. The addresses it now holds
// get no probe from the moment the reload is in effect (counted at the target's side), no
// result (neither those answered after it nor those written before it), and the rest of the
// scan is exact. A broken list is refused and the one in effect stays. 198.18.0.0/15 only.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "support/pair_scan_test.h"
#include "support/scan_expectations.h"
#include "support/test_shell.h"

namespace anyscan::testing_support {
namespace {

class OptOut : public PairScanTest {
 protected:
  // Waits up to 20 s for `text` in the scanner's stderr.
  bool wait_for_log(const std::string& text) const {
    for (int i = 0; i < 2000; ++i) {
      if (read_file(dir_ + "/stderr").find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

// SYNs captured to one of `addresses`.
size_t syns_to(const std::vector<std::string>& syns, const std::set<std::string>& addresses) {
  size_t n = 0;
  for (const std::string& s : syns) n += addresses.count(s.substr(0, s.find(':')));
  return n;
}

TEST_P(OptOut, SighupExcludesHalfTheTargetsMidScan) {
  const uint32_t seed = 17;
  const auto ports = random_ports(600, seed);
  const auto addresses = pair_->target_addresses();  // 8
  const auto open = random_open_set(addresses, ports, seed);
  pair_->listen_on(open);
  std::set<std::string> blocked, kept;
  for (size_t i = 0; i < addresses.size(); ++i) (i % 2 ? blocked : kept).insert(addresses[i]);
  const std::string list = dir_ + "/blocklist.conf";
  std::ofstream(list) << "# nothing blocked yet\n";
  SynCapture capture(*pair_);
  std::vector<std::string> syns;
  // 4,800 probes at 1,000/s.
  const pid_t pid = start({"-p", port_list(ports), "-r", "1000", "-c", "2", "-s", "40000-40999",
                           "-b", list, "--allow-special-purpose", "198.18.0.2-198.18.0.9"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  // A broken list first: refused whole, the empty one stays in effect.
  std::ofstream(list) << "# opt-out requests\n" << *blocked.begin() << "\nnot-an-address\n";
  ::kill(pid, SIGHUP);
  ASSERT_TRUE(wait_for_log("blocklist reload refused")) << read_file(dir_ + "/stderr");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Then the real one: half the addresses.
  {
    std::ofstream out(list);
    out << "# opt-out requests\n";
    for (const std::string& a : blocked) out << a << "/32\n";
  }
  ::kill(pid, SIGHUP);
  ASSERT_TRUE(wait_for_log("in effect in every sender")) << read_file(dir_ + "/stderr");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // what is on the wire lands
  for (auto& s : capture.drain()) syns.push_back(std::move(s));
  const size_t before = syns_to(syns, blocked);
  const ScanRun run = finish(pid, 60);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  for (auto& s : capture.drain()) syns.push_back(std::move(s));
  const size_t after = syns_to(syns, blocked);
  const size_t blocked_targets = blocked.size() * ports.size();

  // The reload came mid-scan (some blocked targets probed before it, not all), and after it
  // no probe reached a blocked address.
  EXPECT_GT(before, 0u);
  EXPECT_LT(before, blocked_targets / 2) << "the reload came too late to show anything";
  EXPECT_EQ(after, before) << "probes to opted-out addresses after the reload was in effect";
  // Every other target probed, once.
  EXPECT_EQ(syns_to(syns, kept), kept.size() * ports.size());

  // No result for a blocked address, also not for those answered before the reload; the
  // rest exactly as the open set says.
  std::vector<std::string> kept_list(kept.begin(), kept.end());
  std::map<std::string, std::set<uint16_t>> kept_open;
  for (const auto& a : kept) kept_open[a] = open.count(a) ? open.at(a) : std::set<uint16_t>{};
  EXPECT_EQ(run.rows, expected_rows(kept_list, kept_open, ports));
  const std::string results = read_file(dir_ + "/results.csv");
  for (const auto& a : blocked) EXPECT_EQ(results.find(a + ","), std::string::npos) << a;

  // The counts: every target done, the blocked ones not probed counted as opted out, the
  // answers of those probed counted as withdrawn (one each: the dedup comes first).
  const std::string& m = run.metadata;
  EXPECT_EQ(metadata_count(m, "targets_probed"), addresses.size() * ports.size());
  EXPECT_EQ(metadata_count(m, "opted_out"), blocked_targets - before);
  EXPECT_EQ(metadata_count(m, "sent"), kept.size() * ports.size() + before);
  EXPECT_EQ(metadata_count(m, "withdrawn"), before);
  EXPECT_EQ(metadata_count(m, "results"), run.rows.size());
  EXPECT_NE(m.find("\"outcome\":\"refused: "), std::string::npos) << m;
  EXPECT_NE(m.find("not-an-address"), std::string::npos) << "the refusal names the line";
  EXPECT_NE(m.find("\"outcome\":\"in effect\",\"addresses_excluded\":4"), std::string::npos) << m;
  EXPECT_NE(m.find("\"opt_out_purge\":\"removed "), std::string::npos) << m;
  EXPECT_NE(run.process.err.find("4 of this scan's 8 addresses now excluded"), std::string::npos)
      << run.process.err;
  // Nothing left beside the results.
  EXPECT_EQ(shell_output("ls '" + dir_ + "' | grep -c tmp || true"), "0\n");
}

// A checkpointed scan SIGKILLed after a reload, and the list changed again while it is
// down: the resume plans with the list the scan started with (kept beside the checkpoint,
// so positions are what they were), applies today's list from its first probe, and ends
// with exactly the results of the addresses no list excluded.
TEST_P(OptOut, ResumeAfterAKillKeepsTheOptOutAndAppliesTheNewerList) {
  const uint32_t seed = 23;
  const auto ports = random_ports(600, seed);
  const auto addresses = pair_->target_addresses();
  const auto open = random_open_set(addresses, ports, seed);
  pair_->listen_on(open);
  const std::string list = dir_ + "/blocklist.conf";
  std::ofstream(list) << "\n";
  const std::vector<std::string> args = {"-p",
                                         port_list(ports),
                                         "-r",
                                         "1000",
                                         "-c",
                                         "2",
                                         "-s",
                                         "40000-40999",
                                         "-b",
                                         list,
                                         "--allow-special-purpose",
                                         "--checkpoint-file",
                                         dir_ + "/scan.checkpoint",
                                         "198.18.0.2-198.18.0.9"};
  SynCapture capture(*pair_);
  std::vector<std::string> syns;
  const pid_t pid = start(args);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const std::set<std::string> first_block = {addresses[1], addresses[3]};
  std::ofstream(list) << addresses[1] << "\n" << addresses[3] << "\n";
  ::kill(pid, SIGHUP);
  ASSERT_TRUE(wait_for_log("in effect in every sender")) << read_file(dir_ + "/stderr");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (auto& s : capture.drain()) syns.push_back(std::move(s));
  const size_t first_before = syns_to(syns, first_block);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));  // more checkpoints
  ::kill(pid, SIGKILL);
  const ScanRun killed = finish(pid, 30);
  ASSERT_EQ(killed.process.exit_code, 128 + SIGKILL) << killed.process.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (auto& s : capture.drain()) syns.push_back(std::move(s));
  EXPECT_EQ(syns_to(syns, first_block), first_before) << "after the reload, before the kill";
  // While it is down, one more address opts out; it had probes and results already.
  const std::string late = addresses[6];
  const size_t late_before = syns_to(syns, {late});
  EXPECT_GT(late_before, 0u);
  std::ofstream(list) << addresses[1] << "\n" << addresses[3] << "\n" << late << "\n";
  std::vector<std::string> resumed_args = args;
  resumed_args.push_back("--resume");
  const ScanRun run = scan(resumed_args, 60);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_NE(run.process.err.find("changed since the scan started: 3 of this scan's addresses"),
            std::string::npos)
      << run.process.err;
  for (auto& s : capture.drain()) syns.push_back(std::move(s));
  EXPECT_EQ(syns_to(syns, first_block), first_before) << "the resume probed opted-out addresses";
  EXPECT_EQ(syns_to(syns, {late}), late_before) << "the resume probed the late opt-out";

  std::set<std::string> blocked = first_block;
  blocked.insert(late);
  std::vector<std::string> kept;
  std::map<std::string, std::set<uint16_t>> kept_open;
  for (const auto& a : addresses)
    if (!blocked.count(a)) {
      kept.push_back(a);
      kept_open[a] = open.count(a) ? open.at(a) : std::set<uint16_t>{};
    }
  EXPECT_EQ(run.rows, expected_rows(kept, kept_open, ports));
  const std::string results = read_file(dir_ + "/results.csv");
  for (const auto& a : blocked) EXPECT_EQ(results.find(a + ","), std::string::npos) << a;
  EXPECT_EQ(metadata_count(run.metadata, "results"), run.rows.size());
  EXPECT_EQ(metadata_count(run.metadata, "targets_probed"), addresses.size() * ports.size());
}

INSTANTIATE_TEST_SUITE_P(Engines, OptOut,
                         ::testing::Values(ScanVariant{"af_packet", "", 2},
                                           ScanVariant{"af_xdp", "", 2}),
                         [](const auto& info) { return variant_name(info.param); });

}  // namespace
}  // namespace anyscan::testing_support
