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

}  // namespace

Result<std::vector<EnvEntry>> parse_env_file(std::string_view text, const std::string& name) {
  std::vector<EnvEntry> entries;
  size_t line = 1;
  size_t i = 0;
  auto fail = [&](size_t at_line, const std::string& what) {
    return make_error(ExitCode::kConfig, name + ":" + std::to_string(at_line) + ": " + what);
  };
  if (text.find('\0') != std::string_view::npos) {
    size_t nul_line = 1;
    for (size_t k = 0; k < text.find('\0'); ++k) nul_line += text[k] == '\n';
    return fail(nul_line, "contains a NUL byte (binary file?)");
  }
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size()) break;
    if (text[i] == '\n') { ++line; ++i; continue; }
    if (text[i] == '#' || text[i] == ';') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    const size_t start_line = line;
    const size_t key_begin = i;
    while (i < text.size() && text[i] != '=' && text[i] != '\n') ++i;
    if (i >= text.size() || text[i] == '\n') return fail(start_line, "expected KEY=VALUE");
    std::string_view key = text.substr(key_begin, i - key_begin);
    while (!key.empty() && is_space(key.back())) key.remove_suffix(1);
    bool valid_key = !key.empty() && key_start(key[0]);
    for (char c : key) valid_key = valid_key && key_char(c);
    if (!valid_key) {
      std::string shown(key.substr(0, 40));
      for (char& c : shown) if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
      return fail(start_line, "invalid key '" + shown + "'");
    }
    ++i;  // '='
    while (i < text.size() && is_space(text[i])) ++i;
    std::string value;
    if (i < text.size() && (text[i] == '\'' || text[i] == '"')) {
      const char quote = text[i++];
      bool closed = false;
      while (i < text.size()) {
        const char c = text[i++];
        if (c == '\n') ++line;
        if (c == quote) { closed = true; break; }
        if (quote == '"' && c == '\\' && i < text.size()) {
          const char next = text[i++];
          if (next == '\n') { ++line; continue; }
          if (next == '"' || next == '\\' || next == '`' || next == '$') { value += next; continue; }
          value += '\\';
          value += next;
          continue;
        }
        value += c;
      }
      if (!closed) return fail(start_line, "unterminated " + std::string(1, quote) + "-quoted value for " + std::string(key));
      while (i < text.size() && is_space(text[i])) ++i;
      if (i < text.size() && text[i] != '\n') return fail(line, "unexpected text after the quoted value of " + std::string(key));
    } else {
      size_t keep = 0;  // value length up to the last character that was not trailing space
      while (i < text.size() && text[i] != '\n') {
        const char c = text[i++];
        if (c == '\\' && i < text.size()) {
          const char next = text[i++];
          if (next == '\n') { ++line; continue; }
          value += next;
          keep = value.size();
          continue;
        }
        value += c;
        if (!is_space(c)) keep = value.size();
      }
      value.resize(keep);
    }
    entries.push_back(EnvEntry{std::string(key), std::move(value), start_line, line});
  }
  return entries;
}

Result<std::string> read_small_file(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return make_error(ExitCode::kNoInput, errno_message("cannot open " + path, errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return make_error(ExitCode::kNoInput, errno_message("cannot stat " + path, errno));
  if (!S_ISREG(st.st_mode)) return make_error(ExitCode::kConfig, path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return make_error(ExitCode::kConfig, path + ": larger than " + std::to_string(max_bytes) + " bytes");
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
      return make_error(ExitCode::kConfig, path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  return contents;
}

}  // namespace anyscan
