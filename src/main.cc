// anyscan: stateless IPv4 port scanner. Parses options, runs the scan, maps failures to
// sysexits codes with one line on stderr.
#include <cstdio>

#include "base/log.h"
#include "base/sanitizer_options.h"  // once per program
#include "cli/scan_options.h"
#include "output/output_field.h"
#include "probe/probe_module.h"
#include "scan/scanner.h"

#ifndef ANYSCAN_VERSION
#define ANYSCAN_VERSION "0.0.0"
#endif

using namespace anyscan;

int main(int argc, char** argv) {
  auto config = parse_command_line(argc, argv);
  if (!config) {
    log_message(LogLevel::kError, config.error().message);
    return static_cast<int>(config.error().code);
  }
  switch (config->action) {
    case ConfigAction::kHelp:
      std::fputs(usage_text().c_str(), stdout);
      return 0;
    case ConfigAction::kVersion:
      std::printf("anyscan %s\n", ANYSCAN_VERSION);
      return 0;
    case ConfigAction::kListProbeModules:
      for (const auto& m : probe_modules())
        std::printf("%-16s %s\n", std::string(m.name).c_str(), std::string(m.description).c_str());
      return 0;
    case ConfigAction::kListOutputFields:
      // zmap's way: the fields of the probe module -M names (default tcp_synscan).
      for (const auto& f : output_fields())
        if (f.produced_by(config->probe_module))
          std::printf("%-16s %s\n", std::string(f.name).c_str(),
                      std::string(f.description).c_str());
      return 0;
    case ConfigAction::kListOutputModules:
      std::printf("%-16s %s\n%-16s %s\n%-16s %s\n", "csv",
                  "comma-separated values with a header (default)", "json",
                  "JSON lines: one object per result", "zgrab2",
                  "zgrab2's input CSV: ip,domain,tag,port per line, no header (sets -f)");
      return 0;
    case ConfigAction::kScan:
      break;
  }
  set_log_level(static_cast<LogLevel>(config->verbosity));
  // Why the scanner gives up is always printed, whatever -v says (-v 0 included).
  auto fail = [](const Error& error) {
    if (log_level() < LogLevel::kError) set_log_level(LogLevel::kError);
    log_message(LogLevel::kError, error.message);
    return static_cast<int>(error.code);
  };
  auto log_file = open_log_file(*config);
  if (!log_file) return fail(log_file.error());
  if (*log_file != nullptr) set_log_stream(*log_file);
  if (auto valid = validate_config(*config); !valid) return fail(valid.error());
  auto scanned = run_scan(*config);
  if (!scanned) return fail(scanned.error());
  return 0;
}
