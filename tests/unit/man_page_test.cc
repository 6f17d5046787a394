// Every option `anyscan --help` lists is documented in anyscan(8), as man renders it.
#include <gtest/gtest.h>

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

}  // namespace
