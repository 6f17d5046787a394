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

std::string in_child(const std::function<std::string()>& checks) {
  int report[2];
  if (::pipe(report) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(report[0]);
    std::string failures = checks();
    if (failures.empty()) failures = "ok";
    (void)!::write(report[1], failures.data(), failures.size());
    ::_exit(0);
  }
  ::close(report[1]);
  std::string out;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(report[0], buffer, sizeof buffer)) > 0) out.append(buffer, n);
  ::close(report[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status)) return "child died with signal " + std::to_string(WTERMSIG(status));
  return out == "ok" ? "" : out;
}

}  // namespace anyscan::testing_support
