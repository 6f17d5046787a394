#include "launcher/runtime_env.h"
#include "support/test_shell.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "base/env_file.h"
#include "launcher/af_xdp_probe.h"

namespace anyscan {
namespace {

const std::vector<std::pair<std::string, std::string>> kVerdict = {
    {kKeyAvailable, "true"},
    {kKeyReason, "kernel 6.1.0 >= 5.10, libxdp loads"},
    {kKeyProbedKernel, "6.1.0-13-amd64"}};

TEST(RewriteEnv, KeepsEveryOtherLineByteForByte) {
  const std::string old_text =
      "# anyscan runtime settings\n"
      "\n"
      "ANYSCAN_SCANNER_IO_ENGINE=af_packet   # admin's choice\n"
      "ANYSCAN_AF_XDP_AVAILABLE=false\n"
      "  ; odd comment  \r\n"
      "OTHER='x y'\n"
      "ANYSCAN_AF_XDP_AVAILABLE=true\n";
  const std::string expected =
      "# anyscan runtime settings\n"
      "\n"
      "ANYSCAN_SCANNER_IO_ENGINE=af_packet   # admin's choice\n"
      "ANYSCAN_AF_XDP_AVAILABLE=true\n"
      "  ; odd comment  \r\n"
      "OTHER='x y'\n"
      "ANYSCAN_AF_XDP_PROBE_REASON=\"kernel 6.1.0 >= 5.10, libxdp loads\"\n"
      "ANYSCAN_AF_XDP_PROBED_KERNEL=6.1.0-13-amd64\n";
  EXPECT_EQ(rewrite_env(old_text, kVerdict), expected);
  // Idempotent: a second probe with the same verdict changes nothing.
  EXPECT_EQ(rewrite_env(expected, kVerdict), expected);
}

TEST(RewriteEnv, WritesFalseExplicitlyAndQuotesSafely) {
  const std::string text =
      rewrite_env("", {{kKeyAvailable, "false"}, {kKeyReason, "say \"no\" $HOME `x` \\ \n end"}});
  EXPECT_EQ(text,
            "ANYSCAN_AF_XDP_AVAILABLE=false\nANYSCAN_AF_XDP_PROBE_REASON=\"say \\\"no\\\" \\$HOME "
            "\\`x\\` \\\\   end\"\n");
  // What we write parses back to what we meant (newline flattened to a space).
  const RuntimeEnv env = [&] {
    const std::string path = testing::TempDir() + std::to_string(::getpid()) + "-quoted.env";
    std::ofstream(path) << text;
    return read_runtime_env(path);
  }();
  ASSERT_EQ(env.state, RuntimeEnv::State::kOk);
  EXPECT_EQ(env.get(kKeyReason), "say \"no\" $HOME `x` \\   end");
}

TEST(RewriteEnv, LinesInsideAnotherKeysQuotedValueAreNotAssignments) {
  const std::string old_text =
      "NOTE='copied from the "
      "docs:\nANYSCAN_AF_XDP_AVAILABLE=true\n'\nANYSCAN_AF_XDP_AVAILABLE=x\\\ny\n";
  const std::string text = rewrite_env(old_text, {{kKeyAvailable, "false"}});
  EXPECT_EQ(text,
            "NOTE='copied from the "
            "docs:\nANYSCAN_AF_XDP_AVAILABLE=true\n'\nANYSCAN_AF_XDP_AVAILABLE=false\n");
}

TEST(RewriteEnv, AppendedKeysDoNotContinueABackslashEndedLine) {
  const std::string text = rewrite_env("X=a\\\n", {{kKeyAvailable, "false"}});
  auto entries = parse_env_file(text, "t");
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].value, "a");
  EXPECT_EQ((*entries)[1].key, kKeyAvailable);
}

TEST(RewriteEnv, FileWithoutTrailingNewlineGetsOne) {
  EXPECT_EQ(rewrite_env("# c", {{kKeyAvailable, "true"}}), "# c\nANYSCAN_AF_XDP_AVAILABLE=true\n");
}

using testing_support::read_file;

TEST(UpdateEnvFile, ReplacesAtomicallyAndKeepsMode) {
  const std::string path = testing::TempDir() + std::to_string(::getpid()) + "-runtime.env";
  std::ofstream(path) << "# keep me\nANYSCAN_SCANNER_IO_ENGINE=auto\n";
  ::chmod(path.c_str(), 0640);
  std::string note;
  ASSERT_TRUE(update_env_file(path, kVerdict, &note));
  EXPECT_TRUE(note.empty());
  EXPECT_EQ(read_file(path).rfind(
                "# keep me\nANYSCAN_SCANNER_IO_ENGINE=auto\nANYSCAN_AF_XDP_AVAILABLE=true\n", 0),
            0u);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(UpdateEnvFile, BinaryOrHugeFileIsMovedAsideAndReplaced) {
  const std::string path = testing::TempDir() + std::to_string(::getpid()) + "-binary.env";
  std::ofstream(path, std::ios::binary) << std::string(
      "\x7f"
      "ELF\0\0garbage",
      12);
  std::string note;
  ASSERT_TRUE(update_env_file(path, kVerdict, &note));
  EXPECT_NE(note.find("moved to " + path + ".invalid"), std::string::npos) << note;
  EXPECT_EQ(read_runtime_env(path).get(kKeyAvailable), "true");
  EXPECT_EQ(read_file(path + ".invalid").size(), 12u);

  {
    std::ofstream huge(path, std::ios::binary);
    huge << std::string(2 << 20, '#');
  }
  note.clear();
  ASSERT_TRUE(update_env_file(path, kVerdict, &note));
  EXPECT_NE(note.find("larger than 1 MiB"), std::string::npos) << note;
  EXPECT_EQ(read_runtime_env(path).get(kKeyAvailable), "true");
}

TEST(UpdateEnvFile, UnwritableDirectoryIsAClearError) {
  std::string note;
  auto result = update_env_file("/nonexistent-dir/runtime.env", kVerdict, &note);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ExitCode::kCantCreate);
  EXPECT_NE(result.error().message.find("/nonexistent-dir/runtime.env.tmp"), std::string::npos);
}

TEST(ReadRuntimeEnv, StatesForMissingGarbageAndGood) {
  const std::string dir = testing::TempDir() + std::to_string(::getpid());
  EXPECT_EQ(read_runtime_env(dir + "-none.env").state, RuntimeEnv::State::kMissing);
  std::ofstream(dir + "-garbage.env") << "this is not\nan env file\n";
  EXPECT_EQ(read_runtime_env(dir + "-garbage.env").state, RuntimeEnv::State::kMalformed);
  std::ofstream(dir + "-bin.env", std::ios::binary) << std::string("A=1\0", 4);
  EXPECT_EQ(read_runtime_env(dir + "-bin.env").state, RuntimeEnv::State::kMalformed);
  EXPECT_EQ(read_runtime_env("/proc/self").state, RuntimeEnv::State::kUnreadable);
}

TEST(AfXdpProbe, KernelVersionGate) {
  struct Case {
    const char* release;
    bool available;
  };
  for (const Case& c :
       {Case{"5.4.0-150-generic", false}, Case{"5.9.16", false}, Case{"5.10.0-26-amd64", true},
        Case{"6.1.0-13-amd64", true}, Case{"6.18.44-fc-v595", true}, Case{"4.19.0", false},
        Case{"10.0", true}, Case{"garbage", false}, Case{"", false}}) {
    SCOPED_TRACE(c.release);
    ProbeFacts facts{c.release, true, "", true, ""};
    EXPECT_EQ(decide_af_xdp(facts).available, c.available) << decide_af_xdp(facts).reason;
  }
  EXPECT_EQ(decide_af_xdp({"5.4.0", true, "", true, ""}).reason, "kernel 5.4.0 is older than 5.10");
}

TEST(AfXdpProbe, EveryCheckMustPass) {
  ProbeFacts no_libxdp{"6.1.0", false, "libxdp.so.1: cannot open shared object file", true, ""};
  EXPECT_FALSE(decide_af_xdp(no_libxdp).available);
  EXPECT_EQ(decide_af_xdp(no_libxdp).reason,
            "libxdp cannot be loaded: libxdp.so.1: cannot open shared object file");
  ProbeFacts no_socket{"6.1.0", true, "", false, "Address family not supported by protocol"};
  EXPECT_EQ(decide_af_xdp(no_socket).reason,
            "socket(AF_XDP) failed: Address family not supported by protocol");
}

}  // namespace
}  // namespace anyscan
