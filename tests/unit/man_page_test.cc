// Every option `anyscan --help` lists is documented in anyscan(8), as man renders it.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <regex>
#include <set>
#include <string>

namespace {

std::string capture(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    std::array<char, 4096> buffer;
    size_t n;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), p)) > 0) out.append(buffer.data(), n);
    ::pclose(p);
  }
  return out;
}

TEST(ManPage, DocumentsEveryOptionOfHelp) {
  const std::string help = capture(std::string(ANYSCAN_BINARY) + " --help");
  std::set<std::string> flags;
  const std::regex flag("(^|[ ,])(--[a-z][a-z-]+)");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), flag); it != std::sregex_iterator(); ++it)
    flags.insert((*it)[2]);
  ASSERT_GT(flags.size(), 30u) << help;
  const std::string page = capture("MANWIDTH=200 man -l " ANYSCAN_SOURCE_DIR "/man/anyscan.8 2>/dev/null");
  ASSERT_NE(page.find("OPTIONS"), std::string::npos) << "man did not render anyscan.8";
  for (const auto& f : flags) EXPECT_NE(page.find(f), std::string::npos) << f << " is in --help but not in anyscan(8)";
}

}  // namespace
