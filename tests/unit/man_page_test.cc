// Every option `anyscan --help` lists is documented in anyscan(8), as man renders it.
#include <gtest/gtest.h>

#include "host/syscall_filter.h"
#include "support/test_shell.h"

#include <array>
#include <cstdio>
#include <regex>
#include <set>
#include <string>

namespace {

using anyscan::testing_support::shell_output;
const auto& capture = shell_output;

TEST(ManPage, DocumentsEveryOptionOfHelp) {
  const std::string help = capture(std::string(ANYSCAN_BINARY) + " --help");
  std::set<std::string> flags;
  const std::regex flag("(^|[ ,])(--[a-z][a-z-]+)");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), flag); it != std::sregex_iterator();
       ++it)
    flags.insert((*it)[2]);
  ASSERT_GT(flags.size(), 30u) << help;
  const std::string page =
      capture("MANWIDTH=200 man -l " ANYSCAN_SOURCE_DIR "/man/anyscan.8 2>/dev/null");
  ASSERT_NE(page.find("OPTIONS"), std::string::npos) << "man did not render anyscan.8";
  for (const auto& f : flags)
    EXPECT_NE(page.find(f), std::string::npos) << f << " is in --help but not in anyscan(8)";
}

// SECURITY lists exactly the calls the filter allows: every one of them, and no other.
TEST(ManPage, SecurityListsExactlyTheFiltersSystemCalls) {
  const std::string page =
      capture("MANWIDTH=2000 man -l " ANYSCAN_SOURCE_DIR "/man/anyscan.8 2>/dev/null");
  const size_t start = page.find("whose flags it can check:");
  const size_t end = page.find("So a scan cannot", start);
  ASSERT_NE(start, std::string::npos) << page;
  ASSERT_NE(end, std::string::npos) << page;
  std::string list = page.substr(start, end - start);
  for (char& c : list) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::set<std::string> documented;
  const std::regex word("[a-z_0-9]+");
  const std::set<std::string> prose = {"whose", "flags", "it",           "can",   "check",
                                       "mmap",  "and",   "never",        "with",  "prot_exec",
                                       "clone", "only",  "clone_thread", "prctl", "pr_set_name"};
  for (auto it = std::sregex_iterator(list.begin(), list.end(), word); it != std::sregex_iterator();
       ++it) {
    const std::string w = (*it)[0];
    if (!prose.count(w) || w == "mmap" || w == "clone" || w == "prctl") documented.insert(w);
  }
  documented.insert("mprotect");  // "mmap and mprotect never with PROT_EXEC"
  std::set<std::string> allowed;
  for (auto name : anyscan::scan_syscall_names()) allowed.insert(std::string(name));
  EXPECT_EQ(documented, allowed);
}

// Every option of zmap 2.1 and 4.x: anyscan has it (--help lists it), or anyscan(8),
// DIFFERENCES FROM ZMAP, names it and the scanner refuses it saying it is zmap's.
TEST(ManPage, EveryZmapOptionIsSupportedOrADocumentedDifference) {
  const char* const zmap_options[] = {
      "target-ports", "output-file", "blocklist-file", "allowlist-file", "list-of-ips", "rate",
      "bandwidth", "batch", "max-targets", "max-results", "max-runtime", "cooldown-time", "seed",
      "retries", "dryrun", "fast-dryrun", "shards", "shard", "source-port", "source-ip",
      "gateway-mac", "source-mac", "interface", "iplayer", "netmap-wait-ping", "probe-module",
      "probe-args", "probe-ttl", "list-probe-modules", "output-fields", "output-module",
      "output-args", "output-filter", "list-output-modules", "list-output-fields", "no-header-row",
      "verbosity", "log-file", "log-directory", "metadata-file", "status-updates-file", "quiet",
      "disable-syslog", "notes", "user-metadata", "sender-threads", "config", "probes",
      "max-sendto-failures", "min-hitrate", "cores", "ignore-blocklist-errors",
      "validate-source-port", "dedup-method", "dedup-window-size", "help", "version",
      // zmap 2.1
      "blacklist-file", "whitelist-file", "ignore-invalid-hosts", "summary", "vpn"};
  const std::string help = capture(std::string(ANYSCAN_BINARY) + " --help");
  const std::string page =
      capture("MANWIDTH=2000 man -l " ANYSCAN_SOURCE_DIR "/man/anyscan.8 2>/dev/null");
  const size_t start = page.find("DIFFERENCES FROM ZMAP");
  ASSERT_NE(start, std::string::npos);
  const std::string differences = page.substr(start, page.find("SEE ALSO", start) - start);
  int supported = 0, refused = 0;
  for (const char* name : zmap_options) {
    const std::string flag = std::string("--") + name;
    SCOPED_TRACE(flag);
    if (std::regex_search(help, std::regex("(^|[ ,])" + flag + "[=\\s]"))) {
      ++supported;
      continue;
    }
    ++refused;
    EXPECT_NE(differences.find(flag), std::string::npos) << "not in DIFFERENCES FROM ZMAP";
    const std::string said =
        capture(std::string(ANYSCAN_BINARY) + " " + flag + "=1 -p 80 198.18.0.1 2>&1");
    EXPECT_NE(said.find(flag + " is a zmap option anyscan does not have"), std::string::npos)
        << said;
  }
  EXPECT_GE(supported, 45);
  EXPECT_GT(refused, 10);
}

}  // namespace
