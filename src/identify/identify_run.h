#pragma once

#include <sys/types.h>

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
  // --follow-checkpoint: read the input only up to the results offset the scan's checkpoint
  // names (what a resumed scan never cuts), until the scan ends.
  std::string follow_checkpoint;
  bool resume = false;  // continue OUTPUT from OUTPUT.state
  // -C/--config FILE: a scan job's file (ANYSCAN_IDENTIFY_* keys, ANYSCAN_RUN_DIRECTORY);
  // with it (or --run-directory) the stage identifies every run of the job (identify_job.h).
  std::string config_file;
  std::string run_directory;
  bool enabled = true;  // ANYSCAN_IDENTIFY in the job's file
  // Set for a job's child (identify_job.h): killed when its parent dies, also after the
  // privilege drop (which clears a parent-death signal set before it).
  pid_t parent = 0;
  // -O: zgrab2's JSON lines (default), or the scanner's own CSV or JSON with -f fields
  // (service, status and banner beside the scanner's: saddr, sport, timestamp_str, ...)
  // and --output-filter in the scanner's language.
  enum class Format { kZgrab2, kCsv, kJson } format = Format::kZgrab2;
  std::vector<OutputField> fields = {OutputField::kSaddr, OutputField::kSport,
                                     OutputField::kService, OutputField::kStatus,
                                     OutputField::kBanner};
  std::string output_filter;
  IdentifyLimits limits;
  // --blocklist-file: open ports whose address the file lists (zmap's format) are not
  // identified: the live opt-out reaches the stage (a job's: the job's -b list, read again
  // when the stage is reloaded). Empty or /dev/null: none; blocklist_optional: a missing
  // file is none (the job's default list), else an error.
  std::string blocklist_file;
  bool blocklist_optional = false;
  std::string user = "nobody";  // started as root: the account it runs as once files are open
  bool no_seccomp = false;
};

// Parses argv; kUsage naming the option for bad input. `help`/`version` set when asked.
struct IdentifyCommand {
  IdentifyConfig config;
  bool help = false, version = false;
};
Result<IdentifyCommand> parse_identify_args(int argc, char** argv);
// One option by its long name ("concurrency"), as -C files give them; kUsage as on the
// command line, kConfig for a name that is not an option a file may set.
Result<void> apply_identify_option(std::string_view name, const std::string& value,
                                   IdentifyConfig& config);
std::string identify_usage();

// Reads the open ports as they arrive in the input (following a growing file: the scanner
// writes it, the stage never slows or blocks the scan), identifies each, and writes exactly
// one record per open port; OUTPUT.state lets a killed run resume without a repeat or a gap.
// --resume of an output whose state says finished returns at once. SIGTERM/SIGINT: the
// records of the targets in flight are finished, the state kept, exit 0 (--resume goes on).
Result<void> run_identify(const IdentifyConfig& config);

}  // namespace anyscan
