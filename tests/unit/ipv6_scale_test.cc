// IPv6 at scale without root: hitlists read by content (plain, xz, gzip) and streamed;
// prefix windows (whole /LEN sub-prefixes as targets, each interface-identifier strategy,
// blocklists exact per window); and dry runs that prove what a scan would probe: a synthetic
// hitlist of 300,000 lines probed once per address and port across 4 shards, and a /40 at
// /64 giving exactly 2^24 targets, each in its own /64.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "support/test_shell.h"
#include "target/aliased_prefixes.h"
#include "target/prefix_windows.h"
#include "target/target_parser.h"
#include "target/text_decoder.h"

namespace anyscan {
namespace {

using testing_support::process_temp_dir;
using testing_support::run_shell;
using testing_support::ShellResult;

std::string dir() { return process_temp_dir("anyscan-ipv6-scale"); }

TEST(TargetFiles, ReadByContentPlainXzOrGzip) {
  const std::string base = dir() + "/list";
  std::ofstream(base) << "# a hitlist\n2001:2::1\n2001:2::2\n198.18.0.1/31\n2001:2:0:1::/126\n";
  ASSERT_EQ(run_shell("(xz -kc '" + base + "' > '" + base + ".xz' && gzip -kc '" + base + "' > '" +
                      base + ".gz' && cp '" + base + ".xz' '" + base + ".named-txt' && cat '" +
                      base + ".gz' '" + base + ".gz' > '" + base + ".twice.gz')")
                .exit_code,
            0);
  const auto plain = load_target_file(base);
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->count(), 2u + 2 + 4);
  for (const std::string suffix : {".xz", ".gz", ".named-txt", ".twice.gz"}) {
    SCOPED_TRACE(suffix);
    const auto other = load_target_file(base + suffix);
    ASSERT_TRUE(other) << other.error().message;
    EXPECT_EQ(other->ranges(), plain->ranges());
  }
  // Standard input, compressed: by content too.
  const ShellResult piped = run_shell("(" + std::string(ANYSCAN_BINARY) +
                                      " --dryrun --dryrun-format targets -q -b /dev/null -i lo "
                                      "-S 2001:2::1,198.18.0.9 -G 02:00:00:00:00:02 --source-mac "
                                      "02:00:00:00:00:01 -p 80 -I - < '" +
                                      base + ".xz')");
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(std::count(piped.out.begin(), piped.out.end(), '\n'), 8);
  // Damaged and truncated data: one line naming the file, exit 65 on the command line.
  ASSERT_EQ(run_shell("(head -c 40 '" + base + ".xz' > '" + base + ".cut.xz' && cp '" + base +
                      ".gz' '" + base + ".bad.gz' && printf 'XXXX' | dd of='" + base +
                      ".bad.gz' bs=1 seek=12 conv=notrunc 2>/dev/null)")
                .exit_code,
            0);
  const auto cut = load_target_file(base + ".cut.xz");
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().message, base + ".cut.xz: truncated xz data");
  const auto bad = load_target_file(base + ".bad.gz");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(base + ".bad.gz: damaged gzip data"), std::string::npos)
      << bad.error().message;
  EXPECT_EQ(bad.error().code, ExitCode::kDataErr);
}

TEST(TextDecoder, StreamsAnyPieceSize) {
  const std::string base = dir() + "/pieces";
  {
    std::ofstream out(base);
    for (int i = 0; i < 20000; ++i) out << "2001:2::" << std::hex << i << "\n";
  }
  ASSERT_EQ(run_shell("(xz -kc '" + base + "' > '" + base + ".xz')").exit_code, 0);
  const std::string packed = testing_support::read_file(base + ".xz");
  const std::string text = testing_support::read_file(base);
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}, packed.size()}) {
    SCOPED_TRACE(piece);
    auto decoder = TextDecoder::make(TextDecoder::detect(packed), "pieces.xz");
    ASSERT_TRUE(decoder);
    std::string got;
    auto collect = [&got](std::string_view t) -> Result<void> {
      got.append(t);
      return {};
    };
    for (size_t at = 0; at < packed.size(); at += piece)
      ASSERT_TRUE(decoder->feed(std::string_view(packed).substr(at, piece), collect));
    EXPECT_TRUE(decoder->finish(collect));
    EXPECT_EQ(got.size(), text.size());
    EXPECT_TRUE(got == text) << "the decoded text differs";
  }
}

WindowSpec spec(int length, IidStrategy iid = IidStrategy::kLow) {
  WindowSpec s;
  s.length = length;
  s.iid = iid;
  s.key = {0x1234, 0x5678};
  return s;
}

TEST(PrefixWindows, WholeSubPrefixesBecomeTargetsTheRestStaysAddresses) {
  const AddressSet targets = *parse_target_list(
      "2001:2::/62\n2001:2:0:7::5\n2001:2:0:9::/80\n198.18.0.0/30\n2001:2:1::ff-2001:2:1:2::3\n",
      "t");
  const WindowedTargets split = split_into_windows(targets, spec(64));
  // The /62: 4 windows; the range 2001:2:1::ff-2001:2:1:2::3 holds the whole 2001:2:1:1::/64.
  EXPECT_EQ(split.windows.count(), 4u + 1);
  EXPECT_EQ(to_string(spec(64).address(split.windows.at(4).value)), "2001:2:1:1::1");
  // What is left: the lone address, the /80, the IPv4 /30 and the range's two ends.
  EXPECT_EQ(split.addresses.count(),
            1u + (uint128_t{1} << 48) + 4 + (uint128_t{1} << 64) - 0xff + 4);
  EXPECT_TRUE(split.addresses.contains(*parse_ip("2001:2:0:7::5")));
  EXPECT_TRUE(split.addresses.contains(*parse_ip("2001:2:1::ff")));
  EXPECT_FALSE(split.addresses.contains(*parse_ip("2001:2:1:1::1")));
  EXPECT_EQ(split.addresses.count(IpFamily::kIpv4), 4u);
}

TEST(PrefixWindows, EachStrategyPicksOneAddressInItsOwnWindow) {
  WindowSpec fixed = spec(64, IidStrategy::kFixed);
  ASSERT_TRUE(parse_iid("fixed:::a:b:c:d", fixed));
  EXPECT_EQ(to_string(fixed.address(fixed.number_of(*parse_ip("2001:2:0:5::")))),
            "2001:2:0:5:a:b:c:d");
  EXPECT_EQ(fixed.text(), "64 iid=fixed:::a:b:c:d");
  EXPECT_EQ(to_string(spec(64).address(spec(64).number_of(*parse_ip("2001:2:0:5::")))),
            "2001:2:0:5::1");
  const WindowSpec random = spec(56, IidStrategy::kRandom);
  std::set<uint128_t> seen;
  for (uint128_t n = 0; n < 1000; ++n) {
    const uint128_t number = random.number_of(*parse_ip("2001:2::")) + n;
    const IpAddress a = random.address(number);
    EXPECT_EQ(random.number_of(a), number) << "inside its own window";
    EXPECT_EQ(random.address(number), a) << "reproducible";
    seen.insert(a.value & ((uint128_t{1} << 72) - 1));
  }
  EXPECT_EQ(seen.size(), 1000u) << "random identifiers differ from window to window";
  WindowSpec other_key = random;
  other_key.key[0] ^= 1;
  EXPECT_NE(other_key.address(5), random.address(5)) << "keyed by the scan";
  WindowSpec bad;
  EXPECT_FALSE(parse_iid("fixed:198.18.0.1", bad));
  EXPECT_FALSE(parse_iid("middle", bad));
}

TEST(PrefixWindows, BlockingIsExactPerWindow) {
  // Brute force on a small space: /120 windows of a /112 (256 windows of 256 addresses).
  std::mt19937 random(120);
  for (IidStrategy iid : {IidStrategy::kLow, IidStrategy::kRandom}) {
    const WindowSpec s = spec(120, iid);
    const AddressSet targets = *parse_target_list("2001:2::/112\n", "t");
    const WindowedTargets split = split_into_windows(targets, s);
    ASSERT_EQ(split.windows.count(), 256u);
    for (int round = 0; round < 50; ++round) {
      std::vector<AddressRange> blocks;
      for (int b = 0; b < 4; ++b) {
        const uint64_t first = random() % 65536, length = random() % 2000;
        blocks.push_back(
            {IpAddress{parse_ip("2001:2::")->value + first},
             IpAddress{parse_ip("2001:2::")->value + std::min<uint64_t>(65535, first + length)}});
      }
      const AddressSet blocked(blocks);
      const AddressSet kept = windows_not_blocked(split.windows, blocked, s);
      for (uint64_t w = 0; w < 256; ++w) {
        const uint128_t number = split.windows.at(w).value;
        EXPECT_EQ(kept.contains(IpAddress{number}), !blocked.contains(s.address(number)))
            << "window " << w << " round " << round;
      }
    }
  }
}

struct DryRun {
  int exit_code = -1;
  std::string err;
  std::vector<std::string> lines;
};

// anyscan --dryrun --dryrun-format targets with ARGS: its exit, stderr and stdout's lines.
// Safe to run from several threads at once (each its own pipe and error file).
DryRun dry_run(const std::string& args) {
  static std::atomic<int> runs{0};
  const std::string err = dir() + "/dryrun" + std::to_string(runs++) + ".err";
  const std::string command = std::string(ANYSCAN_BINARY) +
                              " --dryrun --dryrun-format targets -q -b /dev/null -i lo -S "
                              "2001:2::1 -G 02:00:00:00:00:02 --source-mac 02:00:00:00:00:01 "
                              "-r 0 " +
                              args + " 2>'" + err + "' </dev/null";
  DryRun out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char line[128];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    out.lines.push_back(std::move(text));
  }
  const int status = ::pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  out.err = testing_support::read_file(err);
  return out;
}

TEST(Hitlist, CompressedListProbedOncePerAddressAndPortAcrossFourShards) {
  // 300,000 lines as the IPv6 Hitlist Service publishes responsive-addresses.txt.xz: one
  // address a line (some written out in full, some compressed), under a comment header.
  const std::string list = dir() + "/responsive-addresses.txt";
  std::set<std::string> addresses;
  {
    std::ofstream out(list);
    out << "# IPv6 Hitlist Service: responsive addresses (synthetic, 2001:2::/48)\n";
    std::mt19937_64 random(300000);
    while (addresses.size() < 300000) {
      const IpAddress a = IpAddress::v6(0x2001000200000000ULL | (random() & 0xffff), random());
      if (!addresses.insert(to_string(a)).second) continue;
      if (addresses.size() % 3 == 0) {
        char full[48];
        std::snprintf(full, sizeof full, "%04x:%04x:%04x:%04x:%04x:%04x:%04x:%04x",
                      static_cast<unsigned>(a.high64() >> 48),
                      static_cast<unsigned>(a.high64() >> 32 & 0xffff),
                      static_cast<unsigned>(a.high64() >> 16 & 0xffff),
                      static_cast<unsigned>(a.high64() & 0xffff),
                      static_cast<unsigned>(a.low64() >> 48),
                      static_cast<unsigned>(a.low64() >> 32 & 0xffff),
                      static_cast<unsigned>(a.low64() >> 16 & 0xffff),
                      static_cast<unsigned>(a.low64() & 0xffff));
        out << full << "\n";
      } else {
        out << to_string(a) << "\n";
      }
    }
  }
  ASSERT_EQ(run_shell("(xz -T1 -kf '" + list + "')").exit_code, 0);
  std::vector<std::thread> shards;
  std::vector<DryRun> runs(4);
  for (int shard = 0; shard < 4; ++shard)
    shards.emplace_back([&, shard] {
      runs[static_cast<size_t>(shard)] =
          dry_run("-e 9 -p 80,443 --shards 4 --shard " + std::to_string(shard) + " -I '" + list +
                  ".xz' -m '" + list + ".shard" + std::to_string(shard) + ".json'");
    });
  for (auto& t : shards) t.join();
  std::unordered_set<std::string> probed;
  size_t total = 0;
  for (const DryRun& run : runs) {
    ASSERT_EQ(run.exit_code, 0) << run.err;
    total += run.lines.size();
    for (const std::string& line : run.lines) probed.insert(line);
  }
  EXPECT_EQ(total, 2 * addresses.size()) << "every address x port once, no more";
  EXPECT_EQ(probed.size(), 2 * addresses.size()) << "no (address, port) twice";
  for (const std::string& a : addresses) {
    ASSERT_TRUE(probed.count(a + ",80")) << a;
    ASSERT_TRUE(probed.count(a + ",443")) << a;
  }
  // The same list plain: the same plan, to the fingerprint.
  const DryRun plain =
      dry_run("-e 9 -p 80,443 --shards 4 --shard 0 -I '" + list + "' -m '" + list + ".plain.json'");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  auto fingerprint = [](const std::string& path) {
    const std::string meta = testing_support::read_file(path);
    const size_t at = meta.find("\"fingerprint\":\"");
    return at == std::string::npos ? std::string("none") : meta.substr(at + 15, 16);
  };
  EXPECT_EQ(fingerprint(list + ".plain.json"), fingerprint(list + ".shard0.json"));
  EXPECT_NE(fingerprint(list + ".plain.json"), "none");
}

TEST(PrefixWindowsDryRun, A40At64IsExactly2To24TargetsEachInItsOwn64) {
  std::vector<DryRun> runs(4);
  std::vector<std::thread> shards;
  for (int shard = 0; shard < 4; ++shard)
    shards.emplace_back([&, shard] {
      runs[static_cast<size_t>(shard)] =
          dry_run("-M icmp6_echoscan -e 40 -x 64 --iid fixed:::53 --shards 4 --shard " +
                  std::to_string(shard) + " 2001:2:ff00::/40");
    });
  for (auto& t : shards) t.join();
  std::vector<bool> seen(size_t{1} << 24, false);
  size_t total = 0;
  for (const DryRun& run : runs) {
    ASSERT_EQ(run.exit_code, 0) << run.err;
    for (const std::string& line : run.lines) {
      ++total;
      const auto address = parse_ip(line.substr(0, line.find(',')));
      ASSERT_TRUE(address) << line;
      ASSERT_EQ(address->low64(), 0x53u) << line << ": the fixed identifier";
      ASSERT_EQ(address->high64() >> 24, 0x20010002ff00ULL >> 8) << line << ": inside the /40";
      const size_t window = static_cast<size_t>(address->high64() & 0xffffff);
      ASSERT_FALSE(seen[window]) << line << ": a /64 probed twice";
      seen[window] = true;
    }
  }
  EXPECT_EQ(total, size_t{1} << 24);
  // Random identifiers: the same seed gives the same addresses, a shard at a time.
  const DryRun first = dry_run(
      "-M icmp6_echoscan -e 41 -x 64 --iid random --shards 64 --shard 9 "
      "2001:2:ff00::/40");
  const DryRun again = dry_run(
      "-M icmp6_echoscan -e 41 -x 64 --iid random --shards 64 --shard 9 "
      "2001:2:ff00::/40");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.lines.size(), size_t{1} << 18);
  EXPECT_EQ(std::set<std::string>(first.lines.begin(), first.lines.end()),
            std::set<std::string>(again.lines.begin(), again.lines.end()));
}

TEST(AliasedPrefixes, EachPrefixKeepsItsFirstKTargets) {
  const std::string file = dir() + "/aliased-prefixes.txt";
  // Two adjacent /64s: two prefixes, each capped on its own (never merged into one).
  std::ofstream(file)
      << "# aliased prefixes\n2001:2:0:a::/64\n2001:2:0:b::/64\n2001:2:0:a:1::/80\n";
  ASSERT_EQ(run_shell("(xz -kf '" + file + "')").exit_code, 0);
  const auto list = load_prefix_list(file + ".xz");
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 2u) << "the /80 inside the first /64 is folded into it";
  const AliasedPrefixes aliased(*list);
  EXPECT_TRUE(aliased.contains(*parse_ip("2001:2:0:a::77")));
  EXPECT_TRUE(aliased.contains(*parse_ip("2001:2:0:b:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(aliased.contains(*parse_ip("2001:2:0:c::")));
  EXPECT_FALSE(aliased.contains(*parse_ip("198.18.0.1")));
  // 100 targets in the first, 2 in the second, 50 elsewhere; limit 3.
  std::string text;
  for (int i = 0; i < 100; ++i) text += "2001:2:0:a::" + std::to_string(1000 + i * 7) + "\n";
  text += "2001:2:0:b::1\n2001:2:0:b::9\n";
  for (int i = 0; i < 50; ++i) text += "2001:2:0:c::" + std::to_string(1000 + i) + "\n";
  const AddressSet targets = *parse_target_list(text, "t");
  const AddressSet kept = targets.minus(aliased.over_limit(targets, 3));
  EXPECT_EQ(kept.count(), 3u + 2 + 50);
  EXPECT_TRUE(kept.contains(*parse_ip("2001:2:0:a::1000")));
  EXPECT_TRUE(kept.contains(*parse_ip("2001:2:0:a::1014")));
  EXPECT_FALSE(kept.contains(*parse_ip("2001:2:0:a::1021")));
  // Windows: a /60 at /64 holds the two aliased /64s among 16: one window each, within K.
  WindowSpec windows = spec(64);
  const WindowedTargets split =
      split_into_windows(*parse_target_list("2001:2:0::/60\n", "w"), windows);
  EXPECT_EQ(split.windows.count(), 16u);
  EXPECT_TRUE(aliased.windows_over_limit(split.windows, windows, 1).empty());
  // A /48 at /80: 2^16 windows inside the first aliased /64 alone, capped to 3.
  const AliasedPrefixes wide(
      {{*parse_ip("2001:2:0:a::"), *parse_ip("2001:2:0:a:ffff:ffff:ffff:ffff")}});
  const WindowSpec w80 = spec(80);
  const WindowedTargets split80 =
      split_into_windows(*parse_target_list("2001:2:0:a::/64\n", "w"), w80);
  EXPECT_EQ(split80.windows.count(), uint128_t{1} << 16);
  EXPECT_EQ(split80.windows.minus(wide.windows_over_limit(split80.windows, w80, 3)).count(), 3u);
  // The whole scan: a dry run probes what is left, the metadata says how many were left out.
  const std::string hitlist = dir() + "/aliased-hitlist.txt";
  std::ofstream(hitlist) << text;
  const DryRun run = dry_run("-p 80 -I '" + hitlist + "' --aliased-prefixes '" + file +
                             ".xz' --aliased-limit 3 -m '" + hitlist + ".json'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.lines.size(), 3u + 2 + 50);
  const std::string meta = testing_support::read_file(hitlist + ".json");
  EXPECT_NE(meta.find("\"aliased_prefixes\":2,\"aliased_limit\":3,\"aliased_capped\":97"),
            std::string::npos)
      << meta;
}

}  // namespace
}  // namespace anyscan
