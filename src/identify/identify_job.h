#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "identify/identify_run.h"

namespace anyscan {

// Identification as a service of a scan job (anyscan-identify -C /etc/anyscan/jobs/NAME.conf,
// run by anyscan-identify@NAME.service). The job's file, in anyscan.conf(5)'s syntax, is the
// scanner's: ANYSCAN_IDENTIFY=yes turns the stage on for the job, ANYSCAN_IDENTIFY_<OPTION>
// sets one of anyscan-identify's options (ANYSCAN_IDENTIFY_CONCURRENCY=2000,
// ANYSCAN_IDENTIFY_OUTPUT_FORMAT=csv), ANYSCAN_RUN_DIRECTORY says where the runs are; every
// other ANYSCAN_ key is the scanner's and left to it. An unknown ANYSCAN_IDENTIFY_ key is
// kConfig naming FILE:LINE.
Result<void> apply_job_file(const std::string& path, IdentifyConfig& config);

// The runs of a run directory, oldest first: NAME where NAME.csv or NAME.json (a regular
// file) holds a scan's results and NAME has no dot (`latest`, `checkpoint` and this stage's
// NAME.services.* files are not runs).
std::vector<std::string> list_runs(const std::string& directory);

// The output of one run's identification in `directory`: NAME.services.json (zgrab2 or JSON
// lines) or NAME.services.csv; its state is that name + ".state". A later run of the job
// removes both with the run's other files (--keep-runs).
std::string services_file(const std::string& directory, const std::string& run,
                          const IdentifyConfig& config);

// Identifies every run of config.run_directory whose services file is not finished, oldest
// first; the newest one, while its scan still writes it, is followed (--follow-until its
// metadata, --follow-checkpoint the job's checkpoint, so a resumed scan's cut tail is never
// read). Then waits for the next run. Each run is identified by a child process, which
// confines itself (no capabilities, seccomp) before it reads a byte of a server's; a newer
// run appearing while an older one is followed (the older was abandoned) stops that child,
// whose state lets the next pass finish it without following. SIGTERM/SIGINT: the child
// finishes its targets in flight and keeps its state; exit 0, and the next start resumes.
// A run directory that does not exist yet is waited for. Errors: a child's failure (its
// exit code).
Result<void> run_identify_job(const IdentifyConfig& config);

}  // namespace anyscan
