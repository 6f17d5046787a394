#include "identify/identify_job.h"

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "base/env_file.h"
#include "base/log.h"
#include "identify/open_ports.h"

namespace anyscan {

namespace {

constexpr std::string_view kIdentifyKey = "ANYSCAN_IDENTIFY";
constexpr std::string_view kOptionPrefix = "ANYSCAN_IDENTIFY_";

volatile sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }
// SIGHUP (systemctl reload): the running child is stopped (it keeps its state) and started
// again, so it reads the job's blocklist anew: the live opt-out reaches the stage.
volatile sig_atomic_t g_reload = 0;
void on_reload(int) { g_reload = 1; }
constexpr const char* kDefaultBlocklist = "/etc/anyscan/blocklist.conf";

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The scanner creates its metadata file empty when it starts and fills it when it ends.
bool scan_ended(const std::string& metadata) {
  struct stat st {};
  return ::stat(metadata.c_str(), &st) == 0 && st.st_size > 0;
}

// The services file's state says every line of the run's results has its record.
bool finished(const std::string& services) {
  const std::string state_path = services + ".state";
  if (!exists(state_path)) return false;
  auto text = read_small_file(state_path, 4096);
  if (!text) return false;
  auto state = parse_identify_state(*text, state_path);
  return state && state->finished;
}

// Sleeps up to `ms`, less when a stop signal arrives.
void pause_ms(int ms) {
  for (int slept = 0; slept < ms && g_stop == 0; slept += 50)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// Runs one run's identification in a child; waits for it, stopping it (SIGTERM: it keeps its
// state) when we are stopped or, while it follows the newest run, a newer run appears.
Result<void> identify_in_child(const IdentifyConfig& run_config, const std::string& dir,
                               const std::string& run, bool following) {
  const pid_t parent = ::getpid();
  // Blocked across the fork: the child unblocks SIGUSR1 once its handler is there.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ::sigprocmask(SIG_BLOCK, &usr1, nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return make_error(ExitCode::kSoftware, errno_message("fork", errno));
  if (pid == 0) {
    // Killed with us (a SIGKILL of the service leaves no stage behind to race the next);
    // run_identify sets it again after the privilege drop, which clears it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(0);
    IdentifyConfig child = run_config;
    child.parent = parent;
    auto done = run_identify(child);
    if (!done) logf(LogLevel::kError, "run %s: %s", run.c_str(), done.error().message.c_str());
    std::fflush(nullptr);
    ::_exit(done ? 0 : static_cast<int>(done.error().code));
  }
  bool stopped = false, told = false;
  int status = 0;
  while (true) {
    const pid_t waited = ::waitpid(pid, &status, WNOHANG);
    if (waited == pid) break;
    if (waited < 0 && errno != EINTR) return make_error(ExitCode::kSoftware, "waitpid");
    if (!stopped && g_stop != 0) {
      ::kill(pid, SIGTERM);
      stopped = true;
    }
    if (!stopped && g_reload != 0) {
      g_reload = 0;
      logf(LogLevel::kInfo,
           "SIGHUP: run %s goes on with the blocklist %s read again (the stage restarts where "
           "it is)",
           run.c_str(), run_config.blocklist_file.c_str());
      // Twice: the second ends the child at once, without finishing the targets it holds
      // (queued ones might be opted out now); its state names the oldest of them, so the
      // next child takes them again, past the records already written.
      ::kill(pid, SIGTERM);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::kill(pid, SIGTERM);
      stopped = true;
    }
    if (following && !told && scan_ended(run_config.follow_until)) {
      ::kill(pid, SIGUSR1);  // it may not see the file: it runs confined, perhaps as nobody
      told = true;
    }
    if (!stopped && following) {
      const auto runs = list_runs(dir);
      if (!runs.empty() && runs.back() > run) {
        logf(LogLevel::kInfo,
             "run %s has no metadata and run %s has started: identifying the rest of %s "
             "without following it",
             run.c_str(), runs.back().c_str(), run.c_str());
        ::kill(pid, SIGTERM);
        stopped = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return make_error(WIFEXITED(status) ? static_cast<ExitCode>(code) : ExitCode::kSoftware,
                    "identifying run " + run + " failed (exit " + std::to_string(code) + ")");
}

}  // namespace

Result<void> apply_job_file(const std::string& path, IdentifyConfig& config) {
  auto text = read_small_file(path, 1 << 20);
  if (!text) {
    Error error = text.error();
    if (error.code == ExitCode::kNoInput) error.code = ExitCode::kConfig;
    return tl::unexpected(with_context(error, "-C"));
  }
  auto entries = parse_env_file(*text, path);
  if (!entries) return tl::unexpected(entries.error());
  config.enabled = false;
  // The job's blocklist (the scanner's key), which the stage honours too; the scanner's
  // default when the file names none, if it is there.
  config.blocklist_file = kDefaultBlocklist;
  config.blocklist_optional = true;
  for (const EnvEntry& entry : *entries) {
    const std::string where = path + ":" + std::to_string(entry.line) + ": " + entry.key;
    if (entry.key == "ANYSCAN_RUN_DIRECTORY") {
      config.run_directory = entry.value;
    } else if (entry.key == "ANYSCAN_BLOCKLIST_FILE") {
      config.blocklist_file = entry.value;
      config.blocklist_optional = false;
    } else if (entry.key == kIdentifyKey) {
      std::string v = entry.value;
      std::transform(v.begin(), v.end(), v.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (v == "yes" || v == "true" || v == "on" || v == "1")
        config.enabled = true;
      else if (!(v == "no" || v == "false" || v == "off" || v == "0"))
        return make_error(ExitCode::kConfig, where + ": expected yes or no");
    } else if (entry.key.rfind(kOptionPrefix, 0) == 0) {
      std::string name = entry.key.substr(kOptionPrefix.size());
      for (char& c : name)
        c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (auto applied = apply_identify_option(name, entry.value, config); !applied)
        return make_error(ExitCode::kConfig, where + ": " + applied.error().message);
    }  // any other key is the scanner's
  }
  if (config.run_directory.empty())
    return make_error(ExitCode::kConfig,
                      path + ": no ANYSCAN_RUN_DIRECTORY: the stage follows a job's runs there");
  return {};
}

std::vector<std::string> list_runs(const std::string& directory) {
  std::set<std::string> runs;
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return {};
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    const size_t dot = name.find('.');
    if (dot == 0 || dot == std::string::npos) continue;
    const std::string stem = name.substr(0, dot), extension = name.substr(dot);
    if ((extension != ".csv" && extension != ".json") || stem == "latest") continue;
    struct stat st {};
    if (::lstat((directory + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode))
      runs.insert(stem);
  }
  ::closedir(dir);
  return {runs.begin(), runs.end()};
}

std::string services_file(const std::string& directory, const std::string& run,
                          const IdentifyConfig& config) {
  return directory + "/" + run +
         (config.format == IdentifyConfig::Format::kCsv ? ".services.csv" : ".services.json");
}

Result<void> run_identify_job(const IdentifyConfig& config) {
  if (!config.enabled) {
    logf(LogLevel::kInfo,
         "identification is off for this job (%s: ANYSCAN_IDENTIFY=yes turns it on)",
         config.config_file.c_str());
    return {};
  }
  const std::string& dir = config.run_directory;
  struct sigaction action {};
  action.sa_handler = &on_stop;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  struct sigaction reload {};
  reload.sa_handler = &on_reload;
  ::sigaction(SIGHUP, &reload, nullptr);
  // The scan's first run makes the directory: until then, wait for it.
  for (bool said = false; !exists(dir) && g_stop == 0; said = true) {
    if (!said) logf(LogLevel::kInfo, "waiting for the job's first run to make %s", dir.c_str());
    pause_ms(1000);
  }
  logf(LogLevel::kInfo, "following the runs in %s", dir.c_str());
  while (g_stop == 0) {
    g_reload = 0;  // a child started from here reads the list as it is now
    const auto runs = list_runs(dir);
    const auto next = std::find_if(runs.begin(), runs.end(), [&](const std::string& run) {
      return !finished(services_file(dir, run, config));
    });
    if (next == runs.end()) {
      pause_ms(1000);
      continue;
    }
    const std::string& run = *next;
    const std::string metadata = dir + "/" + run + ".meta.json";
    const std::string checkpoint = dir + "/checkpoint";
    const bool following = run == runs.back() && !scan_ended(metadata);
    if (following && !exists(checkpoint)) {  // the scan is opening its files
      pause_ms(1000);
      continue;
    }
    IdentifyConfig run_config = config;
    run_config.run_directory.clear();
    run_config.input = dir + "/" + run + (exists(dir + "/" + run + ".csv") ? ".csv" : ".json");
    run_config.output = services_file(dir, run, config);
    run_config.resume = true;
    if (following) {
      run_config.follow_until = metadata;
      run_config.follow_checkpoint = checkpoint;
    }
    logf(LogLevel::kInfo, "identifying the open ports of run %s%s into %s", run.c_str(),
         following ? " while its scan runs" : "", run_config.output.c_str());
    auto done = identify_in_child(run_config, dir, run, following);
    if (!done && done.error().code == ExitCode::kTempFail) {
      // A stage that is going (a killed service's, as its kernel resources are freed).
      logf(LogLevel::kWarn, "%s: retrying in a second", done.error().message.c_str());
      pause_ms(1000);
      continue;
    }
    if (!done) return done;
  }
  logf(LogLevel::kInfo, "stopped: the next start goes on where this one was");
  return {};
}

}  // namespace anyscan
