#include "identify/identify_run.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <ctime>
#include <set>
#include <utility>

#include "base/env_file.h"
#include "base/log.h"
#include "base/parse_number.h"
#include "base/unique_fd.h"
#include "base/write_all.h"
#include "host/privilege_drop.h"
#include "host/syscall_filter.h"
#include "identify/identify_job.h"
#include "identify/open_ports.h"
#include "output/output_filter.h"
#include "output/record_formatter.h"
#include "store/checkpoint_file.h"
#include "target/target_parser.h"

namespace anyscan {

namespace {

uint64_t monotonic_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

volatile sig_atomic_t g_signals = 0;
void on_signal(int) { g_signals = g_signals + 1; }
// SIGUSR1: the scan has ended, as --follow-until's file would say (a job's parent sends it:
// the stage, confined, may not be able to look into the run directory).
volatile sig_atomic_t g_scan_ended = 0;
void on_scan_ended(int) { g_scan_ended = 1; }

// The input as lines with their offsets; a growing file is followed (a partial last line
// waits for its newline).
class LineSource {
 public:
  LineSource(int fd, uint64_t offset) : fd_(fd), offset_(offset) {}
  // Reads no byte at or beyond `limit` (an offset in the file) until it is raised.
  void set_limit(uint64_t limit) { limit_ = limit; }
  // The next whole line (without its newline) and its start offset; nullopt at the current
  // end. Errors: kIoErr.
  Result<std::optional<std::pair<std::string, uint64_t>>> next() {
    while (true) {
      const size_t eol = buffer_.find('\n', scanned_);
      if (eol != std::string::npos) {
        std::string line = buffer_.substr(0, eol);
        const uint64_t start = offset_;
        offset_ += eol + 1;
        buffer_.erase(0, eol + 1);
        scanned_ = 0;
        if (line.size() > kMaxLine) line.resize(kMaxLine);
        return std::optional<std::pair<std::string, uint64_t>>(
            std::make_pair(std::move(line), start));
      }
      scanned_ = buffer_.size();
      char chunk[65536];
      const uint64_t position = offset_ + buffer_.size();
      if (position >= limit_) return std::optional<std::pair<std::string, uint64_t>>();
      const ssize_t n = ::read(fd_, chunk, std::min<uint64_t>(sizeof chunk, limit_ - position));
      if (n < 0) {
        if (errno == EINTR) continue;
        return make_error(ExitCode::kIoErr, errno_message("reading the input", errno));
      }
      if (n == 0) return std::optional<std::pair<std::string, uint64_t>>();
      buffer_.append(chunk, static_cast<size_t>(n));
      if (buffer_.size() > 4 * kMaxLine) {  // a "line" that never ends: cut it
        buffer_.push_back('\n');
      }
    }
  }
  // The offset of the next line not yet returned.
  uint64_t offset() const { return offset_; }
  bool partial() const { return !buffer_.empty(); }

 private:
  static constexpr size_t kMaxLine = 1 << 16;
  int fd_;
  uint64_t offset_;
  std::string buffer_;
  size_t scanned_ = 0;
  uint64_t limit_ = UINT64_MAX;
};

bool exists_nonempty(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
}

struct Files {
  UniqueFd input, output, state;
  UniqueFd checkpoint;    // --follow-checkpoint
  bool finished = false;  // --resume of a finished identification: nothing to do
  uint64_t output_size = 0;
  uint64_t input_start = 0;
  std::set<std::pair<IpAddress, uint16_t>> done;  // records after the state's output offset
  AddressSet blocked;                             // --blocklist-file
};

// --blocklist-file, read with the other files before the stage confines itself.
Result<AddressSet> read_blocklist(const IdentifyConfig& config) {
  const std::string& path = config.blocklist_file;
  if (path.empty() || path == "/dev/null") return AddressSet();
  if (config.blocklist_optional && ::access(path.c_str(), F_OK) != 0) return AddressSet();
  auto set = load_target_file(path);
  if (!set) return tl::unexpected(with_context(set.error(), "--blocklist-file"));
  return set;
}

// The bytes of `path` from `offset` on (a resume reads back only the records written since
// its state, not the whole output). kDataErr when the file is shorter than that.
Result<std::string> read_from(const std::string& path, uint64_t offset) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return make_error(ExitCode::kNoInput, errno_message("cannot open " + path, errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return make_error(ExitCode::kIoErr, errno_message("cannot stat " + path, errno));
  if (static_cast<uint64_t>(st.st_size) < offset)
    return make_error(ExitCode::kDataErr, path + " is shorter than its .state says");
  std::string text;
  char chunk[65536];
  ssize_t n;
  off_t at = static_cast<off_t>(offset);
  while ((n = ::pread(fd.get(), chunk, sizeof chunk, at)) > 0) {
    text.append(chunk, static_cast<size_t>(n));
    at += n;
  }
  if (n < 0) return make_error(ExitCode::kIoErr, errno_message("reading " + path, errno));
  return text;
}

// The (address, port) of a record this stage wrote in the configured format.
std::optional<std::pair<IpAddress, uint16_t>> written_target(const IdentifyConfig& config,
                                                             std::string_view line) {
  if (config.format == IdentifyConfig::Format::kZgrab2) return record_target(line);
  OpenPortParser parser;
  if (config.format == IdentifyConfig::Format::kJson) {
    parser.set_json(true);
  } else {
    if (!line.empty() && !std::isdigit(static_cast<unsigned char>(line[0])) &&
        line.find(':') == std::string_view::npos)
      return std::nullopt;  // the header
    if (!parser.header(csv_header(config.fields), "")) return std::nullopt;
  }
  // Every record written counts, whatever its status: a row "to skip" is still a record.
  std::string with_open(line);
  auto target = parser.parse(with_open, "", 0);
  if (!target || !*target) return std::nullopt;
  return std::make_pair((*target)->ip, (*target)->port);
}

// Opens everything before the process confines itself; on --resume reads the state and the
// records written after it, and cuts a torn last record.
Result<Files> open_files(const IdentifyConfig& config) {
  Files files;
  auto blocked = read_blocklist(config);
  if (!blocked) return tl::unexpected(blocked.error());
  files.blocked = std::move(*blocked);
  if (config.input == "-") {
    files.input.reset(::dup(STDIN_FILENO));
  } else {
    files.input.reset(::open(config.input.c_str(), O_RDONLY | O_CLOEXEC));
    if (!files.input.valid())
      return make_error(ExitCode::kNoInput, errno_message("cannot open " + config.input, errno));
  }
  if (config.output == "-") {
    if (config.resume) return make_error(ExitCode::kUsage, "--resume needs -o FILE");
    files.output.reset(::dup(STDOUT_FILENO));
    return files;
  }
  const std::string state_path = config.output + ".state";
  IdentifyState state;
  if (config.resume) {
    if (config.input == "-")
      return make_error(ExitCode::kUsage, "--resume needs a input file, not -");
    // Missing or empty (killed before the first state): from the start, skipping every
    // record the output already holds.
    auto text = ::access(state_path.c_str(), F_OK) == 0 ? read_small_file(state_path, 4096)
                                                        : Result<std::string>(std::string());
    if (!text) return tl::unexpected(text.error());
    auto parsed = parse_identify_state(*text, state_path);
    if (!parsed) return tl::unexpected(parsed.error());
    state = *parsed;
    if (state.finished) {
      files.finished = true;
      return files;
    }
    const bool exists = ::access(config.output.c_str(), F_OK) == 0;
    if (!exists && state.output_offset != 0)
      return make_error(ExitCode::kDataErr, config.output + " is shorter than its .state says");
    auto written =
        exists ? read_from(config.output, state.output_offset) : Result<std::string>(std::string());
    if (!written) return tl::unexpected(written.error());
    // Whole records after the state's offset are done; a torn last one is cut.
    size_t at = 0, end = 0;
    while (true) {
      const size_t eol = written->find('\n', at);
      if (eol == std::string::npos) break;
      if (auto target = written_target(config, std::string_view(*written).substr(at, eol - at)))
        files.done.insert(*target);
      at = end = eol + 1;
    }
    files.output_size = state.output_offset + end;
    files.input_start = state.input_offset;
  }
  files.output.reset(::open(config.output.c_str(),
                            O_WRONLY | O_CREAT | O_CLOEXEC | (config.resume ? 0 : O_TRUNC), 0644));
  if (!files.output.valid())
    return make_error(ExitCode::kCantCreate,
                      errno_message("-o: cannot create " + config.output, errno));
  // One writer per output: a second stage on it would interleave records and states.
  if (::flock(files.output.get(), LOCK_EX | LOCK_NB) != 0)
    return make_error(errno == EWOULDBLOCK ? ExitCode::kTempFail : ExitCode::kIoErr,
                      errno_message("-o " + config.output +
                                        " is being written by another "
                                        "anyscan-identify",
                                    errno));
  if (config.resume && ::ftruncate(files.output.get(), static_cast<off_t>(files.output_size)) != 0)
    return make_error(ExitCode::kIoErr, errno_message("cutting " + config.output, errno));
  ::lseek(files.output.get(), static_cast<off_t>(files.output_size), SEEK_SET);
  files.state.reset(::open(state_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!files.state.valid())
    return make_error(ExitCode::kCantCreate, errno_message("cannot create " + state_path, errno));
  if (!config.follow_checkpoint.empty()) {
    // Kept open: the scanner rewrites its slots in place (and a later run moves the file).
    files.checkpoint.reset(::open(config.follow_checkpoint.c_str(), O_RDONLY | O_CLOEXEC));
    if (!files.checkpoint.valid())
      return make_error(ExitCode::kNoInput,
                        errno_message("--follow-checkpoint " + config.follow_checkpoint, errno));
  }
  return files;
}

Result<void> confine(const IdentifyConfig& config) {
  auto user = scan_user_for(config.user);
  if (!user) return tl::unexpected(user.error());
  std::optional<ScanSyscallFilter> filter;
  if (!config.no_seccomp) {
    auto built = ScanSyscallFilter::build_for_tcp_client();
    if (!built) return tl::unexpected(built.error());
    filter = std::move(*built);
  }
  auto dropped = drop_privileges(*user);
  if (!dropped) return tl::unexpected(dropped.error());
  if (config.parent !=
      0) {  // a job's child: gone with its parent (after the drop, which clears it)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != config.parent) return make_error(ExitCode::kSoftware, "parent gone");
  }
  const uid_t uid = ::getuid();  // before the filter, which does not allow it
  if (filter)
    if (auto loaded = filter->load(); !loaded) return loaded;
  logf(LogLevel::kInfo, "setup done: no capabilities left, running as %s (uid %u)%s",
       dropped->user ? dropped->user->name.c_str() : "the starting user", uid,
       filter ? (", system-call filter of " + std::to_string(filter->allowed()) + " calls").c_str()
              : ", no system-call filter (--no-seccomp)");
  return {};
}

}  // namespace

namespace {

// One identification run: the input followed and parsed, the stage fed while it has room,
// records written in order of completion, the resume state kept each second.
class IdentifyLoop {
 public:
  IdentifyLoop(const IdentifyConfig& config, Files& files, Identifier& identifier)
      : config_(config),
        files_(files),
        identifier_(identifier),
        source_(config.input == "-" ? "stdin" : config.input),
        lines_(files.input.get(), 0),
        kind_known_(config.zgrab2_input),
        logical_output_(files.output_size) {
    if (config.zgrab2_input) parser_.zgrab2_input();
  }

  Result<void> run() {
    if (!config_.output_filter.empty()) {
      auto filter = OutputFilter::parse(config_.output_filter);
      if (!filter) return tl::unexpected(with_context(filter.error(), "--output-filter"));
      filter_ = std::move(*filter);
    }
    if (config_.format == IdentifyConfig::Format::kCsv && files_.output_size == 0) {
      const std::string header = csv_header(config_.fields) + "\n";
      out_buffer_ += header;
      logical_output_ += header.size();
    }
    uint64_t last_state_ms = monotonic_ms();
    std::vector<ServiceRecord> done;
    while (true) {
      refresh_limit();
      if (auto taken = take_input(); !taken) return taken;
      notice_end_of_input();
      if (input_done_ && identifier_.in_flight() == 0) break;
      if (g_signals >= 2) break;
      done.clear();
      identifier_.poll(input_done_ || identifier_.full() ? 100 : 20, done);
      for (const ServiceRecord& r : done) {
        const std::string line = render(r);
        out_buffer_ += line;
        logical_output_ += line.size();
        records_ += !line.empty();
      }
      if (out_buffer_.size() > (1u << 20) || monotonic_ms() - last_state_ms >= 1000) {
        if (auto f = flush(); !f) return f;
        last_state_ms = monotonic_ms();
      }
    }
    // Every line has its record unless a signal ended the input early.
    if (auto f = flush(g_signals == 0 && input_done_); !f) return f;
    logf(LogLevel::kInfo, "identified %" PRIu64 " open ports%s%s%s", records_,
         skipped_done_ != 0
             ? (" (" + std::to_string(skipped_done_) + " already in the output)").c_str()
             : "",
         opted_out_ != 0 ? (", " + std::to_string(opted_out_) +
                            " skipped: their addresses are in " + config_.blocklist_file)
                               .c_str()
                         : "",
         g_signals != 0 ? ", stopped by a signal: --resume continues" : "");
    return {};
  }

 private:
  // One record in the output's format ("" when --output-filter leaves it out).
  std::string render(const ServiceRecord& r) const {
    if (config_.format == IdentifyConfig::Format::kZgrab2) return service_record_json(r);
    ResultRecord record;
    record.reply.saddr = r.target.ip;
    record.reply.sport = r.target.port;
    record.reply.classification = Classification::kSynAck;
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    record.time_s = now.tv_sec;
    record.time_us = static_cast<int32_t>(now.tv_nsec / 1000);
    record.service = service_name(r.service);
    record.status = status_name(r.status);
    record.banner = r.banner;
    if (filter_ && !filter_->matches(record)) return "";
    return format_record(record, config_.format == IdentifyConfig::Format::kJson, config_.fields) +
           "\n";
  }

  // On resume the header is read at 0 and the lines from the state's offset on.
  Result<void> skip_to(uint64_t offset) {
    if (offset <= lines_.offset()) return {};
    if (::lseek(files_.input.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
      return make_error(ExitCode::kIoErr, errno_message("seeking in " + source_, errno));
    lines_ = LineSource(files_.input.get(), offset);
    return {};
  }

  // The input's kind (CSV with a header, or JSON lines) from its first line; true when
  // that line is a result to take.
  Result<bool> first_line(const std::string& text) {
    kind_known_ = true;
    const bool json = !text.empty() && text[0] == '{';
    parser_.set_json(json);
    if (!json)
      if (auto h = parser_.header(text, source_); !h) return tl::unexpected(h.error());
    if (auto s = skip_to(files_.input_start); !s) return tl::unexpected(s.error());
    return json && files_.input_start == 0;
  }

  // New input while the stage has room (none after a signal).
  Result<void> take_input() {
    while (!input_done_ && g_signals == 0 && !identifier_.full()) {
      auto line = lines_.next();
      if (!line) return tl::unexpected(line.error());
      if (!*line) return {};
      ++line_number_;
      const std::string& text = (*line)->first;
      if (!kind_known_) {
        auto take = first_line(text);
        if (!take) return tl::unexpected(take.error());
        if (!*take) continue;
      }
      if (text.empty()) continue;
      auto target = parser_.parse(text, source_, line_number_);
      if (!target) return tl::unexpected(target.error());
      if (!*target) continue;
      if (files_.done.erase({(*target)->ip, (*target)->port}) != 0) {
        ++skipped_done_;
        continue;
      }
      if (!files_.blocked.empty() && files_.blocked.contains((*target)->ip)) {
        ++opted_out_;  // no connection, no record: the address opted out
        continue;
      }
      IdentifyTarget t = **target;
      t.input_offset = (*line)->second;
      t.output_offset = logical_output_;
      identifier_.add(t);
    }
    return {};
  }

  // The end of the input: now, or (following) one more reading round after the scan's
  // end marker appeared (what the scan wrote before it is in the file by then).
  void notice_end_of_input() {
    if (input_done_ || identifier_.full()) return;
    if (g_signals != 0 || config_.follow_until.empty() || end_marker_seen_)
      input_done_ = true;
    else if (g_scan_ended != 0 || exists_nonempty(config_.follow_until))
      end_marker_seen_ = true;
  }

  // --follow-checkpoint: the input is read up to the results offset of the scan's newest
  // checkpoint (re-read at most every 200 ms), all of it once the scan has finished (the
  // checkpoint says so, or the end marker is there).
  void refresh_limit() {
    if (!files_.checkpoint.valid()) return;
    if (end_marker_seen_) {
      lines_.set_limit(UINT64_MAX);
      return;
    }
    const uint64_t now = monotonic_ms();
    if (checkpoint_read_ms_ != 0 && now - checkpoint_read_ms_ < 200) return;
    checkpoint_read_ms_ = now;
    std::string bytes(kMaxCheckpointBytes, '\0');
    const ssize_t n = ::pread(files_.checkpoint.get(), bytes.data(), bytes.size(), 0);
    if (n <= 0) return;
    bytes.resize(static_cast<size_t>(n));
    auto checkpoint = parse_checkpoint_file(bytes);
    if (!checkpoint) return;  // being written: the previous limit stands
    const auto base = [](const std::string& path) { return path.substr(path.rfind('/') + 1); };
    if (base(checkpoint->results_path) != base(config_.input)) return;  // another run's
    lines_.set_limit(checkpoint->finished ? UINT64_MAX : checkpoint->results_offset);
  }

  // Records out, synced, then the state: every line before the oldest in flight is in the
  // output before the output size it saw when it was taken. `finished`: the last one.
  Result<void> flush(bool finished = false) {
    if (!out_buffer_.empty()) {
      if (auto w = write_all(files_.output.get(), out_buffer_, config_.output); !w) return w;
      out_buffer_.clear();
    }
    if (!files_.state.valid()) return {};
    ::fdatasync(files_.output.get());
    IdentifyState state{lines_.offset(), logical_output_};
    if (auto oldest = identifier_.oldest_in_flight())
      state = IdentifyState{oldest->input_offset, oldest->output_offset};
    state.finished = finished;
    const std::string text = identify_state_text(state);
    // Cut to its size: a state can be shorter than the one before it.
    if (::pwrite(files_.state.get(), text.data(), text.size(), 0) !=
            static_cast<ssize_t>(text.size()) ||
        ::ftruncate(files_.state.get(), static_cast<off_t>(text.size())) != 0)
      return make_error(ExitCode::kIoErr,
                        errno_message("writing the state of " + config_.output, errno));
    ::fdatasync(files_.state.get());
    return {};
  }

  const IdentifyConfig& config_;
  Files& files_;
  Identifier& identifier_;
  const std::string source_;
  OpenPortParser parser_;
  LineSource lines_;
  bool kind_known_;
  uint64_t line_number_ = 0;
  std::string out_buffer_;
  uint64_t logical_output_;  // bytes written or buffered
  uint64_t records_ = 0, skipped_done_ = 0, opted_out_ = 0;
  bool input_done_ = false, end_marker_seen_ = false;
  uint64_t checkpoint_read_ms_ = 0;
  static constexpr size_t kMaxCheckpointBytes = 2 * kCheckpointSlotBytes;
  std::optional<OutputFilter> filter_;
};

}  // namespace

Result<void> run_identify(const IdentifyConfig& config) {
  auto files = open_files(config);
  if (!files) return tl::unexpected(files.error());
  if (files->finished) {
    logf(LogLevel::kInfo, "%s: finished already (its .state says so): nothing to do",
         config.output.c_str());
    return {};
  }
  if (!config.follow_checkpoint.empty() && config.follow_until.empty())
    return make_error(ExitCode::kUsage, "--follow-checkpoint needs --follow-until (the scan's -m)");
  auto tls = TlsClientContext::create();
  if (!tls) return tl::unexpected(tls.error());
  auto identifier = Identifier::create(config.limits, *tls);
  if (!identifier) return tl::unexpected(identifier.error());
  struct sigaction action {};
  action.sa_handler = &on_signal;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  struct sigaction ended {};
  ended.sa_handler = &on_scan_ended;
  ::sigaction(SIGUSR1, &ended, nullptr);
  sigset_t usr1;  // a job's parent forks with it blocked: one sent early waits for the handler
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ::sigprocmask(SIG_UNBLOCK, &usr1, nullptr);
  if (auto confined = confine(config); !confined) return confined;
  IdentifyLoop loop(config, *files, **identifier);
  return loop.run();
}

namespace {

Result<uint32_t> number(const char* option, const char* value, uint64_t min, uint64_t max) {
  auto n = parse_decimal(value, max);
  if (!n || *n < min)
    return make_error(ExitCode::kUsage, std::string(option) + " '" + value + "': expected " +
                                            std::to_string(min) + "-" + std::to_string(max));
  return static_cast<uint32_t>(*n);
}

}  // namespace

std::string identify_usage() {
  return "Usage: anyscan-identify [OPTION]... [RESULTS]\n"
         "Identifies the service on every open port of an anyscan (or zmap) results file.\n\n"
         "  -i, --input FILE        scanner results, CSV with header or JSON lines (default -)\n"
         "  -o, --output FILE       JSON lines, zgrab2's schema (default -)\n"
         "      --zgrab2-input      the input is zgrab2's ip,domain,tag,port CSV (no header)\n"
         "  -O, --output-format F   zgrab2 (default: zgrab2's JSON lines), csv or json (the\n"
         "                          scanner's formats, with -f and --output-filter)\n"
         "  -f, --output-fields L   e.g. saddr,sport,service,status,banner,timestamp_str\n"
         "      --output-filter E   the scanner's language: 'service = http && status = success'\n"
         "      --follow-until FILE follow the growing input until FILE exists (the scan's -m)\n"
         "      --resume            continue -o FILE from FILE.state after a kill\n"
         "      --follow-checkpoint F  read only what the scan's checkpoint F names (a\n"
         "                          resumed scan may cut the rest), until --follow-until\n"
         "      --blocklist-file F  skip open ports whose address F lists (zmap's format)\n"
         "  -C, --config JOB.conf   identify every run of a scan job (ANYSCAN_IDENTIFY_* keys,\n"
         "                          ANYSCAN_RUN_DIRECTORY): the service mode\n"
         "      --run-directory DIR the same for the runs in DIR, without a job file\n"
         "  -c, --concurrency N     targets in flight (default 1000)\n"
         "      --connect-timeout MS  per connection (default 3000)\n"
         "      --read-timeout MS   silence that ends a step (default 2000)\n"
         "      --target-timeout MS all of one target's connections (default 20000)\n"
         "      --max-bytes N       read per connection (default 65536)\n"
         "      --per-host N        connections at once to one address (default 4)\n"
         "      --host-interval MS  between two connections to one address (default 0)\n"
         "      --local-ports A-B   local ports of the connections (default 61001-65535,\n"
         "                          outside the scanner's; 'kernel' = the kernel's choice)\n"
         "      --user NAME         started as root: run as NAME once files are open (nobody)\n"
         "      --no-seccomp        no system-call filter\n"
         "  -h, --help, -V, --version\n";
}

namespace {

enum {
  kFilter = 999,
  kZgrab = 1000,
  kFollow,
  kResume,
  kConnect,
  kRead,
  kTarget,
  kMax,
  kPerHost,
  kInterval,
  kLocal,
  kUser,
  kNoSeccomp,
  kFollowCheckpoint,
  kRunDirectory,
  kBlocklist
};

Result<void> output_format(std::string_view v, IdentifyConfig& c) {
  if (v == "zgrab2")
    c.format = IdentifyConfig::Format::kZgrab2;
  else if (v == "csv")
    c.format = IdentifyConfig::Format::kCsv;
  else if (v == "json")
    c.format = IdentifyConfig::Format::kJson;
  else
    return make_error(ExitCode::kUsage,
                      "-O/--output-format '" + std::string(v) + "': expected zgrab2, csv or json");
  return {};
}

// One option into the command.
// The numeric options: each a bound of the stage.
struct NumberOption {
  int opt;
  const char* name;
  uint64_t min, max;
  uint32_t IdentifyLimits::*member;
};
constexpr NumberOption kNumberOptions[] = {
    {'c', "--concurrency", 1, 100000, &IdentifyLimits::concurrency},
    {kConnect, "--connect-timeout", 1, 600000, &IdentifyLimits::connect_timeout_ms},
    {kRead, "--read-timeout", 1, 600000, &IdentifyLimits::read_timeout_ms},
    {kTarget, "--target-timeout", 1, 3600000, &IdentifyLimits::target_timeout_ms},
    {kMax, "--max-bytes", 16, 1 << 26, &IdentifyLimits::max_bytes},
    {kPerHost, "--per-host", 1, 10000, &IdentifyLimits::per_host},
    {kInterval, "--host-interval", 0, 600000, &IdentifyLimits::host_interval_ms},
};

Result<void> local_ports(std::string_view v, IdentifyLimits& limits) {
  if (v == "kernel") {
    limits.local_port_first = limits.local_port_last = 0;
    return {};
  }
  const size_t dash = v.find('-');
  auto first = parse_decimal(v.substr(0, dash), 65535);
  auto last = dash == std::string_view::npos ? first : parse_decimal(v.substr(dash + 1), 65535);
  if (!first || !last || *first == 0 || *last < *first)
    return make_error(ExitCode::kUsage, "--local-ports '" + std::string(v) +
                                            "': expected FIRST-LAST within 1-65535, or kernel");
  limits.local_port_first = static_cast<uint16_t>(*first);
  limits.local_port_last = static_cast<uint16_t>(*last);
  return {};
}

const option kLongOptions[] = {{"input", required_argument, nullptr, 'i'},
                               {"output", required_argument, nullptr, 'o'},
                               {"zgrab2-input", no_argument, nullptr, kZgrab},
                               {"follow-until", required_argument, nullptr, kFollow},
                               {"resume", no_argument, nullptr, kResume},
                               {"concurrency", required_argument, nullptr, 'c'},
                               {"connect-timeout", required_argument, nullptr, kConnect},
                               {"read-timeout", required_argument, nullptr, kRead},
                               {"target-timeout", required_argument, nullptr, kTarget},
                               {"max-bytes", required_argument, nullptr, kMax},
                               {"per-host", required_argument, nullptr, kPerHost},
                               {"host-interval", required_argument, nullptr, kInterval},
                               {"local-ports", required_argument, nullptr, kLocal},
                               {"user", required_argument, nullptr, kUser},
                               {"no-seccomp", no_argument, nullptr, kNoSeccomp},
                               {"help", no_argument, nullptr, 'h'},
                               {"version", no_argument, nullptr, 'V'},
                               {"output-format", required_argument, nullptr, 'O'},
                               {"output-fields", required_argument, nullptr, 'f'},
                               {"output-filter", required_argument, nullptr, kFilter},
                               {"follow-checkpoint", required_argument, nullptr, kFollowCheckpoint},
                               {"config", required_argument, nullptr, 'C'},
                               {"run-directory", required_argument, nullptr, kRunDirectory},
                               {"blocklist-file", required_argument, nullptr, kBlocklist},
                               {nullptr, 0, nullptr, 0}};

// Options a job's file may not set: the job mode sets them per run, or they are the
// command line's.
bool file_may_set(std::string_view name) {
  for (const char* not_in_files :
       {"input", "output", "zgrab2-input", "follow-until", "follow-checkpoint", "resume", "config",
        "run-directory", "user", "no-seccomp", "help", "version"})
    if (name == not_in_files) return false;
  return true;
}

// One option into the command.
Result<void> apply_option(int opt, const char* arg, const char* opt_text,
                          IdentifyCommand& command) {
  IdentifyConfig& c = command.config;
  for (const NumberOption& o : kNumberOptions)
    if (o.opt == opt) {
      auto n = number(o.name, arg, o.min, o.max);
      if (!n) return tl::unexpected(n.error());
      c.limits.*o.member = *n;
      return {};
    }
  switch (opt) {
    case 'i':
      c.input = arg;
      break;
    case 'o':
      c.output = arg;
      break;
    case kZgrab:
      c.zgrab2_input = true;
      break;
    case kFollow:
      c.follow_until = arg;
      break;
    case kFollowCheckpoint:
      c.follow_checkpoint = arg;
      break;
    case 'C':
      c.config_file = arg;
      break;
    case kRunDirectory:
      c.run_directory = arg;
      break;
    case kBlocklist:
      c.blocklist_file = arg;
      c.blocklist_optional = false;
      break;
    case kResume:
      c.resume = true;
      break;
    case kLocal:
      return local_ports(arg, c.limits);
    case 'O':
      return output_format(arg, c);
    case 'f': {
      auto fields = parse_output_fields(arg);
      if (!fields) return tl::unexpected(with_context(fields.error(), "-f"));
      c.fields = std::move(*fields);
      return {};
    }
    case kFilter:
      c.output_filter = arg;
      break;
    case kUser:
      c.user = arg;
      break;
    case kNoSeccomp:
      c.no_seccomp = true;
      break;
    case 'h':
      command.help = true;
      break;
    case 'V':
      command.version = true;
      break;
    case ':':
      return make_error(ExitCode::kUsage, std::string("option ") + opt_text + " needs a value");
    default:
      return make_error(ExitCode::kUsage,
                        std::string("unknown option ") + opt_text + " (see --help)");
  }
  return {};
}

}  // namespace

Result<IdentifyCommand> parse_identify_args(int argc, char** argv) {
  IdentifyCommand command;
  IdentifyConfig& c = command.config;
  c.limits.local_port_first = kIdentifyPortFirst;
  c.limits.local_port_last = kIdentifyPortLast;
  // -C first, so that the command line overrides the file whatever the order.
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string_view(argv[i]) == "-C" || std::string_view(argv[i]) == "--config")
      c.config_file = argv[i + 1];
    else if (std::string_view(argv[i]).rfind("--config=", 0) == 0)
      c.config_file = argv[i] + 9;
  if (!c.config_file.empty())
    if (auto applied = apply_job_file(c.config_file, c); !applied)
      return tl::unexpected(applied.error());
  ::optind = 1;
  ::opterr = 0;
  int opt;
  while ((opt = ::getopt_long(argc, argv, ":i:o:c:O:f:C:hV", kLongOptions, nullptr)) != -1) {
    if (auto applied = apply_option(opt, ::optarg, argv[::optind - 1], command); !applied)
      return tl::unexpected(applied.error());
  }
  if (c.format != IdentifyConfig::Format::kZgrab2) {
    const bool address =
        std::find(c.fields.begin(), c.fields.end(), OutputField::kSaddr) != c.fields.end();
    const bool port =
        std::find(c.fields.begin(), c.fields.end(), OutputField::kSport) != c.fields.end();
    if (!address || !port)
      return make_error(ExitCode::kUsage, "-f: the fields must include saddr and sport");
  } else if (!c.output_filter.empty()) {
    return make_error(ExitCode::kUsage, "--output-filter needs -O csv or -O json");
  }
  if (::optind < argc) c.input = argv[::optind++];
  if (::optind < argc)
    return make_error(ExitCode::kUsage, std::string("unexpected argument ") + argv[::optind]);
  if (!c.run_directory.empty() && (c.input != "-" || c.output != "-" || c.resume ||
                                   !c.follow_until.empty() || !c.follow_checkpoint.empty()))
    return make_error(
        ExitCode::kUsage,
        "a job's runs (-C or --run-directory) name their own input, output, "
        "--follow-until and state: -i, -o, --resume and --follow-* do not go with it");
  return command;
}

Result<void> apply_identify_option(std::string_view name, const std::string& value,
                                   IdentifyConfig& config) {
  for (const option& o : kLongOptions) {
    if (o.name == nullptr || name != o.name) continue;
    if (!file_may_set(name) || o.has_arg != required_argument) break;
    IdentifyCommand command;
    command.config = config;
    const std::string text = "--" + std::string(name);
    if (auto applied = apply_option(o.val, value.c_str(), text.c_str(), command); !applied)
      return applied;
    config = command.config;
    return {};
  }
  return make_error(ExitCode::kConfig, "not an option a job's file may set");
}

}  // namespace anyscan
