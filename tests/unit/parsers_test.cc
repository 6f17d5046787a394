// Bad-input tables for every parser a user reaches: each bad value gets one line naming
// the input and a sysexits code.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <cstring>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <vector>

#include "base/parse_number.h"
#include "host/process_memory.h"
#include "net/ipv4_address.h"
#include "net/mac_address.h"
#include "output/output_field.h"
#include "target/port_set.h"
#include "target/target_parser.h"

namespace anyscan {
namespace {

TEST(Ipv4Parser, AcceptsDottedQuadsOnly) {
  EXPECT_EQ(parse_ipv4("198.18.0.1")->value, 0xc6120001u);
  EXPECT_EQ(parse_ipv4("0.0.0.0")->value, 0u);
  EXPECT_EQ(parse_ipv4("255.255.255.255")->value, 0xffffffffu);
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "01.2.3.4",
                          "1..3.4", "a.b.c.d", "1.2.3.-4", "1.2.3.4/", "0x1.2.3.4", "1234.1.1.1"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parse_ipv4(bad));
  }
  EXPECT_EQ(to_string(Ipv4Address{0xc6120001u}), "198.18.0.1");
}

AddressRange only(const Result<ParsedTarget>& parsed) {
  EXPECT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->count, 1u);
  return parsed->ranges[0];
}

AddressRange v6(const char* first, const char* last) { return {*parse_ip(first), *parse_ip(last)}; }

TEST(TargetParser, ParsesCidrRangeAndSingle) {
  EXPECT_EQ(only(parse_target("198.18.0.0/15")), AddressRange::v4(0xc6120000u, 0xc613ffffu));
  EXPECT_EQ(only(parse_target("198.18.0.77/24")), AddressRange::v4(0xc6120000u, 0xc61200ffu));
  EXPECT_EQ(only(parse_target("0.0.0.0/0")), AddressRange::v4(0, 0xffffffffu));
  EXPECT_EQ(only(parse_target("198.18.0.1-198.18.0.9")),
            AddressRange::v4(0xc6120001u, 0xc6120009u));
  EXPECT_EQ(only(parse_target("198.18.0.1")), AddressRange::v4(0xc6120001u, 0xc6120001u));
}

TEST(TargetParser, ParsesIpv6PrefixesRangesAndAddresses) {
  EXPECT_EQ(only(parse_target("2001:2::/48")), v6("2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_EQ(only(parse_target("2001:2::77/120")), v6("2001:2::", "2001:2::ff"));
  EXPECT_EQ(only(parse_target("2001:2::1-2001:2::9")), v6("2001:2::1", "2001:2::9"));
  EXPECT_EQ(only(parse_target("2001:0002:0:0:0:0:0:0001")), v6("2001:2::1", "2001:2::1"));
  EXPECT_EQ(only(parse_target("2001:2::1/128")), v6("2001:2::1", "2001:2::1"));
  // ::/0 is every IPv6 address: the IPv4-mapped block inside it is IPv4's, so two ranges.
  auto all = parse_target("::/0");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->count, 2u);
  EXPECT_EQ(all->ranges[0], v6("::", "::fffe:ffff:ffff"));
  EXPECT_EQ(all->ranges[1], v6("::1:0:0:0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
}

TEST(TargetParser, BadTargetsNameTheInput) {
  const std::pair<const char*, const char*> cases[] = {
      {"198.18.0.0/33", "bad target '198.18.0.0/33': prefix length must be 0-32"},
      {"198.18.0.0/", "bad target '198.18.0.0/': prefix length must be 0-32"},
      {"198.18.0.0/-1", "bad target '198.18.0.0/-1': prefix length must be 0-32"},
      {"2001:2::/129", "bad target '2001:2::/129': prefix length must be 0-128"},
      {"300.1.1.1/8",
       "bad target '300.1.1.1/8': before '/': not an IPv4 address (four decimal octets 0-255, "
       "no leading zeros)"},
      {"198.18.0.9-198.18.0.1", "bad target '198.18.0.9-198.18.0.1': range ends before it starts"},
      {"198.18.0.1-",
       "bad target '198.18.0.1-': a range is FIRST-LAST with two addresses of one family: an "
       "empty address"},
      {"198.18.0.1-2001:2::1",
       "bad target '198.18.0.1-2001:2::1': a range is FIRST-LAST with two addresses of one "
       "family"},
      {"fe80::1%eth0",
       "bad target 'fe80::1%eth0': a zone id ('%...') names a link, not a target: give a global "
       "address; a target is an address, a prefix (a.b.c.d/n, x:x::/n) or a range (FIRST-LAST)"},
      {"::ffff:198.18.0.1",
       "bad target '::ffff:198.18.0.1': an IPv4-mapped IPv6 address (::ffff:a.b.c.d): write the "
       "IPv4 address; a target is an address, a prefix (a.b.c.d/n, x:x::/n) or a range "
       "(FIRST-LAST)"},
      {"::ffff:0:0/104",
       "bad target '::ffff:0:0/104': before '/': an IPv4-mapped IPv6 address (::ffff:a.b.c.d): "
       "write the IPv4 address"},
      {"2001:2::1::2",
       "bad target '2001:2::1::2': '::' more than once in an IPv6 address; a target is an "
       "address, a prefix (a.b.c.d/n, x:x::/n) or a range (FIRST-LAST)"},
      {"example.com",
       "bad target 'example.com': not an IPv4 address (four decimal octets 0-255, no leading "
       "zeros); a target is an address, a prefix (a.b.c.d/n, x:x::/n) or a range (FIRST-LAST)"},
      {"",
       "bad target '': an empty address; a target is an address, a prefix (a.b.c.d/n, x:x::/n) "
       "or a range (FIRST-LAST)"},
  };
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(text);
    auto parsed = parse_target(text);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().message, message);
    EXPECT_EQ(parsed.error().code, ExitCode::kDataErr);
  }
}

TEST(TargetParser, FileErrorsNameFileAndLine) {
  auto parsed = parse_target_list("# header\n198.18.0.0/24  # ok\n\n  198.18.1.1 \n198.18.2.0/99\n",
                                  "targets.txt");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message,
            "targets.txt:5: bad target '198.18.2.0/99': prefix length must be 0-32");
  EXPECT_EQ(parsed.error().code, ExitCode::kDataErr);
  auto good = parse_target_list("# header\n198.18.0.0/24  # ok\n\n  198.18.1.1 \r\n", "t");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->size(), 257u);
  auto binary = parse_target_list(std::string("198.18.0.1\n\x01\xff\x00garbage", 19), "bin");
  ASSERT_FALSE(binary);
  EXPECT_EQ(binary.error().message, "bin:2: a NUL byte: not a text file of targets");
}

// Any file, of any size and content, ends in a line-numbered error or a correct set, in
// bounded memory: a file is read in pieces and lines are capped.
TEST(TargetParser, FilesOfAnySizeAndContent) {
  const std::string dir = ::testing::TempDir();
  // 3 GiB without a newline (sparse: no disk used): refused after the first KiB.
  const std::string huge = dir + "/anyscan-huge-" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("truncate -s 3G '" + huge + "' && printf 1 | dd of='" + huge +
                         "' conv=notrunc status=none")
                            .c_str()),
            0);
  auto h = load_target_file(huge);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, ExitCode::kDataErr);
  EXPECT_EQ(h.error().message, huge + ":1: a NUL byte: not a text file of targets");
  ::unlink(huge.c_str());
  std::ofstream(huge) << std::string(5000, '1');
  EXPECT_EQ(load_target_file(huge).error().message,
            huge + ":1: a line longer than 1024 bytes: not a file of targets");
  ::unlink(huge.c_str());
  auto zero = load_target_file("/dev/zero");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "/dev/zero:1: a NUL byte: not a text file of targets");
  auto directory = load_target_file(dir);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code, ExitCode::kNoInput);
  EXPECT_NE(directory.error().message.find("it is a directory"), std::string::npos);
}

TEST(TargetParser, PiecesOfAnySizeGiveTheSameSet) {
  std::string text;
  for (int i = 0; i < 200000; ++i)  // 198.18.0.0 - 198.21.13.63, one address a line
    text += "198." + std::to_string(18 + i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
            std::to_string(i % 256) + "\n";
  for (size_t step : {size_t{1}, size_t{7}, size_t{4096}, text.size()}) {
    SCOPED_TRACE(step);
    TargetListReader reader("t");
    for (size_t at = 0; at < text.size(); at += step)
      ASSERT_TRUE(reader.feed(std::string_view(text).substr(at, step)));
    auto set = reader.finish();
    ASSERT_TRUE(set);
    EXPECT_EQ(set->size(), 200000u);
    EXPECT_EQ(set->ranges().size(), 1u);  // merged as read
  }
}

TEST(TargetParser, IgnoreInvalidHostsSkipsAndCounts) {
  TargetListReader reader("t", true);
  ASSERT_TRUE(reader.feed("198.18.0.1\nnot-a-host\n198.18.0.0/99\n198.18.0.3\n"));
  auto set = reader.finish();
  ASSERT_TRUE(set);
  EXPECT_EQ(set->size(), 2u);
  EXPECT_EQ(reader.skipped(), 2u);
}

TEST(TargetParser, MissingFileIsNoInput) {
  auto loaded = load_target_file("/nonexistent/anyscan-targets");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, ExitCode::kNoInput);
  EXPECT_NE(loaded.error().message.find("/nonexistent/anyscan-targets"), std::string::npos);
}

TEST(PortParser, ListsAndRanges) {
  auto ports = parse_ports("443,22,8000-8002,22");
  ASSERT_TRUE(ports);
  EXPECT_EQ(ports->ports(), (std::vector<uint16_t>{22, 443, 8000, 8001, 8002}));
  EXPECT_EQ(ports->index_of(443), 1);
  EXPECT_EQ(ports->index_of(444), -1);
  EXPECT_EQ(parse_ports("-")->size(), 65535u);
  EXPECT_EQ(parse_ports("1-65535")->size(), 65535u);
}

TEST(ProcessMemory, PeakRssIsVmHwmOfThisProcess) {
  EXPECT_EQ(*parse_vm_hwm_kib("\nName:\tanyscan\nVmPeak:\t  99999 kB\nVmHWM:\t   23456 kB\n"),
            23456u);
  EXPECT_FALSE(parse_vm_hwm_kib("\nVmRSS:\t 1 kB\n"));
  EXPECT_FALSE(parse_vm_hwm_kib("\nVmHWM:\t lots kB\n"));
  EXPECT_FALSE(parse_vm_hwm_kib("\nVmHWM:\t 12 MB\n"));
  auto own = peak_rss_kib();
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_GT(*own, 1000u);
}

// Opened once, read again later: the second read sees the peak grow (a scan opens it
// during setup and reads it at the end, when its system-call filter allows no open).
TEST(ProcessMemory, AnOpenStatusFileReadsTheCurrentPeak) {
  // The peak of the tests before this one may lie far above what is resident now: reset it
  // to the current size (proc(5), clear_refs "5"); and touch fresh pages of our own (freed
  // heap of earlier tests may still be resident, a vector could reuse it).
  std::ofstream("/proc/self/clear_refs") << "5";
  auto status = ProcessStatus::open();
  ASSERT_TRUE(status) << status.error().message;
  const uint64_t before = *status->peak_rss_kib();
  constexpr size_t kBytes = 64 << 20;
  void* fresh = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(fresh, MAP_FAILED);
  std::memset(fresh, 1, kBytes);  // written: resident
  const uint64_t after = *status->peak_rss_kib();
  ::munmap(fresh, kBytes);
  EXPECT_GE(after, before + 60 * 1024) << "before " << before << " after " << after;
}

TEST(PortParser, FormatsRangesAndRoundTrips) {
  EXPECT_EQ(format_ports(*parse_ports("-")), "1-65535");
  EXPECT_EQ(format_ports(*parse_ports("443,22,8000-8002,22,80,81")), "22,80-81,443,8000-8002");
  EXPECT_EQ(format_ports(*parse_ports("65535,1,3")), "1,3,65535");
  for (const char* text : {"1,3-9,11,65534-65535", "7", "100-200,202"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(format_ports(*parse_ports(text)), text);
  }
}

TEST(PortParser, BadPortsNameTheElement) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "bad port list '': empty"},
      {"0", "bad port '0': port 0 cannot be probed"},
      {"65536", "bad port '65536': expected a number 1-65535"},
      {"80,,443", "bad port list: empty element between commas"},
      {"80,", "bad port list: empty element between commas"},
      {"http", "bad port 'http': expected a number 1-65535"},
      {"90-80", "bad port range '90-80': range ends before it starts"},
      {"1-2-3", "bad port range '1-2-3': expected FIRST-LAST with ports 1-65535"},
      {"-5", "bad port range '-5': expected FIRST-LAST with ports 1-65535"},
      {" 80", "bad port ' 80': expected a number 1-65535"},
  };
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(text);
    auto parsed = parse_ports(text);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().message, message);
    EXPECT_EQ(parsed.error().code, ExitCode::kUsage);
  }
}

TEST(MacParser, AcceptsColonOrDashHex) {
  EXPECT_EQ(to_string(*parse_mac("02:AB:cd:00:11:ff")), "02:ab:cd:00:11:ff");
  EXPECT_EQ(to_string(*parse_mac("02-ab-cd-00-11-ff")), "02:ab:cd:00:11:ff");
  for (const char* bad : {"", "02:ab:cd:00:11", "02:ab:cd:00:11:ff:00", "02:ab:cd:00:11:fg",
                          "02:ab-cd:00:11:ff", "2:ab:cd:00:11:ff:", "0x:ab:cd:00:11:ff"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parse_mac(bad));
  }
}

TEST(NumberParser, DecimalAndSiSuffixes) {
  EXPECT_EQ(parse_decimal("18446744073709551615", UINT64_MAX), UINT64_MAX);
  EXPECT_FALSE(parse_decimal("18446744073709551616", UINT64_MAX));
  EXPECT_FALSE(parse_decimal("-1", 100));
  EXPECT_FALSE(parse_decimal("101", 100));
  EXPECT_EQ(parse_si_count("10k", UINT64_MAX), 10000u);
  EXPECT_EQ(parse_si_count("1G", UINT64_MAX), 1000000000u);
  EXPECT_EQ(parse_si_count("2M", UINT64_MAX), 2000000u);
  EXPECT_FALSE(parse_si_count("1.5G", UINT64_MAX));
  EXPECT_FALSE(parse_si_count("G", UINT64_MAX));
  EXPECT_FALSE(parse_si_count("99999999999999999999G", UINT64_MAX));
}

TEST(OutputFieldParser, KnownFieldsOnlyOnce) {
  auto fields = parse_output_fields("saddr,sport,classification");
  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->size(), 3u);
  EXPECT_FALSE(parse_output_fields("saddr,bogus"));
  EXPECT_EQ(
      parse_output_fields("saddr,bogus").error().message.rfind("unknown output field 'bogus'", 0),
      0u);
  EXPECT_FALSE(parse_output_fields("saddr,saddr"));
  EXPECT_FALSE(parse_output_fields(""));
}

}  // namespace
}  // namespace anyscan
