#include "base/log.h"

#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>

namespace anyscan {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_journal{false};
std::string g_program = "anyscan";
std::mutex g_mutex;
std::FILE* g_stream = nullptr;  // nullptr: stderr

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kFatal:
      return "fatal";
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kTrace:
      return "trace";
  }
  return "log";
}

// syslog(3) priorities.
int priority(LogLevel level) {
  switch (level) {
    case LogLevel::kFatal:
      return 2;
    case LogLevel::kError:
      return 3;
    case LogLevel::kWarn:
      return 4;
    case LogLevel::kInfo:
      return 6;
    case LogLevel::kDebug:
    case LogLevel::kTrace:
      return 7;
  }
  return 6;
}

void send_to_journal(LogLevel level, std::string_view message, const LogFields& fields) {
  std::vector<std::string> items = {"MESSAGE=" + std::string(message),
                                    "PRIORITY=" + std::to_string(priority(level)),
                                    "SYSLOG_IDENTIFIER=" + g_program};
  for (const auto& [key, value] : fields) items.push_back(key + "=" + value);
  std::vector<iovec> vectors;
  for (auto& item : items) vectors.push_back(iovec{item.data(), item.size()});
  sd_journal_sendv(vectors.data(), static_cast<int>(vectors.size()));
}

}  // namespace

void set_log_journal(bool enabled) { g_journal.store(enabled); }

void set_log_stream(std::FILE* stream) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_stream = stream;
}

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }
void set_log_program(std::string_view name) { g_program = std::string(name); }
bool log_enabled(LogLevel level) { return static_cast<int>(level) <= g_level.load(); }

void log_message(LogLevel level, std::string_view message) { log_message(level, message, {}); }

void log_message(LogLevel level, std::string_view message, const LogFields& fields) {
  if (!log_enabled(level)) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(g_stream != nullptr ? g_stream : stderr, "%s: %s: %.*s\n", g_program.c_str(),
               level_name(level), static_cast<int>(message.size()), message.data());
  if (g_journal.load()) send_to_journal(level, message, fields);
}

void logf(LogLevel level, const char* format, ...) {
  if (!log_enabled(level)) return;
  char buffer[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  log_message(level, buffer);
}

}  // namespace anyscan
