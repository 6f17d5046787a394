#include "support/test_shell.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace anyscan::testing_support {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string process_temp_dir(const std::string& prefix) {
  const std::string dir = ::testing::TempDir() + prefix + std::to_string(::getpid());
  std::system(("mkdir -p '" + dir + "' && chmod 755 '" + dir + "'").c_str());
  return dir;
}

ShellResult run_shell(const std::string& command) {
  static const std::string dir = process_temp_dir("anyscan-shell-");
  const std::string out = dir + "/run.out", err = dir + "/run.err";
  const int status = std::system((command + " >" + out + " 2>" + err + " </dev/null").c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out), read_file(err)};
}

std::string shell_output(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) out.append(buffer, n);
    ::pclose(p);
  }
  return out;
}

}  // namespace anyscan::testing_support
