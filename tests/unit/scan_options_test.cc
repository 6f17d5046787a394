#include "cli/scan_options.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>

#include <fstream>

namespace anyscan {
namespace {

Result<ScanConfig> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "anyscan");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_command_line(static_cast<int>(args.size()), argv.data());
}

TEST(ScanOptions, ZmapStyleFlags) {
  auto c = parse({"-p",      "22,443", "-r", "5000",          "-T",
                  "2",       "-e",     "9",  "--shards",      "4",
                  "--shard", "3",      "-o", "out.csv",       "-O",
                  "json",    "-c",     "2",  "198.18.0.0/24", "198.18.1.1"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->ports, (std::vector<uint16_t>{22, 443}));
  EXPECT_EQ(c->rate_pps, 5000u);
  EXPECT_EQ(c->sender_threads, 2u);
  EXPECT_EQ(c->seed, 9u);
  EXPECT_EQ(c->shards, 4u);
  EXPECT_EQ(c->shard, 3u);
  EXPECT_EQ(c->output_format, OutputFormat::kJson);
  EXPECT_EQ(c->cooldown_s, 2u);
  EXPECT_EQ(c->targets, (std::vector<std::string>{"198.18.0.0/24", "198.18.1.1"}));
  EXPECT_TRUE(validate_config(*c));
}

TEST(ScanOptions, BadFlagValuesNameTheFlag) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"-r", "fast"}, "-r/--rate 'fast': expected packets per second, e.g. 10000 or 1M"},
      {{"-G", "ff:ff:ff:ff:ff:ff"},
       "-G/--gateway-mac 'ff:ff:ff:ff:ff:ff': expected a unicast MAC address aa:bb:cc:dd:ee:ff"},
      {{"-S", "198.18.0.256"},
       "-S/--source-ip '198.18.0.256': expected an address, a range a-b of one family or a list "
       "a,b: not an IPv4 address (four decimal octets 0-255, no leading zeros)"},
      {{"-p", "80,x"}, "-p/--target-ports bad port 'x': expected a number 1-65535"},
      {{"--shards", "0"}, "--shards '0': expected 1-65535 shards"},
      {{"-P", "0"}, "-P/--probes '0': expected 1-255 probes per target"},
      {{"-s", "100-50"},
       "-s/--source-port '100-50': expected a port range FIRST-LAST within 1-65535"},
      {{"-O", "xml"},
       "-O/--output-format 'xml': expected csv, json or zgrab2 (see --list-output-modules)"},
      {{"--io-engine", "dpdk"}, "--io-engine 'dpdk': expected af_packet or af_xdp"},
      {{"--bogus"}, "unknown option --bogus (see --help)"},
      {{"-p"}, "option -p needs a value"},
      {{"-y"}, "unknown option -y (see --help)"},
      // Long-only options are named as typed, never by their internal code.
      {{"--rate"}, "option --rate needs a value"},
      {{"--shards"}, "option --shards needs a value"},
      {{"--dryrun=yes"}, "option --dryrun takes no value"},
      {{"--bogus=1"}, "unknown option --bogus (see --help)"},
      {{"--b\x01"
        "d"},
       "unknown option --b?d (see --help)"},
      {{"-v", "9"}, "-v/--verbosity '9': expected a level (0-5)"},
      {{"-v", "99999999999"}, "-v/--verbosity '99999999999': expected a level (0-5)"},
      {{"--detect-aliases", "3"},
       "--detect-aliases '3': expected 1, 2, 4, 8 or 16 addresses per prefix"},
      {{"--detect-aliases", "32"},
       "--detect-aliases '32': expected 1, 2, 4, 8 or 16 addresses per prefix"},
      {{"--alias-prefix-length", "8"},
       "--alias-prefix-length '8': expected a prefix length from 16 to 124"},
  };
  for (const auto& [args, message] : cases) {
    SCOPED_TRACE(message);
    auto c = parse(args);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().message, message);
    EXPECT_EQ(c.error().code, ExitCode::kUsage);
  }
}

TEST(ScanOptions, SeveralSourceAddressesAsZmapTakesThem) {
  const std::pair<const char*, size_t> good[] = {{"198.18.0.1", 1},
                                                 {"198.18.0.1-198.18.0.8", 8},
                                                 {"198.18.0.9,198.18.0.1-198.18.0.2", 3},
                                                 {"198.18.0.1,198.18.0.1", 1},
                                                 {"198.18.0.0-198.18.0.255", 256}};
  for (const auto& [text, count] : good) {
    SCOPED_TRACE(text);
    std::vector<std::string> args = {"anyscan", "-S", text, "-p", "1", "198.18.0.1"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    auto c = parse_command_line(static_cast<int>(argv.size()), argv.data());
    ASSERT_TRUE(c) << c.error().message;
    ASSERT_EQ(c->source_ips.size(), count);
    EXPECT_TRUE(std::is_sorted(c->source_ips.begin(), c->source_ips.end(),
                               [](IpAddress a, IpAddress b) { return a < b; }));
  }
  for (const char* bad : {"198.18.0.0-198.18.1.0", "198.18.0.9-198.18.0.1", "198.18.0.1,",
                          "198.18.0.1-", ",", "198.18.0.0/24"}) {
    SCOPED_TRACE(bad);
    std::vector<std::string> args = {"anyscan", "-S", bad, "-p", "1", "198.18.0.1"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    auto c = parse_command_line(static_cast<int>(argv.size()), argv.data());
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, ExitCode::kUsage);
    EXPECT_EQ(c.error().message.rfind("-S/--source-ip '", 0), 0u) << c.error().message;
  }
}

TEST(ScanOptions, CrossOptionChecks) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"198.18.0.1"}, "tcp_synscan needs ports: pass -p/--target-ports (e.g. -p 443)"},
      {{"-p", "80"},
       "no targets: pass TARGET arguments, -I/--list-of-ips FILE or -w FILE (zmap would scan "
       "all of IPv4 here: name 0.0.0.0/0 to mean that)"},
      {{"-p", "80", "--shards", "2", "--shard", "2", "198.18.0.1"},
       "--shard 2 must be below --shards 2"},
      {{"-p", "80", "-r", "10", "-B", "1M", "198.18.0.1"},
       "give -r/--rate or -B/--bandwidth, not both"},
      {{"-M", "icmp_echoscan", "-p", "80", "198.18.0.1"},
       "icmp_echoscan probes addresses, not ports: drop -p/--target-ports"},
      {{"-p", "80", "-s", "40000", "-P", "2", "198.18.0.1"},
       "-s/--source-port range must have at least as many ports as -P/--probes"},
      {{"-p", "80", "-I", "list.txt", "-o", "list.txt"},
       "-I list.txt is also an output file: it would be overwritten"},
      {{"-p", "80", "-o", "r.csv", "--checkpoint-file", "c", "-f", "saddr,sport", "198.18.0.1"},
       "--checkpoint-file needs the output field classification (-f): a resume reads the "
       "results back to know what was found"},
      {{"-p", "80", "--resume", "198.18.0.1"}, "--resume needs --checkpoint-file FILE"},
      {{"-p", "80", "--checkpoint-file", "c", "198.18.0.1"},
       "--checkpoint-file needs -o FILE: results on stdout cannot be resumed"},
      {{"-p", "80", "--run-directory", "runs", "-o", "r.csv", "198.18.0.1"},
       "--run-directory names the results, metadata and checkpoint files itself: drop -o, -m "
       "and --checkpoint-file"},
  };
  for (const auto& [args, message] : cases) {
    SCOPED_TRACE(message);
    auto c = parse(args);
    ASSERT_TRUE(c) << c.error().message;
    auto valid = validate_config(*c);
    ASSERT_FALSE(valid);
    EXPECT_EQ(valid.error().message, message);
  }
}

TEST(ScanOptions, ConfigFileSetsEveryOptionAndFlagsOverride) {
  const std::string path =
      testing::TempDir() + "/" + std::to_string(::getpid()) + "-anyscan-test.conf";
  {
    std::ofstream out(path);
    out << "# weekly "
           "job\nANYSCAN_TARGET_PORTS=22,80\nANYSCAN_RATE=2000\nANYSCAN_TARGETS=\"198.18.0.0/24 "
           "198.18.2.0/24\"\n"
           "ANYSCAN_OUTPUT_FORMAT=json\nANYSCAN_QUIET=yes\nANYSCAN_SCANNER_IO_ENGINE=auto\n";
  }
  auto c = parse({"-C", path, "-r", "300"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->ports, (std::vector<uint16_t>{22, 80}));
  EXPECT_EQ(c->rate_pps, 300u);  // the flag wins
  EXPECT_EQ(c->targets, (std::vector<std::string>{"198.18.0.0/24", "198.18.2.0/24"}));
  EXPECT_EQ(c->output_format, OutputFormat::kJson);
  EXPECT_TRUE(c->quiet);
  auto positional = parse({"--config=" + path, "198.18.9.9"});
  ASSERT_TRUE(positional);
  EXPECT_EQ(positional->targets, (std::vector<std::string>{"198.18.9.9"}));
}

TEST(ScanOptions, ConfigFileErrorsNameFileLineAndKey) {
  const std::string path =
      testing::TempDir() + "/" + std::to_string(::getpid()) + "-anyscan-bad.conf";
  const std::pair<std::string, std::string> cases[] = {
      {"ANYSCAN_RATE=2000\nANYSCAN_RATEE=5\n", path + ":2: ANYSCAN_RATEE: unknown key"},
      {"ANYSCAN_RATE=lots\n",
       path + ":1: ANYSCAN_RATE: 'lots': expected packets per second, e.g. 10000 or 1M"},
      {"ANYSCAN_CONFIG=/etc/other\n", path + ":1: ANYSCAN_CONFIG: unknown key"},
      {"ANYSCAN_QUIET=maybe\n",
       path + ":1: ANYSCAN_QUIET: 'maybe': expected true or false (also yes/no, on/off, 1/0)"},
      {"garbage line\n", path + ":1: expected KEY=VALUE"},
  };
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(message);
    { std::ofstream(path) << text; }
    auto c = parse({"-C", path});
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().message, message);
    EXPECT_EQ(c.error().code, ExitCode::kConfig);
  }
  auto missing = parse({"-C", "/nonexistent/anyscan.conf"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ExitCode::kConfig);
}

TEST(ScanOptions, EveryOptionHasAConfigKeyAndHelp) {
  for (const auto& option : option_table()) {
    SCOPED_TRACE(option.long_name);
    EXPECT_EQ(config_key(option).rfind("ANYSCAN_", 0), 0u);
    if (std::string(option.long_name) != "targets") {
      EXPECT_NE(usage_text().find("--" + std::string(option.long_name)), std::string::npos);
    }
  }
  EXPECT_EQ(config_key(option_table()[1]), "ANYSCAN_TARGET_PORTS");
}

}  // namespace
}  // namespace anyscan
