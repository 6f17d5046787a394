#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "identify/identifier.h"
#include "output/output_field.h"

namespace anyscan {

// anyscan-identify's configuration (anyscan-identify(1)).
struct IdentifyConfig {
  std::string input = "-";    // scanner results (CSV with header, or JSON lines); - = stdin
  std::string output = "-";   // JSON lines; - = stdout
  bool zgrab2_input = false;  // the input is zgrab2's headerless ip,domain,tag,port CSV
  std::string follow_until;   // follow the input until this file exists (the scan's -m)
  bool resume = false;        // continue OUTPUT from OUTPUT.state
  // -O: zgrab2's JSON lines (default), or the scanner's own CSV or JSON with -f fields
  // (service, status and banner beside the scanner's: saddr, sport, timestamp_str, ...)
  // and --output-filter in the scanner's language.
  enum class Format { kZgrab2, kCsv, kJson } format = Format::kZgrab2;
  std::vector<OutputField> fields = {OutputField::kSaddr, OutputField::kSport,
                                     OutputField::kService, OutputField::kStatus,
                                     OutputField::kBanner};
  std::string output_filter;
  IdentifyLimits limits;
  std::string user = "nobody";  // started as root: the account it runs as once files are open
  bool no_seccomp = false;
};

// Parses argv; kUsage naming the option for bad input. `help`/`version` set when asked.
struct IdentifyCommand {
  IdentifyConfig config;
  bool help = false, version = false;
};
Result<IdentifyCommand> parse_identify_args(int argc, char** argv);
std::string identify_usage();

// Reads the open ports as they arrive in the input (following a growing file: the scanner
// writes it, the stage never slows or blocks the scan), identifies each, and writes exactly
// one record per open port; OUTPUT.state lets a killed run resume without a repeat or a gap.
Result<void> run_identify(const IdentifyConfig& config);

}  // namespace anyscan
