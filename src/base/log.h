#pragma once

#include <string_view>

namespace anyscan {

enum class LogLevel : int { kFatal = 0, kError = 1, kWarn = 2, kInfo = 3, kDebug = 4, kTrace = 5 };

// One log sink for the whole process (ours, and libbpf/libxdp through adapters), writing
// "anyscan: warn: ..." lines to stderr. Level follows zmap's -v (default 3 = info).
void set_log_level(LogLevel level);
LogLevel log_level();
void set_log_program(std::string_view name);
bool log_enabled(LogLevel level);
void log_message(LogLevel level, std::string_view message);

// printf-style convenience; the format is checked by the compiler.
void logf(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace anyscan
