#include "launcher/runtime_env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "base/atomic_file.h"
#include "base/env_file.h"

namespace anyscan {

std::optional<std::string> RuntimeEnv::get(const std::string& key) const {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

RuntimeEnv read_runtime_env(const std::string& path) {
  RuntimeEnv env;
  auto text = read_small_file(path, kRuntimeEnvMaxBytes);
  if (!text) {
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
      env.state = RuntimeEnv::State::kMissing;
      env.problem = path + " does not exist";
    } else {
      env.state = RuntimeEnv::State::kUnreadable;
      env.problem = text.error().message;
    }
    return env;
  }
  auto entries = parse_env_file(*text, path);
  if (!entries) {
    env.state = RuntimeEnv::State::kMalformed;
    env.problem = entries.error().message;
    return env;
  }
  env.state = RuntimeEnv::State::kOk;
  for (auto& e : *entries) env.values[e.key] = e.value;
  return env;
}

namespace {

std::string quote_value(const std::string& value) {
  bool plain = !value.empty();
  for (char c : value)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-' || c == '_' || c == '/' || c == ':' || c == '+' || c == ','))
      plain = false;
  if (plain) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '\n' || c == '\r' || c == '\0') {
      out += ' ';
      continue;
    }
    if (c == '"' || c == '\\' || c == '`' || c == '$') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The key an assignment line sets, or "" for comments, blanks and anything else.
std::string_view assigned_key(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  const size_t start = i;
  while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_'))
    ++i;
  const size_t end = i;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (end == start || i >= line.size() || line[i] != '=') return {};
  return line.substr(start, end - start);
}

}  // namespace

std::string rewrite_env(std::string_view old_text,
                        const std::vector<std::pair<std::string, std::string>>& updates) {
  // Which physical lines (1-based) start or continue an assignment of a key we own. When
  // the file parses, the parser's spans are used, so a line inside another key's multi-line
  // quoted value is never mistaken for an assignment; otherwise each line is judged alone.
  std::map<size_t, size_t> owned_start;  // first line -> index into updates
  std::set<size_t> owned_continuation;
  auto owner = [&](std::string_view key) {
    for (size_t i = 0; i < updates.size(); ++i)
      if (key == updates[i].first) return i;
    return updates.size();
  };
  if (auto entries = parse_env_file(old_text, "runtime.env")) {
    for (const auto& e : *entries) {
      const size_t i = owner(e.key);
      if (i == updates.size()) continue;
      owned_start[e.line] = i;
      for (size_t l = e.line + 1; l <= e.end_line; ++l) owned_continuation.insert(l);
    }
  } else {
    size_t number = 0;
    for (std::string_view rest = old_text; !rest.empty();) {
      ++number;
      const size_t newline = rest.find('\n');
      const std::string_view line = rest.substr(0, newline);
      rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
      const size_t i = owner(assigned_key(line));
      if (i != updates.size()) owned_start[number] = i;
    }
  }

  std::string out;
  std::vector<bool> written(updates.size(), false);
  size_t number = 0;
  while (!old_text.empty()) {
    ++number;
    const size_t newline = old_text.find('\n');
    const size_t length = newline == std::string_view::npos ? old_text.size() : newline + 1;
    const std::string_view line = old_text.substr(0, length);
    old_text.remove_prefix(length);
    if (owned_continuation.count(number)) continue;
    const auto start = owned_start.find(number);
    if (start == owned_start.end()) {
      out += line;
      continue;
    }
    const size_t i = start->second;
    if (written[i]) continue;  // a later duplicate of a key we own
    out += updates[i].first + "=" + quote_value(updates[i].second) + "\n";
    written[i] = true;
  }
  if (!out.empty() && out.back() != '\n') out += '\n';
  // A last line ending in a backslash continues into whatever follows: make sure appended
  // keys start entries of their own (found by fuzz_runtime_env).
  if (auto probe = parse_env_file(out + "ANYSCAN_REWRITE_SENTINEL=1\n", "runtime.env");
      probe && (probe->empty() || probe->back().key != "ANYSCAN_REWRITE_SENTINEL"))
    out += '\n';
  for (size_t i = 0; i < updates.size(); ++i)
    if (!written[i]) out += updates[i].first + "=" + quote_value(updates[i].second) + "\n";
  return out;
}

Result<void> update_env_file(const std::string& path,
                             const std::vector<std::pair<std::string, std::string>>& updates,
                             std::string* note) {
  // One writer at a time (postinst, trigger and boot service may overlap): the lock is
  // held from before the read until the new file is in place.
  auto writer = AtomicFileWriter::lock(path);
  if (!writer) return tl::unexpected(writer.error());

  std::string old_text;
  mode_t mode = 0644;
  auto existing = read_small_file(path, kRuntimeEnvMaxBytes);
  if (existing) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
    if (existing->find('\0') != std::string::npos) {
      if (::rename(path.c_str(), (path + ".invalid").c_str()) == 0 && note)
        *note = path + " held binary data: moved to " + path + ".invalid, wrote a fresh file";
    } else {
      old_text = std::move(*existing);
    }
  } else if (::access(path.c_str(), F_OK) == 0) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        static_cast<size_t>(st.st_size) > kRuntimeEnvMaxBytes) {
      if (::rename(path.c_str(), (path + ".invalid").c_str()) == 0 && note)
        *note = path + " was larger than 1 MiB: moved to " + path + ".invalid, wrote a fresh file";
    } else {
      return tl::unexpected(existing.error());
    }
  }
  return writer->commit(rewrite_env(old_text, updates), mode);
}

}  // namespace anyscan
