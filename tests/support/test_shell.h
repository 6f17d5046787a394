#pragma once

#include <functional>
#include <string>

namespace anyscan::testing_support {

// Test-side process helpers, shared by the unit and privileged suites.

std::string read_file(const std::string& path);

// A directory for this test process's files: ctest runs test processes in parallel, so
// nothing is shared between them. Created on first use, mode 0755.
std::string process_temp_dir(const std::string& prefix);

struct ShellResult {
  int exit_code = -1;
  std::string out, err;
};
// Runs command under /bin/sh with stdin from /dev/null, capturing stdout and stderr.
ShellResult run_shell(const std::string& command);

// stdout of command (popen), stderr left alone.
std::string shell_output(const std::string& command);

// Runs checks() in a forked child (for what cannot be undone in the test process: dropped
// privileges, a seccomp filter) and returns what it returned: "" when every check held,
// else what failed; or how the child died.
std::string in_child(const std::function<std::string()>& checks);

}  // namespace anyscan::testing_support
