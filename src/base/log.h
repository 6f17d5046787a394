#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace anyscan {

enum class LogLevel : int { kFatal = 0, kError = 1, kWarn = 2, kInfo = 3, kDebug = 4, kTrace = 5 };

// The one log sink of all three binaries (and of libbpf/libxdp through adapters), writing
// "PROGRAM: LEVEL: ..." lines to stderr and, when enabled, the same message to the systemd
// journal with structured fields. Level follows zmap's -v (default 3 = info).
void set_log_level(LogLevel level);
LogLevel log_level();
void set_log_program(std::string_view name);
bool log_enabled(LogLevel level);
void log_message(LogLevel level, std::string_view message);

// Journal fields beside MESSAGE (e.g. {"ANYSCAN_ENGINE", "af_xdp"}), so `journalctl
// ANYSCAN_ENGINE=af_packet` finds a message. Sent only when set_log_journal(true); where
// there is no journal the send fails quietly.
using LogFields = std::vector<std::pair<std::string, std::string>>;
void set_log_journal(bool enabled);
// Where the lines go instead of stderr (zmap's -l/-L; line-buffered by the caller); nullptr
// is stderr again. The stream stays the caller's.
void set_log_stream(std::FILE* stream);
void log_message(LogLevel level, std::string_view message, const LogFields& fields);

// printf-style convenience; the format is checked by the compiler.
void logf(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace anyscan
