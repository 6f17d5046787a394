#include "identify/identify_run.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <ctime>
#include <set>
#include <utility>

#include "base/log.h"
#include "base/parse_number.h"
#include "base/unique_fd.h"
#include "base/write_all.h"
#include "host/privilege_drop.h"
#include "host/syscall_filter.h"
#include "identify/open_ports.h"

namespace anyscan {

namespace {

uint64_t monotonic_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

volatile sig_atomic_t g_signals = 0;
void on_signal(int) { g_signals = g_signals + 1; }

// The input as lines with their offsets; a growing file is followed (a partial last line
// waits for its newline).
class LineSource {
 public:
  LineSource(int fd, uint64_t offset) : fd_(fd), offset_(offset) {}
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
      const ssize_t n = ::read(fd_, chunk, sizeof chunk);
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
};

bool exists_nonempty(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
}

struct Files {
  UniqueFd input, output, state;
  uint64_t output_size = 0;
  uint64_t input_start = 0;
  std::string header;                             // the CSV header line, when the input has one
  std::set<std::pair<IpAddress, uint16_t>> done;  // records after the state's output offset
};

Result<std::string> read_whole(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return make_error(ExitCode::kNoInput, errno_message("cannot open " + path, errno));
  std::string text;
  char chunk[65536];
  ssize_t n;
  while ((n = ::read(fd.get(), chunk, sizeof chunk)) > 0)
    text.append(chunk, static_cast<size_t>(n));
  if (n < 0) return make_error(ExitCode::kIoErr, errno_message("reading " + path, errno));
  return text;
}

// Opens everything before the process confines itself; on --resume reads the state and the
// records written after it, and cuts a torn last record.
Result<Files> open_files(const IdentifyConfig& config) {
  Files files;
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
    auto text = read_whole(state_path);
    if (!text) return tl::unexpected(text.error());
    auto parsed = parse_identify_state(*text, state_path);
    if (!parsed) return tl::unexpected(parsed.error());
    state = *parsed;
    auto written = read_whole(config.output);
    if (!written) return tl::unexpected(written.error());
    if (written->size() < state.output_offset)
      return make_error(ExitCode::kDataErr,
                        config.output + " is shorter than " + state_path + " says");
    // Whole records after the state's offset are done; a torn last one is cut.
    size_t at = state.output_offset, end = state.output_offset;
    while (true) {
      const size_t eol = written->find('\n', at);
      if (eol == std::string::npos) break;
      if (auto target = record_target(std::string_view(*written).substr(at, eol - at)))
        files.done.insert(*target);
      at = end = eol + 1;
    }
    files.output_size = end;
    files.input_start = state.input_offset;
  }
  files.output.reset(::open(config.output.c_str(),
                            O_WRONLY | O_CREAT | O_CLOEXEC | (config.resume ? 0 : O_TRUNC), 0644));
  if (!files.output.valid())
    return make_error(ExitCode::kCantCreate,
                      errno_message("-o: cannot create " + config.output, errno));
  if (config.resume && ::ftruncate(files.output.get(), static_cast<off_t>(files.output_size)) != 0)
    return make_error(ExitCode::kIoErr, errno_message("cutting " + config.output, errno));
  ::lseek(files.output.get(), static_cast<off_t>(files.output_size), SEEK_SET);
  files.state.reset(::open(state_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!files.state.valid())
    return make_error(ExitCode::kCantCreate, errno_message("cannot create " + state_path, errno));
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

Result<void> run_identify(const IdentifyConfig& config) {
  auto files = open_files(config);
  if (!files) return tl::unexpected(files.error());
  auto tls = TlsClientContext::create();
  if (!tls) return tl::unexpected(tls.error());
  auto identifier = Identifier::create(config.limits, *tls);
  if (!identifier) return tl::unexpected(identifier.error());

  // The input's kind and header come from its first line.
  OpenPortParser parser;
  const std::string source = config.input == "-" ? "stdin" : config.input;
  LineSource lines(files->input.get(), 0);
  uint64_t line_number = 0;
  if (config.zgrab2_input) parser.zgrab2_input();

  struct sigaction action {};
  action.sa_handler = &on_signal;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  if (auto confined = confine(config); !confined) return confined;

  bool kind_known = config.zgrab2_input;
  // On resume the header is read at 0 and the lines from the state's offset on.
  auto skip_to = [&](uint64_t offset) -> Result<void> {
    if (offset <= lines.offset()) return {};
    if (::lseek(files->input.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
      return make_error(ExitCode::kIoErr, errno_message("seeking in " + source, errno));
    lines = LineSource(files->input.get(), offset);
    return {};
  };
  std::string out_buffer;
  uint64_t logical_output = files->output_size;  // bytes written or buffered
  uint64_t last_state_ms = monotonic_ms();
  uint64_t records = 0, skipped_done = 0;
  bool input_done = false, end_marker_seen = false;
  std::vector<ServiceRecord> done;

  auto flush = [&](bool final) -> Result<void> {
    if (!out_buffer.empty()) {
      if (auto w = write_all(files->output.get(), out_buffer, config.output); !w) return w;
      out_buffer.clear();
    }
    if (!files->state.valid()) return {};
    ::fdatasync(files->output.get());
    IdentifyState state;
    if (auto oldest = (*identifier)->oldest_in_flight()) {
      state.input_offset = oldest->input_offset;
      state.output_offset = oldest->output_offset;
    } else {
      state.input_offset = lines.offset();
      state.output_offset = logical_output;
    }
    (void) final;
    const std::string text = identify_state_text(state);
    if (::pwrite(files->state.get(), text.data(), text.size(), 0) !=
        static_cast<ssize_t>(text.size()))
      return make_error(ExitCode::kIoErr,
                        errno_message("writing the state of " + config.output, errno));
    ::fdatasync(files->state.get());
    return {};
  };

  while (true) {
    // Take new input while there is room (none after a signal).
    while (!input_done && g_signals == 0 && !(*identifier)->full()) {
      auto line = lines.next();
      if (!line) return tl::unexpected(line.error());
      if (!*line) break;
      ++line_number;
      const std::string& text = (*line)->first;
      if (!kind_known) {
        kind_known = true;
        if (!text.empty() && text[0] == '{') {
          parser.set_json(true);
        } else {
          if (auto h = parser.header(text, source); !h) return h;
          if (auto s = skip_to(files->input_start); !s) return s;
          continue;
        }
        if (auto s = skip_to(files->input_start); !s) return s;
        if (files->input_start > 0) continue;  // the first line is re-read at its offset
      }
      if (text.empty()) continue;
      auto target = parser.parse(text, source, line_number);
      if (!target) return tl::unexpected(target.error());
      if (!*target) continue;
      if (files->done.erase({(*target)->ip, (*target)->port}) != 0) {
        ++skipped_done;
        continue;
      }
      IdentifyTarget t = **target;
      t.input_offset = (*line)->second;
      t.output_offset = logical_output;
      (*identifier)->add(t);
    }
    // The end of the input: now, or (following) one more reading round after the scan's
    // end marker appeared (what the scan wrote before it is in the file by then).
    if (!input_done && !(*identifier)->full()) {
      if (g_signals != 0 || config.follow_until.empty() || end_marker_seen)
        input_done = true;
      else if (exists_nonempty(config.follow_until))
        end_marker_seen = true;
    }
    if (input_done && (*identifier)->in_flight() == 0) break;
    if (g_signals >= 2) break;
    done.clear();
    (*identifier)->poll(input_done || (*identifier)->full() ? 100 : 20, done);
    for (const ServiceRecord& r : done) {
      const std::string json = service_record_json(r);
      out_buffer += json;
      logical_output += json.size();
      ++records;
    }
    if (out_buffer.size() > (1u << 20) || monotonic_ms() - last_state_ms >= 1000) {
      if (auto f = flush(false); !f) return f;
      last_state_ms = monotonic_ms();
    }
  }
  if (auto f = flush(true); !f) return f;
  logf(
      LogLevel::kInfo, "identified %" PRIu64 " open ports%s%s", records,
      skipped_done ? (" (" + std::to_string(skipped_done) + " already in the output)").c_str() : "",
      g_signals ? ", stopped by a signal: --resume continues" : "");
  return {};
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
         "      --follow-until FILE follow the growing input until FILE exists (the scan's -m)\n"
         "      --resume            continue -o FILE from FILE.state after a kill\n"
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

Result<IdentifyCommand> parse_identify_args(int argc, char** argv) {
  IdentifyCommand command;
  IdentifyConfig& c = command.config;
  c.limits.local_port_first = kIdentifyPortFirst;
  c.limits.local_port_last = kIdentifyPortLast;
  enum {
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
    kNoSeccomp
  };
  static const option options[] = {{"input", required_argument, nullptr, 'i'},
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
                                   {nullptr, 0, nullptr, 0}};
  ::optind = 1;
  ::opterr = 0;
  int opt;
  while ((opt = ::getopt_long(argc, argv, ":i:o:c:hV", options, nullptr)) != -1) {
    Result<uint32_t> n = 0u;
    switch (opt) {
      case 'i':
        c.input = ::optarg;
        break;
      case 'o':
        c.output = ::optarg;
        break;
      case kZgrab:
        c.zgrab2_input = true;
        break;
      case kFollow:
        c.follow_until = ::optarg;
        break;
      case kResume:
        c.resume = true;
        break;
      case 'c':
        n = number("--concurrency", ::optarg, 1, 100000);
        if (n) c.limits.concurrency = *n;
        break;
      case kConnect:
        n = number("--connect-timeout", ::optarg, 1, 600000);
        if (n) c.limits.connect_timeout_ms = *n;
        break;
      case kRead:
        n = number("--read-timeout", ::optarg, 1, 600000);
        if (n) c.limits.read_timeout_ms = *n;
        break;
      case kTarget:
        n = number("--target-timeout", ::optarg, 1, 3600000);
        if (n) c.limits.target_timeout_ms = *n;
        break;
      case kMax:
        n = number("--max-bytes", ::optarg, 16, 1 << 26);
        if (n) c.limits.max_bytes = *n;
        break;
      case kPerHost:
        n = number("--per-host", ::optarg, 1, 10000);
        if (n) c.limits.per_host = *n;
        break;
      case kInterval:
        n = number("--host-interval", ::optarg, 0, 600000);
        if (n) c.limits.host_interval_ms = *n;
        break;
      case kLocal: {
        const std::string_view v = ::optarg;
        if (v == "kernel") {
          c.limits.local_port_first = c.limits.local_port_last = 0;
          break;
        }
        const size_t dash = v.find('-');
        auto first = parse_decimal(v.substr(0, dash), 65535);
        auto last =
            dash == std::string_view::npos ? first : parse_decimal(v.substr(dash + 1), 65535);
        if (!first || !last || *first == 0 || *last < *first)
          return make_error(ExitCode::kUsage,
                            "--local-ports '" + std::string(v) +
                                "': expected FIRST-LAST within 1-65535, or kernel");
        c.limits.local_port_first = static_cast<uint16_t>(*first);
        c.limits.local_port_last = static_cast<uint16_t>(*last);
        break;
      }
      case kUser:
        c.user = ::optarg;
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
        return make_error(ExitCode::kUsage,
                          std::string("option ") + argv[::optind - 1] + " needs a value");
      default:
        return make_error(ExitCode::kUsage,
                          std::string("unknown option ") + argv[::optind - 1] + " (see --help)");
    }
    if (!n) return tl::unexpected(n.error());
  }
  if (::optind < argc) c.input = argv[::optind++];
  if (::optind < argc)
    return make_error(ExitCode::kUsage, std::string("unexpected argument ") + argv[::optind]);
  return command;
}

}  // namespace anyscan
