#include "base/env_file.h"

#include <gtest/gtest.h>

namespace anyscan {
namespace {

struct Good {
  const char* text;
  std::vector<std::pair<std::string, std::string>> expected;
};

TEST(EnvFile, ParsesWhatSystemdEnvironmentFileAccepts) {
  const Good cases[] = {
      {"A=1\n", {{"A", "1"}}},
      {"# comment\n; other\n\nA=1", {{"A", "1"}}},
      {"  A = 1  \n", {{"A", "1"}}},
      {"A=two words here  \n", {{"A", "two words here"}}},
      {"A='single # kept'\n", {{"A", "single # kept"}}},
      {"A=\"dq \\\"q\\\" \\\\ \\$x\"\n", {{"A", "dq \"q\" \\ $x"}}},
      {"A=\"keep \\n\"", {{"A", "keep \\n"}}},
      {"A=multi\\\nline\n", {{"A", "multiline"}}},
      {"A='span\nlines'\nB=2", {{"A", "span\nlines"}, {"B", "2"}}},
      {"A=\r\n", {{"A", ""}}},
      {"A=x=y\n", {{"A", "x=y"}}},
      {"A=esc\\ aped\\\\", {{"A", "esc aped\\"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto parsed = parse_env_file(c.text, "f");
    ASSERT_TRUE(parsed) << parsed.error().message;
    ASSERT_EQ(parsed->size(), c.expected.size());
    for (size_t i = 0; i < c.expected.size(); ++i) {
      EXPECT_EQ((*parsed)[i].key, c.expected[i].first);
      EXPECT_EQ((*parsed)[i].value, c.expected[i].second);
    }
  }
}

TEST(EnvFile, RejectsWithFileAndLine) {
  const std::pair<std::string, std::string> cases[] = {
      {"A=1\nnot an assignment\n", "f:2: expected KEY=VALUE"},
      {"1A=1\n", "f:1: invalid key '1A'"},
      {"A B=1\n", "f:1: invalid key 'A B'"},
      {"A='open\n", "f:1: unterminated '-quoted value for A"},
      {"A=\"x\" y\n", "f:1: unexpected text after the quoted value of A"},
      {std::string("A=1\nB=\0\n", 8), "f:2: contains a NUL byte (binary file?)"},
  };
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(message);
    auto parsed = parse_env_file(text, "f");
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().message, message);
    EXPECT_EQ(parsed.error().code, ExitCode::kConfig);
  }
}

TEST(EnvFile, LineNumbersCountContinuations) {
  auto parsed = parse_env_file("A=x\\\ny\nB='a\nb'\nC=3\n", "f");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[1].line, 3u);
  EXPECT_EQ((*parsed)[2].line, 5u);
}

}  // namespace
}  // namespace anyscan
