#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace anyscan {

struct EnvEntry {
  std::string key;
  std::string value;
  size_t line = 0;      // 1-based line the assignment starts on
  size_t end_line = 0;  // line it ends on (quoted values and continuations span lines)
};

// Parses KEY=VALUE assignments with the rules of systemd's EnvironmentFile= (systemd.exec(5)):
// '#'/';' comment lines and blank lines are skipped; leading/trailing whitespace of a value
// is dropped; unquoted values keep interior whitespace, take "\x" as x and join a line that
// ends in '\'; '...' is verbatim and may span lines; "..." knows \" \\ \` \$ and
// backslash-newline. Stricter than systemd where it would silently guess: a NUL byte, an
// invalid key, a line with no '=', an unterminated quote or text after a closing quote is
// an error naming NAME:LINE (code kConfig).
Result<std::vector<EnvEntry>> parse_env_file(std::string_view contents, const std::string& name);

// Reads at most max_bytes of path; larger files, unreadable files and non-regular files are
// errors (kConfig; kNoInput if it cannot be opened).
Result<std::string> read_small_file(const std::string& path, size_t max_bytes);

}  // namespace anyscan
