#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cli/scan_config.h"

namespace anyscan {

// One row per option: the CLI flag, its config-file key (ANYSCAN_ + upper-snake long name),
// help text and the parser that applies a value. --help, the man-page test, the config
// file and the command line all read this one table.
struct OptionSpec {
  const char* long_name;
  char short_name;      // 0 if none
  const char* metavar;  // nullptr: a flag without value
  const char* help;
  Result<void> (*apply)(ScanConfig& config, std::string_view value);
};

const std::vector<OptionSpec>& option_table();
std::string config_key(const OptionSpec& option);  // "ANYSCAN_TARGET_PORTS"
std::string usage_text();

// -C FILE is read first, then the command line overrides it. Errors: kUsage for the command
// line, kConfig for the file, each naming the flag or FILE:LINE: KEY and the bad value.
Result<ScanConfig> parse_command_line(int argc, char** argv);
Result<void> apply_config_file(ScanConfig& config, std::string_view contents,
                               const std::string& name);
// Cross-option checks (ports needed by tcp, shard < shards, ...): kUsage naming the flags, or
// kConfig with FILE:LINE: KEY when every option they name came from the -C file.
Result<void> validate_config(const ScanConfig& config);

// -l FILE or -L DIR (zmap's): the log file, created or emptied, line-buffered and close-on-exec
// (-L: DIR/anyscan-YYYY-MM-DDTHHMMSS+ZZZZ.log in local time, as zmap names its own); nullptr
// without either. Both given: kUsage; the file cannot be made: kCantCreate naming it.
Result<std::FILE*> open_log_file(const ScanConfig& config);
Result<void> validate_options(const ScanConfig& config);  // the same, not attributed

}  // namespace anyscan
