#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "cli/scan_config.h"

namespace anyscan {

// --run-directory DIR: each run of a job gets its own files, named by the run's UTC start
// (DIR/20261202T013512Z.csv and .meta.json), `DIR/latest` points at the newest results,
// the checkpoint is DIR/checkpoint (so a unit's restart resumes), and the newest
// `keep_runs` runs are kept (the running one never removed).
//
// An unfinished checkpoint: this run resumes that run (same files). A finished one, or
// none: a new run (the finished checkpoint goes with its run's files, as RUN.checkpoint).
struct RunFiles {
  std::string directory;
  std::string run;  // "20261202T013512Z"
  bool resumes = false;
  std::string results, metadata, checkpoint;
  std::string finished_run;  // a finished run whose checkpoint is still DIR/checkpoint
};

// Names the files of this run in config.run_directory (created, mode 0750, if missing);
// `now_utc` is the run id of a new run. Changes nothing else: a run that fails before it
// sends leaves the directory as it was. Errors: kCantCreate for the directory, kDataErr
// for a damaged checkpoint (as --resume would say).
Result<RunFiles> plan_run_directory(const ScanConfig& config, const std::string& now_utc);

// Once the run is about to send: a finished checkpoint joins its run's files (RUN.checkpoint),
// `latest` points at this run's results, runs beyond keep_runs are removed (never this one).
// Returns the files removed.
Result<std::vector<std::string>> commit_run_directory(const RunFiles& files, uint32_t keep_runs,
                                                      const ScanConfig& config);

// "20261202T013512Z" for the current time.
std::string run_id_now();

// The configuration a run in the directory uses: -o, -m, --checkpoint-file and --resume set.
ScanConfig with_run_files(const ScanConfig& config, const RunFiles& files);

}  // namespace anyscan
