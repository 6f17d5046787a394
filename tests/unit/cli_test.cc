// The anyscan binary as a user runs it, without root: --dryrun builds every frame and
// prints it, so order, sharding, limits and blocklists are checked on the real output.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <regex>

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
    "--dryrun --dryrun-format text -q -c 0 -i veth-none -S 198.18.0.1 -G 02:00:00:00:00:02 "
    "--source-mac 02:00:00:00:00:01 -b /dev/null ";

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

// A custom -b keeps the IANA special-purpose ranges blocked beside it (zmap's -b would drop
// them without a word); --allow-special-purpose drops them as zmap does; -b /dev/null is the
// explicit "none".
TEST(Cli, CustomBlocklistKeepsTheSpecialPurposeRanges) {
  const std::string block = temp_dir() + "/own.conf";
  std::ofstream(block) << "198.18.0.2/32\n";
  const std::string scan = kDry + "-p 80 198.18.0.0/30 -b " + block + " ";
  const CliRun kept = run(scan);
  EXPECT_EQ(kept.exit_code, 65) << kept.err;
  EXPECT_NE(kept.err.find("and the built-in IANA special-purpose ranges"), std::string::npos)
      << kept.err;
  EXPECT_NE(kept.err.find("--allow-special-purpose"), std::string::npos) << kept.err;
  const CliRun dropped = run(scan + "--allow-special-purpose");
  ASSERT_EQ(dropped.exit_code, 0) << dropped.err;
  EXPECT_EQ(frame_lines(dropped.out).size(), 3u) << "198.18.0.2 by the file alone";
  const CliRun none = run(kDry + "-p 80 198.18.0.0/30 -b /dev/null");
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(frame_lines(none.out).size(), 4u);
}

TEST(Cli, BlocklistedAddressesCostNoProbes) {
  const std::string block = temp_dir() + "/block.conf";
  std::ofstream(block) << "198.18.0.0/25 # first half\n";
  CliRun r = run(kDry + "-p 80 --allow-special-purpose -b " + block + " 198.18.0.0/24");
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
      run("--dryrun --dryrun-format text -q -b /dev/null -i veth-none -S 198.18.0.1 -G "
          "02:00:00:00:00:02 "
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

// -w as zmap 4.x takes it: alone, the targets; with targets, added to them. --restrict-to
// intersects (what -w did before), whatever gave the targets.
TEST(Cli, AllowlistAsZmapAndRestrictTo) {
  const std::string allow = temp_dir() + "/allow.conf";
  std::ofstream(allow) << "198.18.0.10-198.18.0.12\n";
  CliRun alone = run(kDry + "-p 80 -w " + allow);
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_EQ(frame_lines(alone.out).size(), 3u);
  CliRun both = run(kDry + "-p 80 -w " + allow + " 198.18.0.0/30");
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_EQ(frame_lines(both.out).size(), 4u + 3) << "the union";
  CliRun restricted = run(kDry + "-p 80 --restrict-to " + allow + " 198.18.0.0/24");
  ASSERT_EQ(restricted.exit_code, 0) << restricted.err;
  EXPECT_EQ(frame_lines(restricted.out).size(), 3u);
  CliRun nothing = run(kDry + "-p 80 --restrict-to " + allow + " 198.18.1.0/30");
  EXPECT_EQ(nothing.exit_code, 65);
}

TEST(Cli, ProbesAndMaxTargets) {
  CliRun p = run(kDry + "-P 3 -p 80 198.18.0.0/30");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(frame_lines(p.out).size(), 12u);
  CliRun n = run(kDry + "-n 5 -T 2 -p 80,81 198.18.0.0/28");
  ASSERT_EQ(n.exit_code, 0) << n.err;
  EXPECT_EQ(frame_lines(n.out).size(), 5u);
  // -n P% rounds down as zmap does: 0.0001% of 131,072 x 100 = 13.1 targets is 13; a share
  // below one target is still one.
  CliRun percent = run(kDry + "-n 0.0001% -p 1-100 198.18.0.0/15");
  ASSERT_EQ(percent.exit_code, 0) << percent.err;
  EXPECT_EQ(frame_lines(percent.out).size(), 13u);
  CliRun tiny = run(kDry + "-n 0.0001% -p 80 198.18.0.0/28");
  ASSERT_EQ(tiny.exit_code, 0) << tiny.err;
  EXPECT_EQ(frame_lines(tiny.out).size(), 1u);
  // zmap 4.x's name for -I.
  const std::string two = temp_dir() + "/two-targets.txt";
  std::ofstream(two) << "198.18.0.1\n198.18.0.7\n";
  CliRun listed = run(kDry + "-p 80 --list-of-ips-file " + two);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(frame_lines(listed.out).size(), 2u);
}

// No fixed tail: a dry run exits as soon as its frames are written, and -t N ends within
// 50 ms of N seconds even at a rate of a probe every 100 ms (wall time of the whole process,
// with room for its start under a sanitizer).
TEST(Cli, NoFixedTailAndMaxRuntimeIsKept) {
  auto wall = [](const std::string& args) {
    const auto start = std::chrono::steady_clock::now();
    const CliRun r = run(args + " > /dev/null");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // The best of a few runs: a loaded machine may delay a process's start, never shorten it.
  double dry = 1e9, one = 1e9;
  for (int i = 0; i < 3; ++i) dry = std::min(dry, wall(kDry + "-p 80 198.18.0.0/30"));
  for (int i = 0; i < 2; ++i) one = std::min(one, wall(kDry + "-r 10 -t 1 -p 80 198.18.0.0/24"));
  EXPECT_LT(dry, 0.15) << "was 0.20 s with a fixed tail";
  EXPECT_GE(one, 1.0);
  EXPECT_LT(one, 1.05 + 0.1) << "was 1.20 s";
}

// The default dry-run output is zmap 4.x's block per probe. Parsed back by a reader written
// here from zmap's format (module block, "ip { saddr | daddr | checksum }", "eth { shost |
// dhost }", 54 dashes), every value equals the same frame's bytes (the text format's hex,
// same seed, one sender thread): ports, sequence number, ICMP type/code/id/seq and every
// checksum printed as zmap's "%#04X".
struct ZmapBlock {
  std::map<std::string, std::map<std::string, std::string>> parts;  // "tcp" -> {"source": ..}
};

std::vector<ZmapBlock> parse_zmap_blocks(const std::string& out) {
  static const std::regex part(R"(^(\w+) \{ (.*) \}$)");
  std::vector<ZmapBlock> blocks(1);
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line == std::string(54, '-')) {
      blocks.emplace_back();
      continue;
    }
    std::smatch m;
    if (!std::regex_match(line, m, part)) {
      ADD_FAILURE() << "not a zmap block line: " << line;
      continue;
    }
    std::map<std::string, std::string>& fields = blocks.back().parts[m[1]];
    const std::string body = m[2];
    for (size_t at = 0; at < body.size();) {
      const size_t bar = body.find(" | ", at);
      const std::string item =
          body.substr(at, bar == std::string::npos ? std::string::npos : bar - at);
      const size_t colon = item.find(": ");
      fields[item.substr(0, colon)] = item.substr(colon + 2);
      at = bar == std::string::npos ? body.size() : bar + 3;
    }
  }
  if (blocks.back().parts.empty()) blocks.pop_back();
  return blocks;
}

std::vector<uint8_t> hex_of(const std::string& line) {
  const std::string hex = line.substr(line.find("hex=") + 4);
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

std::string zmap_hex(unsigned value) {  // printf("%#04X")
  char text[16];
  std::snprintf(text, sizeof text, "%#04X", value);
  return text;
}

TEST(Cli, DryRunPrintsZmapBlocksByDefault) {
  const std::string common =
      "--dryrun -q -c 0 -T 1 -e 7 -i veth-none -S 198.18.0.1 -G 02:00:00:00:00:02 --source-mac "
      "02:00:00:00:00:01 -b /dev/null ";
  const std::pair<std::string, std::string> modules[] = {
      {"tcp", "-p 80,443 198.18.0.0/30"},
      {"udp", "-M udp -p 53,161 198.18.0.0/30"},
      {"icmp", "-M icmp_echoscan 198.18.0.0/30"},
  };
  for (const auto& [proto, args] : modules) {
    SCOPED_TRACE(proto);
    const CliRun zmap = run(common + args);
    const CliRun text = run(common + "--dryrun-format text " + args);
    ASSERT_EQ(zmap.exit_code, 0) << zmap.err;
    const auto blocks = parse_zmap_blocks(zmap.out);
    std::vector<std::string> frames;  // every text line (udp ones included)
    std::istringstream lines(text.out);
    for (std::string line; std::getline(lines, line);)
      if (line.find(" hex=") != std::string::npos) frames.push_back(line);
    ASSERT_EQ(blocks.size(), frames.size());
    ASSERT_FALSE(blocks.empty());
    for (size_t i = 0; i < blocks.size(); ++i) {
      const auto& b = blocks[i].parts;
      const std::vector<uint8_t> f = hex_of(frames[i]);
      ASSERT_GE(f.size(), 42u);
      auto be16 = [&](size_t at) { return static_cast<unsigned>(f[at] << 8 | f[at + 1]); };
      ASSERT_EQ(b.size(), 3u) << "module, ip and eth";
      char ip[32];
      std::snprintf(ip, sizeof ip, "%u.%u.%u.%u", f[30], f[31], f[32], f[33]);
      EXPECT_EQ(b.at("ip").at("daddr"), ip);
      EXPECT_EQ(b.at("ip").at("saddr"), "198.18.0.1");
      EXPECT_EQ(b.at("ip").at("checksum"), zmap_hex(be16(24)));
      EXPECT_EQ(b.at("eth").at("shost"), "02:00:00:00:00:01");
      EXPECT_EQ(b.at("eth").at("dhost"), "02:00:00:00:00:02");
      const auto& l4 = b.at(proto);
      if (proto == "tcp") {
        EXPECT_EQ(l4.at("source"), std::to_string(be16(34)));
        EXPECT_EQ(l4.at("dest"), std::to_string(be16(36)));
        EXPECT_EQ(l4.at("seq"), std::to_string(static_cast<uint32_t>(be16(38)) << 16 | be16(40)));
        EXPECT_EQ(l4.at("checksum"), zmap_hex(be16(50)));
      } else if (proto == "udp") {
        EXPECT_EQ(l4.at("dest"), std::to_string(be16(36)));
        EXPECT_EQ(l4.at("checksum"), zmap_hex(be16(40)));
      } else {
        EXPECT_EQ(l4.at("type"), "8");
        EXPECT_EQ(l4.at("code"), "0");
        EXPECT_EQ(l4.at("checksum"), zmap_hex(be16(36)));
        EXPECT_EQ(l4.at("id"), std::to_string(be16(38)));
        EXPECT_EQ(l4.at("seq"), std::to_string(be16(40)));
      }
    }
  }
  EXPECT_EQ(zmap_hex(0x1a2b), "0X1A2B");
}

// -X/--iplayer: zmap leaves the eth line out; anyscan's text hex and pcap (LINKTYPE_RAW,
// 101) hold the IP packets; the frames are otherwise those of the Ethernet run.
TEST(Cli, IplayerDryRunHasNoEthernetHeader) {
  const std::string common =
      "--dryrun -q -c 0 -T 1 -e 7 -i veth-none -S 198.18.0.1,2001:2::1 -G 02:00:00:00:00:02 "
      "--source-mac 02:00:00:00:00:01 -b /dev/null -p 80 198.18.0.0/31 2001:2::/127 ";
  const CliRun eth = run(common + "--dryrun-format text");
  const CliRun ip = run(common + "--dryrun-format text -X");
  const CliRun zmap = run(common + "--iplayer");
  ASSERT_EQ(ip.exit_code, 0) << ip.err;
  ASSERT_EQ(zmap.exit_code, 0) << zmap.err;
  const auto eth_lines = frame_lines(eth.out), ip_lines = frame_lines(ip.out);
  ASSERT_EQ(eth_lines.size(), 4u);
  ASSERT_EQ(ip_lines.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const auto with = hex_of(eth_lines[i]), without = hex_of(ip_lines[i]);
    ASSERT_EQ(with.size(), without.size() + 14);
    EXPECT_TRUE(std::equal(without.begin(), without.end(), with.begin() + 14));
    EXPECT_TRUE(without[0] >> 4 == 4 || without[0] >> 4 == 6);
  }
  const auto blocks = parse_zmap_blocks(zmap.out);
  ASSERT_EQ(blocks.size(), 4u);
  for (const auto& block : blocks) {
    EXPECT_EQ(block.parts.size(), 2u) << "tcp and ip/ipv6, no eth";
    EXPECT_EQ(block.parts.count("eth"), 0u);
  }
  const CliRun pcap = run(common + "--dryrun-format pcap -X");
  ASSERT_EQ(pcap.exit_code, 0) << pcap.err;
  ASSERT_GE(pcap.out.size(), 24u);
  EXPECT_EQ(pcap.out.substr(20, 4), std::string("\x65\0\0\0", 4)) << "LINKTYPE_RAW";
  size_t records = 0, at = 24;
  while (at + 16 <= pcap.out.size()) {
    uint32_t length = 0;
    std::memcpy(&length, pcap.out.data() + at + 8, 4);
    const auto first = static_cast<uint8_t>(pcap.out[at + 16]);
    EXPECT_TRUE(first == 0x45 || first >> 4 == 6);
    at += 16 + length;
    ++records;
  }
  EXPECT_EQ(records, 4u);
  EXPECT_EQ(at, pcap.out.size());
}

// zmap options anyscan takes with zmap's meaning: --no-header-row, -l/-L (log lines to a
// file instead of stderr), --vpn (zmap 2.x's -X), --ignore-blocklist-errors, and the ones
// whose only zmap value is what anyscan always does; the other values refused saying why.
TEST(Cli, ZmapOptionsWithZmapsMeaning) {
  const std::string dir = temp_dir();
  const std::string scan = kDry + "-p 80 198.18.0.0/30 -o " + dir + "/out.csv ";
  CliRun plain = run(scan + "-f saddr,sport");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const std::string with_header = read_file(dir + "/out.csv");
  ASSERT_EQ(with_header.rfind("saddr,sport\n", 0), 0u) << with_header;
  CliRun bare = run(scan + "-f saddr,sport --no-header-row");
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_EQ(read_file(dir + "/out.csv"), with_header.substr(12)) << "the same rows, no header";

  CliRun logged = run(scan + "-q -v 4 -l " + dir + "/scan.log");
  ASSERT_EQ(logged.exit_code, 0) << logged.err;
  EXPECT_EQ(logged.err, "") << "log lines go to the file";
  EXPECT_NE(read_file(dir + "/scan.log").find("anyscan: info: "), std::string::npos);
  ASSERT_EQ(std::system(("mkdir -p " + dir + "/logs").c_str()), 0);
  CliRun in_dir = run(scan + "-v 4 --log-directory=" + dir + "/logs");
  ASSERT_EQ(in_dir.exit_code, 0) << in_dir.err;
  const std::string listed = anyscan::testing_support::shell_output("ls " + dir + "/logs");
  EXPECT_TRUE(
      std::regex_match(listed, std::regex("anyscan-\\d{4}-\\d\\d-\\d\\dT\\d{6}[+-]\\d{4}\\.log\n")))
      << listed;
  CliRun both = run(scan + "-l " + dir + "/a.log -L " + dir);
  EXPECT_EQ(both.exit_code, 64);
  EXPECT_NE(both.err.find("cannot be given together"), std::string::npos) << both.err;
  CliRun unwritable = run(scan + "-l " + dir + "/no/such/dir/x.log");
  EXPECT_EQ(unwritable.exit_code, 73);
  EXPECT_NE(unwritable.err.find("/no/such/dir/x.log"), std::string::npos) << unwritable.err;

  for (const char* same :
       {"--vpn", "--ignore-blocklist-errors", "--disable-syslog", "--validate-source-port=enable",
        "--dedup-method=full", "--dedup-method default"}) {
    SCOPED_TRACE(same);
    EXPECT_EQ(run(scan + same).exit_code, 0);
  }
  const CliRun vpn = run(kDry + "--dryrun-format zmap -p 80 198.18.0.1 --vpn");
  EXPECT_EQ(vpn.out.find("eth {"), std::string::npos) << "--vpn is -X";
  for (const auto& [refused, why] : std::vector<std::pair<std::string, std::string>>{
           {"--validate-source-port=disable", "always validates the source port"},
           {"--dedup-method=window", "always exact"},
           {"--dedup-method=none", "always exact"}}) {
    SCOPED_TRACE(refused);
    const CliRun r = run(scan + refused);
    EXPECT_EQ(r.exit_code, 64);
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
  }
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

// About a hundred bad inputs a new user tries: each gets one line naming the input, and a
// sysexits code; never a crash.
TEST(Cli, BadInputGetsOneLineAndSysexitsCode) {
  const std::string dir = temp_dir();
  std::ofstream(dir + "/bad-targets.txt") << "198.18.0.1\n198.18.0.0/40\n";
  std::ofstream(dir + "/payloads.conf") << "53 hex:00\n5 hex:zz\n";
  std::ofstream(dir + "/bad.conf") << "ANYSCAN_TARGET_PORTS=80\nANYSCAN_RAET=1\n";
  std::ofstream(dir + "/bad-target.conf")
      << "ANYSCAN_TARGET_PORTS=80\nANYSCAN_TARGETS=198.18.0.0/40\n";
  std::ofstream(dir + "/long-line.txt") << std::string(3000, '7');
  std::ofstream(dir + "/binary.txt") << std::string(
      "198.18.0.1\n\x7f"
      "ELF\x02\x01\x01\x00\x00",
      21);
  std::ofstream(dir + "/ok.conf") << "ANYSCAN_TARGET_PORTS=80\n";
  std::ofstream(dir + "/shards.conf")
      << "ANYSCAN_TARGET_PORTS=80\nANYSCAN_SHARDS=2\nANYSCAN_SHARD=5\nANYSCAN_TARGETS=198.18.0.1\n";
  struct Case {
    std::string args;
    int code;
    std::string fragment;
  };
  const Case cases[] = {
      {"-p 80 198.18.0.0/33", 64, "prefix length must be 0-32"},
      {"-p 99999 198.18.0.1", 64, "99999"},
      {"--rate=-5 -p 80 198.18.0.1", 64, "--rate"},
      {"-G 01:00:5e:00:00:01 -p 80 198.18.0.1", 64, "unicast MAC"},
      {"-p 80 --frobnicate 198.18.0.1", 64, "unknown option --frobnicate"},
      {"-p 80 -I " + dir + "/bad-targets.txt", 65, "bad-targets.txt:2: bad target"},
      {"-p 80 -I /nonexistent/targets.txt", 66, "/nonexistent/targets.txt"},
      {"-p 80 -I " + dir, 66, "it is a directory"},
      {"-p 80 -I /dev/zero", 65, "/dev/zero:1: a NUL byte"},
      {"-p 80 -b /dev/zero 198.18.0.1", 65, "-b: /dev/zero:1: a NUL byte"},
      {"-p 80 -w " + dir + " 198.18.0.1", 66, "it is a directory"},
      {"-p 80 -I " + dir + "/long-line.txt", 65, "long-line.txt:1: a line longer than 1024"},
      {"-p 80 -I " + dir + "/binary.txt", 65, "binary.txt:2: a NUL byte"},
      {"-C " + dir + "/bad.conf 198.18.0.1", 78, "bad.conf:2: ANYSCAN_RAET: unknown key"},
      {"-C " + dir + "/bad-target.conf", 78, "bad-target.conf:2: ANYSCAN_TARGETS:"},
      {"-C " + dir + "/ok.conf -C " + dir + "/ok.conf 198.18.0.1", 64, "given twice"},
      // A cross-option error among the file's own options is the file's, with its line.
      {"-C " + dir + "/shards.conf", 78,
       "shards.conf:3: ANYSCAN_SHARD: --shard 5 must be below --shards 2"},
      // ... but not when the command line gave one of them.
      {"-C " + dir + "/shards.conf --shards 3", 64, "--shard 5 must be below --shards 3"},
      {kDry + "-p 80 -o /nonexistent-dir/out.csv 198.18.0.1", 73, "/nonexistent-dir/out.csv"},
      {kDry + "-p 80 -m /nonexistent-dir/meta.json 198.18.0.1", 73, "/nonexistent-dir/meta.json"},
      {kDry + "-p 80 -I " + dir + "/t.txt -o " + dir + "/t.txt", 64, "is also an output file"},
      // -v 0 (fatal only) still says why the scan fails.
      {"-v 0 -p 80 198.18.0.0/33", 64, "prefix length"},
      {"-v 9 -p 80 198.18.0.1", 64, "0-5"},
      {"-v 99999999999 -p 80 198.18.0.1", 64, "0-5"},
      {"--dryrun=yes -p 80 198.18.0.1", 64, "--dryrun takes no value"},
      {"-p 80 198.18.0.1 --rate", 64, "--rate needs a value"},
      {"-p 80 198.18.0.1 --shards", 64, "--shards needs a value"},
      {"--quiet=maybe -p 80 198.18.0.1", 64, "--quiet takes no value"},
      {"-p 80 --output-filter 'sport <' 198.18.0.1", 64, "expected a value"},
      {"-p 80 --output-filter 'nosuch = 1' 198.18.0.1", 64, "unknown field 'nosuch'"},
      {"-p 80 --user-metadata '{\"a\":' 198.18.0.1", 64, "not JSON"},
      {"-p 80 -n 101% 198.18.0.1", 64, "up to 100%"},
      {"-p 80 -n 0% 198.18.0.1", 64, "above 0%"},
      {"-p 80 --cores 0-99999 198.18.0.1", 64, "core numbers"},
      {"-p 80 --probe-ttl 0 198.18.0.1", 64, "TTL 1-255"},
      {"-p 80 --output-args=x 198.18.0.1", 64,
       "--output-args is a zmap option anyscan does not have"},
      {"-M udp -p 53 --probe-args=x 198.18.0.1", 64,
       "--probe-args 'x': expected text:STRING, hex:BYTES or file:PATH"},
      {"-M udp -p 53 --probe-args=hex:abc 198.18.0.1", 64, "even number of digits"},
      {"-p 53 --probe-args=hex:00 198.18.0.1", 64,
       "--probe-args sets UDP payloads: it needs -M udp"},
      {"-M udp -p 53 --probe-args=file:/nonexistent 198.18.0.1", 66,
       "--probe-args: cannot open /nonexistent"},
      {"-M udp -p 53 --probe-payloads /nonexistent 198.18.0.1", 66,
       "--probe-payloads: cannot open"},
      {"-M udp -p 53 --probe-payloads " + dir + "/payloads.conf 198.18.0.1", 65,
       "payloads.conf:2: hex: 'zz' is not a hex byte"},
      {"-M udp -p 53 -f saddr,window 198.18.0.1", 64,
       "output field 'window' is not produced by probe module udp"},
      {"-p 80 -g 198.18.0.1", 64, "-g is a zmap option"},
      {"-p 80 --dedup-method=window 198.18.0.1", 64, "always exact"},
      {"-p 80 -f saddr,nosuch 198.18.0.1", 64, "unknown output field 'nosuch'"},
      {"-M nosuch 198.18.0.1", 64, "nosuch"},
      {"-p 80 --user '' 198.18.0.1", 64, "expected a user name"},
      {kDry + "-p 80 198.18.0.0/24 10.0.0.1 -b " + std::string(ANYSCAN_SOURCE_DIR) +
           "/etc/blocklist.conf",
       65, "-b FILE names the blocklist"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args);
    CliRun r = run(c.args);
    EXPECT_EQ(r.exit_code, c.code) << r.err;
    EXPECT_EQ(line_count(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind("anyscan: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.fragment), std::string::npos) << r.err;
  }
}

TEST(Cli, TargetsFromStandardInput) {
  CliRun r =
      anyscan::testing_support::run_shell("(printf '198.18.0.1\\n# comment\\n198.18.0.4/31\\n' | " +
                                          std::string(ANYSCAN_BINARY) + " " + kDry + "-p 80 -I -)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(frame_lines(r.out).size(), 3u);
}

TEST(Cli, ZmapSpellingsWork) {
  const std::string dir = temp_dir();
  std::ofstream(dir + "/allow.txt") << "198.18.0.0/30\n";
  CliRun aliases =
      run("-d -q -c 0 -i veth-none -S 198.18.0.1 -G 02:00:00:00:00:02 --source-mac "
          "02:00:00:00:00:01 --blacklist-file /dev/null --whitelist-file " +
          dir + "/allow.txt -p 80");
  ASSERT_EQ(aliases.exit_code, 0) << aliases.err;
  EXPECT_EQ(frame_lines(aliases.out).size(), 4u) << "the allowlist alone is the targets";
  CliRun percent = run(kDry + "-n 25% -p 80,81 198.18.0.0/28");  // 25% of 32
  ASSERT_EQ(percent.exit_code, 0) << percent.err;
  EXPECT_EQ(frame_lines(percent.out).size(), 8u);
  CliRun modules = run("--list-output-modules");
  EXPECT_EQ(modules.exit_code, 0);
  EXPECT_EQ(modules.out.rfind("csv", 0), 0u);
  EXPECT_NE(modules.out.find("\njson"), std::string::npos);
  CliRun every = run(kDry + "-f '*' -O json -o " + dir + "/all.json -p 80 198.18.0.1");
  ASSERT_EQ(every.exit_code, 0) << every.err;
  CliRun ttl = run(kDry + "--probe-ttl 7 -p 80 198.18.0.1");
  ASSERT_EQ(ttl.exit_code, 0) << ttl.err;
  EXPECT_NE(ttl.out.find(" ttl=7 "), std::string::npos) << ttl.out;
  CliRun notes = run(kDry + "--notes 'weekly run' --user-metadata '{\"team\":[1,2]}' -m " + dir +
                     "/notes.json -p 80 198.18.0.1");
  ASSERT_EQ(notes.exit_code, 0) << notes.err;
  const std::string meta = read_file(dir + "/notes.json");
  EXPECT_NE(meta.find("\"notes\":\"weekly run\""), std::string::npos) << meta;
  EXPECT_NE(meta.find("\"user_metadata\":{\"team\":[1,2]}"), std::string::npos) << meta;
}

TEST(Cli, StartLineCountsTheShardsShare) {
  CliRun r =
      run("--dryrun -c 0 -i veth-none -S 198.18.0.1 -G 02:00:00:00:00:02 --source-mac "
          "02:00:00:00:00:01 -b /dev/null --shards 4 --shard 3 -p 80 198.18.0.1-198.18.0.3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("scanning 3 addresses x 1 port = 3 targets (0 of them in shard 3/4)"),
            std::string::npos)
      << r.err;
}

// Every command of anyscan(8), EXAMPLES, as written (a dry run on no interface added, and
// the files they name made): the options, targets and blocklist they give are accepted.
TEST(Cli, ManPageExamplesWorkAsWritten) {
  const std::string page = read_file(std::string(ANYSCAN_SOURCE_DIR) + "/man/anyscan.8");
  const size_t start = page.find(".SH EXAMPLES");
  const size_t nf = page.find(".nf\n", start), fi = page.find(".fi\n", start);
  ASSERT_NE(nf, std::string::npos);
  std::istringstream lines(page.substr(nf + 4, fi - nf - 4));
  const std::string dir = temp_dir() + "/examples";
  ASSERT_EQ(
      std::system(
          ("mkdir -p " + dir + " && printf '198.18.0.9\\n' > " + dir + "/targets.txt").c_str()),
      0);
  int examples = 0;
  for (std::string line; std::getline(lines, line);) {
    std::string command;
    for (size_t i = 0; i < line.size(); ++i)
      if (!(line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '-')) command += line[i];
    command = command.substr(0, command.find(" | "));  // the dry run's frames are the output
    ASSERT_EQ(command.rfind("anyscan ", 0), 0u) << command;
    SCOPED_TRACE(command);
    CliRun r = anyscan::testing_support::run_shell(
        "cd " + dir + " && " + std::string(ANYSCAN_BINARY) + command.substr(7) +
        " --dryrun -q -c 0 -i veth-none -S 198.18.0.1 -G 02:00:00:00:00:02 --source-mac "
        "02:00:00:00:00:01 -n 10 >/dev/null");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    ++examples;
  }
  EXPECT_GE(examples, 5);
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
