// Every option `anyscan --help` lists is documented in anyscan(8), as man renders it.
#include <gtest/gtest.h>

#include "host/syscall_filter.h"
#include "support/test_shell.h"

#include <array>
#include <cstdio>
#include <iterator>
#include <map>
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

// Every option of zmap 4.x and zmap 2.1's names: anyscan(8)'s table in DIFFERENCES FROM
// ZMAP has one row for each, equal to the parser: "accepted" ones --help lists (with zmap's
// short letter), "refused" ones the scanner refuses with the table's reason.
TEST(ManPage, EveryZmapOptionIsSupportedOrADocumentedDifference) {
  // zmap 4.x's option list (src/zopt.ggo.in upstream): long name and short letter (0: none).
  const std::pair<const char*, char> zmap_options[] = {{"target-ports", 'p'},
                                                       {"output-file", 'o'},
                                                       {"blocklist-file", 'b'},
                                                       {"allowlist-file", 'w'},
                                                       {"list-of-ips-file", 'I'},
                                                       {"rate", 'r'},
                                                       {"bandwidth", 'B'},
                                                       {"batch", 0},
                                                       {"max-targets", 'n'},
                                                       {"max-runtime", 't'},
                                                       {"max-results", 'N'},
                                                       {"probes", 'P'},
                                                       {"cooldown-time", 'c'},
                                                       {"seed", 'e'},
                                                       {"retries", 0},
                                                       {"dryrun", 'd'},
                                                       {"fast-dryrun", 0},
                                                       {"shards", 0},
                                                       {"shard", 0},
                                                       {"source-port", 's'},
                                                       {"validate-source-port", 0},
                                                       {"source-ip", 'S'},
                                                       {"gateway-mac", 'G'},
                                                       {"source-mac", 0},
                                                       {"interface", 'i'},
                                                       {"iplayer", 'X'},
                                                       {"netmap-wait-ping", 0},
                                                       {"probe-module", 'M'},
                                                       {"probe-args", 0},
                                                       {"probe-ttl", 0},
                                                       {"list-probe-modules", 0},
                                                       {"output-fields", 'f'},
                                                       {"output-module", 'O'},
                                                       {"output-args", 0},
                                                       {"output-filter", 0},
                                                       {"list-output-modules", 0},
                                                       {"list-output-fields", 0},
                                                       {"no-header-row", 0},
                                                       {"dedup-method", 0},
                                                       {"dedup-window-size", 0},
                                                       {"verbosity", 'v'},
                                                       {"log-file", 'l'},
                                                       {"log-directory", 'L'},
                                                       {"metadata-file", 'm'},
                                                       {"status-updates-file", 'u'},
                                                       {"quiet", 'q'},
                                                       {"disable-syslog", 0},
                                                       {"notes", 0},
                                                       {"user-metadata", 0},
                                                       {"config", 'C'},
                                                       {"max-sendto-failures", 0},
                                                       {"min-hitrate", 0},
                                                       {"sender-threads", 'T'},
                                                       {"cores", 0},
                                                       {"ignore-blocklist-errors", 0},
                                                       {"help", 'h'},
                                                       {"version", 'V'},
                                                       // zmap 2.1 (Debian's) names
                                                       {"list-of-ips", 0},
                                                       {"blacklist-file", 0},
                                                       {"whitelist-file", 0},
                                                       {"ignore-invalid-hosts", 0},
                                                       {"summary", 'g'},
                                                       {"vpn", 0}};
  const std::string help = capture(std::string(ANYSCAN_BINARY) + " --help");
  const std::string page =
      capture("MANWIDTH=2000 man -l " ANYSCAN_SOURCE_DIR "/man/anyscan.8 2>/dev/null");
  // The table in DIFFERENCES FROM ZMAP: "--name[, -x]: accepted[...]" or
  // "--name[, -x]: refused: WHY", one line per option.
  const size_t start = page.find("Every zmap option");
  ASSERT_NE(start, std::string::npos);
  const std::string table = page.substr(start, page.find("\nFILES", start) - start);
  struct Row {
    char short_name;
    bool accepted;
    std::string why;
  };
  std::map<std::string, Row> rows;
  const std::regex row("\\n\\s*--([a-z-]+)(, -([A-Za-z]))?: (accepted|refused)(: ([^\\n]*))?");
  for (auto it = std::sregex_iterator(table.begin(), table.end(), row);
       it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    EXPECT_EQ(rows.count(m[1]), 0u) << m[1] << " twice in the table";
    rows[m[1]] = Row{m[3].matched ? m[3].str()[0] : '\0', m[4] == "accepted", m[6]};
  }
  EXPECT_EQ(rows.size(), std::size(zmap_options)) << "one row per zmap option, no other";
  int supported = 0, refused = 0;
  for (const auto& [name, short_name] : zmap_options) {
    const std::string flag = std::string("--") + name;
    SCOPED_TRACE(flag);
    ASSERT_EQ(rows.count(name), 1u) << "not in the table of DIFFERENCES FROM ZMAP";
    const Row& r = rows.at(name);
    EXPECT_EQ(r.short_name, short_name) << "the table's short letter";
    const bool in_help = std::regex_search(help, std::regex("(^|[ ,])" + flag + "[=\\s]"));
    EXPECT_EQ(r.accepted, in_help) << "the table says " << (r.accepted ? "accepted" : "refused");
    if (in_help) {
      ++supported;
      // zmap's short letter too, for the same option (or the one an alias names).
      if (short_name != 0) {
        std::smatch alias;
        const std::string line =
            help.substr(help.find(flag), help.find('\n', help.find(flag)) - help.find(flag));
        std::string target = flag;
        if (std::regex_search(line, alias, std::regex("name for (-[A-Za-z]/)?(--[a-z-]+)")))
          target = alias[2];
        EXPECT_TRUE(std::regex_search(
            help, std::regex(std::string("-") + short_name + ", " + target + "[=\\s]")))
            << "-" << short_name << " is not " << flag;
      }
      continue;
    }
    ++refused;
    const std::string said =
        capture(std::string(ANYSCAN_BINARY) + " " + flag + "=1 -p 80 198.18.0.1 2>&1");
    EXPECT_NE(said.find(flag + " is a zmap option anyscan does not have: " + r.why + " ("),
              std::string::npos)
        << said << "the table says: " << r.why;
    if (short_name != 0) {
      const std::string by_letter =
          capture(std::string(ANYSCAN_BINARY) + " -" + short_name + " 1 -p 80 198.18.0.1 2>&1");
      EXPECT_NE(by_letter.find("is a zmap option anyscan does not have"), std::string::npos)
          << by_letter;
    }
  }
  EXPECT_GE(supported, 55);
  EXPECT_GE(refused, 7);
}

}  // namespace
