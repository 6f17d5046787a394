// The anyscan binary as a user runs it, without root: --dryrun builds every frame and
// prints it, so order, sharding, limits and blocklists are checked on the real output.
#include <gtest/gtest.h>

#include <chrono>

#include <sys/wait.h>
#include <unistd.h>
#include "support/test_shell.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using anyscan::testing_support::read_file;
using CliRun = anyscan::testing_support::ShellResult;

std::string temp_dir() {
  static const std::string dir = anyscan::testing_support::process_temp_dir("anyscan-cli-");
  return dir;
}

CliRun run(const std::string& args) {
  return anyscan::testing_support::run_shell(std::string(ANYSCAN_BINARY) + " " + args);
}

// Everything a dry run needs given on the command line: no interface, no root.
const std::string kDry =
    "--dryrun -q -c 0 -i veth-none -S 198.18.0.1 -G 02:00:00:00:00:02 --source-mac "
    "02:00:00:00:00:01 -b /dev/null ";

std::vector<std::string> frame_lines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("tcp ", 0) == 0 || line.rfind("icmp ", 0) == 0) lines.push_back(line);
  return lines;
}

// "tcp 198.18.0.1:44290 > 198.18.0.5:80 ..." -> "198.18.0.5:80"
std::string target_of(const std::string& line) {
  const size_t gt = line.find("> ");
  return line.substr(gt + 2, line.find(' ', gt + 2) - gt - 2);
}

int line_count(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST(Cli, SameSeedSameFramesInSameOrder) {
  CliRun a = run(kDry + "-T 1 -e 77 -p 22,80,443 198.18.0.0/26");
  CliRun b = run(kDry + "-T 1 -e 77 -p 22,80,443 198.18.0.0/26");
  CliRun c = run(kDry + "-T 1 -e 78 -p 22,80,443 198.18.0.0/26");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto fa = frame_lines(a.out), fb = frame_lines(b.out), fc = frame_lines(c.out);
  ASSERT_EQ(fa.size(), 64u * 3);
  EXPECT_EQ(fa, fb);
  EXPECT_NE(fa, fc);
  std::set<std::string> ta, tc;
  for (const auto& l : fa) ta.insert(target_of(l));
  for (const auto& l : fc) tc.insert(target_of(l));
  EXPECT_EQ(ta.size(), 64u * 3) << "every (address, port) exactly once";
  EXPECT_EQ(ta, tc);
}

TEST(Cli, ShardsSplitTheScanDisjointlyAndCompletely) {
  std::set<std::string> all;
  size_t total = 0;
  for (int shard = 0; shard < 3; ++shard) {
    CliRun r = run(kDry + "-T 2 -e 5 --shards 3 --shard " + std::to_string(shard) +
                   " -p 1-10 198.18.0.0/27");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& l : frame_lines(r.out)) all.insert(target_of(l));
    total += frame_lines(r.out).size();
  }
  EXPECT_EQ(total, 320u);
  EXPECT_EQ(all.size(), 320u);
}

TEST(Cli, BlocklistedAddressesCostNoProbes) {
  const std::string block = temp_dir() + "/block.conf";
  std::ofstream(block) << "198.18.0.0/25 # first half\n";
  CliRun r = run(kDry + "-p 80 -b " + block + " 198.18.0.0/24");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto frames = frame_lines(r.out);
  EXPECT_EQ(frames.size(), 128u);
  for (const auto& l : frames) EXPECT_GE(std::stoi(target_of(l).substr(9)), 128) << l;
  EXPECT_NE(r.err.find("128 of 256 target addresses excluded"), std::string::npos);
}

// Nothing is sent in a dry run, so nothing can answer: it does not wait the (default 8 s)
// cooldown.
TEST(Cli, DryRunSkipsTheCooldown) {
  const auto started = std::chrono::steady_clock::now();
  CliRun r =
      run("--dryrun -q -b /dev/null -i veth-none -S 198.18.0.1 -G 02:00:00:00:00:02 "
          "--source-mac 02:00:00:00:00:01 -p 80 198.18.0.0/30");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(frame_lines(r.out).size(), 4u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
}

TEST(Cli, DefaultBlocklistIsEnforced) {
  // No -b: the benchmarking range is on the IANA list, so nothing is left to scan.
  CliRun r =
      run("--dryrun -q -i veth-none -S 198.18.0.1 -G 02:00:00:00:00:02 --source-mac "
          "02:00:00:00:00:01 -p 80 198.18.0.0/24 10.0.0.1");
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("excluded by the blocklist"), std::string::npos) << r.err;
  EXPECT_EQ(frame_lines(r.out).size(), 0u);
}

TEST(Cli, AllowlistLimitsTargets) {
  const std::string allow = temp_dir() + "/allow.conf";
  std::ofstream(allow) << "198.18.0.10-198.18.0.12\n";
  CliRun r = run(kDry + "-p 80 -w " + allow + " 198.18.0.0/24");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(frame_lines(r.out).size(), 3u);
}

TEST(Cli, ProbesAndMaxTargets) {
  CliRun p = run(kDry + "-P 3 -p 80 198.18.0.0/30");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(frame_lines(p.out).size(), 12u);
  CliRun n = run(kDry + "-n 5 -T 2 -p 80,81 198.18.0.0/28");
  ASSERT_EQ(n.exit_code, 0) << n.err;
  EXPECT_EQ(frame_lines(n.out).size(), 5u);
}

TEST(Cli, IcmpModuleAndPcapOutput) {
  CliRun icmp = run(kDry + "-M icmp_echoscan 198.18.0.0/29");
  ASSERT_EQ(icmp.exit_code, 0) << icmp.err;
  EXPECT_EQ(frame_lines(icmp.out).size(), 8u);
  CliRun pcap = run(kDry + "--dryrun-format pcap -p 80 198.18.0.0/30");
  ASSERT_EQ(pcap.exit_code, 0) << pcap.err;
  ASSERT_EQ(pcap.out.size(), 24u + 4 * (16 + 58));
  EXPECT_EQ(pcap.out.substr(0, 4), std::string("\xd4\xc3\xb2\xa1", 4));
}

TEST(Cli, MetadataAndTargetFile) {
  const std::string dir = temp_dir();
  std::ofstream(dir + "/targets.txt") << "# list\n198.18.0.1\n198.18.0.8/30\n";
  CliRun r = run(kDry + "-p 80 -I " + dir + "/targets.txt -m " + dir + "/meta.json -e 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(frame_lines(r.out).size(), 5u);
  const std::string meta = read_file(dir + "/meta.json");
  EXPECT_NE(meta.find("\"sent\":5,"), std::string::npos) << meta;
  EXPECT_NE(meta.find("\"seed\":3,"), std::string::npos) << meta;
  EXPECT_NE(meta.find("\"engine\":\"dryrun\""), std::string::npos) << meta;
  EXPECT_NE(meta.find("\"validation_failed\":0"), std::string::npos) << meta;
}

TEST(Cli, BadInputGetsOneLineAndSysexitsCode) {
  const std::string dir = temp_dir();
  std::ofstream(dir + "/bad-targets.txt") << "198.18.0.1\n198.18.0.0/40\n";
  std::ofstream(dir + "/bad.conf") << "ANYSCAN_TARGET_PORTS=80\nANYSCAN_RAET=1\n";
  const std::pair<std::string, int> cases[] = {
      {"-p 80 198.18.0.0/33", 64},
      {"-p 99999 198.18.0.1", 64},
      {"--rate=-5 -p 80 198.18.0.1", 64},
      {"-G 01:00:5e:00:00:01 -p 80 198.18.0.1", 64},
      {"-p 80 --frobnicate 198.18.0.1", 64},
      {"-p 80 -I " + dir + "/bad-targets.txt", 65},
      {"-p 80 -I /nonexistent/targets.txt", 66},
      {"-C " + dir + "/bad.conf 198.18.0.1", 78},
      {kDry + "-p 80 -o /nonexistent-dir/out.csv 198.18.0.1", 73},
      {kDry + "-p 80 -m /nonexistent-dir/meta.json 198.18.0.1", 73},
      // -v 0 (fatal only) still says why the scan fails.
      {"-v 0 -p 80 198.18.0.0/33", 64},
      {"--dryrun=yes -p 80 198.18.0.1", 64},
  };
  for (const auto& [args, code] : cases) {
    SCOPED_TRACE(args);
    CliRun r = run(args);
    EXPECT_EQ(r.exit_code, code);
    EXPECT_EQ(line_count(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind("anyscan: error: ", 0), 0u) << r.err;
  }
}

TEST(Cli, HelpAndVersion) {
  CliRun help = run("--help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag :
       {"--target-ports", "--rate", "--bandwidth", "--seed", "--shards", "--dryrun", "--config",
        "--io-engine", "--xdp-mode", "--cooldown-time", "--metadata-file"})
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  CliRun version = run("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("anyscan ", 0), 0u);
}

}  // namespace
