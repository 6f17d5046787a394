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
  const std::set<std::string> prose = {"whose", "flags", "it",   "can",   "check", "mmap", "and",
                                       "never", "with",  "prot_exec", "clone", "only",
                                       "clone_thread", "prctl", "pr_set_name"};
  for (auto it = std::sregex_iterator(list.begin(), list.end(), word);
       it != std::sregex_iterator(); ++it) {
    const std::string w = (*it)[0];
    if (!prose.count(w) || w == "mmap" || w == "clone" || w == "prctl") documented.insert(w);
  }
  documented.insert("mprotect");  // "mmap and mprotect never with PROT_EXEC"
  std::set<std::string> allowed;
  for (auto name : anyscan::scan_syscall_names()) allowed.insert(std::string(name));
  EXPECT_EQ(documented, allowed);
}

}  // namespace
