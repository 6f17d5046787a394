#include "store/run_directory.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <set>

#include "store/checkpoint_file.h"

namespace anyscan {
namespace {

// A run id: 8 digits, 'T', 6 digits, 'Z'.
bool is_run_id(std::string_view name) {
  if (name.size() != 16 || name[8] != 'T' || name[15] != 'Z') return false;
  for (size_t i = 0; i < 15; ++i)
    if (i != 8 && (name[i] < '0' || name[i] > '9')) return false;
  return true;
}

std::string extension(const ScanConfig& config) {
  return config.output_format == OutputFormat::kJson ? ".json" : ".csv";
}

// The run ids that have files in dir, oldest first.
std::vector<std::string> runs_in(const std::string& dir) {
  std::set<std::string> runs;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string_view name = e->d_name;
      if (name.size() > 16 && is_run_id(name.substr(0, 16)) && name[16] == '.')
        runs.insert(std::string(name.substr(0, 16)));
    }
    ::closedir(d);
  }
  return {runs.begin(), runs.end()};
}

// Every file of run `run` in dir (RUN.csv, RUN.meta.json, RUN.checkpoint, ...).
std::vector<std::string> files_of(const std::string& dir, const std::string& run) {
  std::vector<std::string> files;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name.rfind(run + ".", 0) == 0) files.push_back(dir + "/" + name);
    }
    ::closedir(d);
  }
  return files;
}

// `latest` -> RUN.EXT, replaced atomically (a symlink renamed over the old one).
Result<void> point_latest(const std::string& dir, const std::string& target) {
  const std::string temp = dir + "/.latest.tmp";
  ::unlink(temp.c_str());
  if (::symlink(target.c_str(), temp.c_str()) != 0 ||
      ::rename(temp.c_str(), (dir + "/latest").c_str()) != 0)
    return make_error(ExitCode::kCantCreate, errno_message(dir + "/latest", errno));
  return {};
}

std::string format_run_id(time_t t) {
  tm utc{};
  ::gmtime_r(&t, &utc);
  char id[32];
  std::strftime(id, sizeof id, "%Y%m%dT%H%M%SZ", &utc);
  return id;
}

// The run id one second after `run` (which is_run_id).
std::string next_second(const std::string& run) {
  tm utc{};
  if (::strptime(run.c_str(), "%Y%m%dT%H%M%SZ", &utc) == nullptr) return run + "1";
  return format_run_id(::timegm(&utc) + 1);
}

}  // namespace

std::string run_id_now() { return format_run_id(::time(nullptr)); }

Result<RunFiles> plan_run_directory(const ScanConfig& config, const std::string& now_utc) {
  const std::string& dir = config.run_directory;
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
    return make_error(ExitCode::kCantCreate, errno_message("--run-directory " + dir, errno));
  RunFiles files;
  files.directory = dir;
  files.checkpoint = dir + "/checkpoint";
  auto read = read_checkpoint(files.checkpoint);
  if (!read) return tl::unexpected(read.error());
  if (const std::optional<Checkpoint>& saved = *read) {
    const std::string base = saved->results_path.substr(saved->results_path.rfind('/') + 1);
    const std::string run = base.substr(0, base.find('.'));
    if (is_run_id(run) && !saved->finished) {
      files.run = run;
      files.resumes = true;
    } else if (is_run_id(run)) {
      files.finished_run = run;
    }
  }
  if (!files.resumes) {
    // Unique in the directory: a run started in the same second as an earlier one (a quick
    // restart) takes the next free second rather than that run's files.
    files.run = now_utc;
    while (!files_of(dir, files.run).empty()) files.run = next_second(files.run);
  }
  files.results = dir + "/" + files.run + extension(config);
  files.metadata = dir + "/" + files.run + ".meta.json";
  return files;
}

Result<std::vector<std::string>> commit_run_directory(const RunFiles& files, uint32_t keep_runs,
                                                      const ScanConfig& config) {
  const std::string& dir = files.directory;
  if (!files.finished_run.empty()) {
    const std::string kept = dir + "/" + files.finished_run + ".checkpoint";
    if (::rename(files.checkpoint.c_str(), kept.c_str()) != 0)
      return make_error(ExitCode::kCantCreate, errno_message(kept, errno));
  }
  if (auto latest = point_latest(dir, files.run + extension(config)); !latest)
    return tl::unexpected(latest.error());
  std::vector<std::string> runs = runs_in(dir);
  if (std::find(runs.begin(), runs.end(), files.run) == runs.end()) runs.push_back(files.run);
  std::sort(runs.begin(), runs.end());
  const size_t keep = std::max<size_t>(keep_runs, 1);
  std::vector<std::string> removed;
  for (size_t i = 0; i + keep < runs.size(); ++i) {
    if (runs[i] == files.run) continue;
    for (const std::string& file : files_of(dir, runs[i]))
      if (::unlink(file.c_str()) == 0) removed.push_back(file);
  }
  return removed;
}

ScanConfig with_run_files(const ScanConfig& config, const RunFiles& files) {
  ScanConfig c = config;
  c.output_file = files.results;
  c.metadata_file = files.metadata;
  c.checkpoint_file = files.checkpoint;
  c.resume = files.resumes;
  c.run_directory.clear();
  return c;
}

}  // namespace anyscan
