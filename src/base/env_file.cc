#include "base/env_file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "base/unique_fd.h"

namespace anyscan {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool key_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool key_char(char c) { return key_start(c) || (c >= '0' && c <= '9'); }

// Where the parser is: offset and 1-based line.
struct Cursor {
  std::string_view text;
  size_t i = 0;
  size_t line = 1;
  bool done() const { return i >= text.size(); }
};

// After the opening quote: up to the closing one. false: the quote never closes.
bool read_quoted(Cursor& c, char quote, std::string& value) {
  while (!c.done()) {
    const char ch = c.text[c.i++];
    if (ch == '\n') ++c.line;
    if (ch == quote) return true;
    if (quote == '"' && ch == '\\' && !c.done()) {
      const char next = c.text[c.i++];
      if (next == '\n') {
        ++c.line;
        continue;
      }
      if (next == '"' || next == '\\' || next == '`' || next == '$') {
        value += next;
        continue;
      }
      value += '\\';
      value += next;
      continue;
    }
    value += ch;
  }
  return false;
}

// Up to the end of the line: "\x" is x, a trailing backslash joins the next line, and
// trailing whitespace is dropped.
std::string read_unquoted(Cursor& c) {
  std::string value;
  size_t keep = 0;  // value length up to the last character that was not trailing space
  while (!c.done() && c.text[c.i] != '\n') {
    const char ch = c.text[c.i++];
    if (ch == '\\' && !c.done()) {
      const char next = c.text[c.i++];
      if (next == '\n') {
        ++c.line;
        continue;
      }
      value += next;
      keep = value.size();
      continue;
    }
    value += ch;
    if (!is_space(ch)) keep = value.size();
  }
  value.resize(keep);
  return value;
}

std::string printable(std::string_view text) {
  std::string shown(text.substr(0, 40));
  for (char& ch : shown)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) ch = '?';
  return shown;
}

}  // namespace

Result<std::vector<EnvEntry>> parse_env_file(std::string_view text, const std::string& name) {
  std::vector<EnvEntry> entries;
  Cursor c{text};
  auto fail = [&](size_t at_line, const std::string& what) {
    return make_error(ExitCode::kConfig, name + ":" + std::to_string(at_line) + ": " + what);
  };
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
    size_t nul_line = 1;
    for (size_t k = 0; k < nul; ++k) nul_line += text[k] == '\n';
    return fail(nul_line, "contains a NUL byte (binary file?)");
  }
  while (!c.done()) {
    while (!c.done() && is_space(text[c.i])) ++c.i;
    if (c.done()) break;
    if (text[c.i] == '\n') {
      ++c.line;
      ++c.i;
      continue;
    }
    if (text[c.i] == '#' || text[c.i] == ';') {
      while (!c.done() && text[c.i] != '\n') ++c.i;
      continue;
    }
    const size_t start_line = c.line;
    const size_t key_begin = c.i;
    while (!c.done() && text[c.i] != '=' && text[c.i] != '\n') ++c.i;
    if (c.done() || text[c.i] == '\n') return fail(start_line, "expected KEY=VALUE");
    std::string_view key = text.substr(key_begin, c.i - key_begin);
    while (!key.empty() && is_space(key.back())) key.remove_suffix(1);
    bool valid_key = !key.empty() && key_start(key[0]);
    for (char ch : key) valid_key = valid_key && key_char(ch);
    if (!valid_key) return fail(start_line, "invalid key '" + printable(key) + "'");
    ++c.i;  // '='
    while (!c.done() && is_space(text[c.i])) ++c.i;
    std::string value;
    if (!c.done() && (text[c.i] == '\'' || text[c.i] == '"')) {
      const char quote = text[c.i++];
      if (!read_quoted(c, quote, value))
        return fail(start_line, "unterminated " + std::string(1, quote) + "-quoted value for " +
                                    std::string(key));
      while (!c.done() && is_space(text[c.i])) ++c.i;
      if (!c.done() && text[c.i] != '\n')
        return fail(c.line, "unexpected text after the quoted value of " + std::string(key));
    } else {
      value = read_unquoted(c);
    }
    entries.push_back(EnvEntry{std::string(key), std::move(value), start_line, c.line});
  }
  return entries;
}

Result<std::string> read_small_file(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid())
    return make_error(ExitCode::kNoInput, errno_message("cannot open " + path, errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return make_error(ExitCode::kNoInput, errno_message("cannot stat " + path, errno));
  if (!S_ISREG(st.st_mode)) return make_error(ExitCode::kConfig, path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return make_error(ExitCode::kConfig,
                      path + ": larger than " + std::to_string(max_bytes) + " bytes");
  std::string contents;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ExitCode::kNoInput, errno_message("cannot read " + path, errno));
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > max_bytes)
      return make_error(ExitCode::kConfig,
                        path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  return contents;
}

}  // namespace anyscan
