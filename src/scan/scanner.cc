#include "scan/scanner.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <ctime>
#include <optional>

#include "base/atomic_file.h"
#include "base/log.h"
#include "base/write_all.h"
#include "engine/dryrun/dryrun_engine.h"
#include "host/netlink_client.h"
#include "host/privilege_drop.h"
#include "host/process_memory.h"
#include "host/syscall_filter.h"
#include "scan/alias_detection.h"
#include "scan/opt_out.h"
#include "scan/scan_metadata.h"
#include "scan/scan_metrics.h"
#include "scan/scan_plan.h"
#include "scan/scan_runner.h"
#include "store/checkpoint_file.h"
#include "store/run_directory.h"
#include "store/scan_outputs.h"
#include "target/target_parser.h"

namespace anyscan {

namespace {

Result<std::unique_ptr<IoEngine>> open_any_engine(const ScanPlan& plan, const ScanConfig& config) {
  if (config.dryrun)
    return std::unique_ptr<IoEngine>(std::make_unique<DryrunEngine>(
        stdout, config.dryrun_format, plan.sender_threads, plan.network.ip_layer));
  EngineConfig engine_config;
  engine_config.interface = plan.network.interface;
  engine_config.ifindex = plan.network.ifindex;
  engine_config.sender_threads = plan.sender_threads;
  engine_config.rx_queues = plan.network.rx_queues;
  engine_config.tx_queues = plan.network.tx_queues;
  engine_config.retries = config.retries;
  engine_config.filter = plan.probe->reply_filter();
  engine_config.frame_bytes = static_cast<uint32_t>(plan.probe->frame_bytes());
  engine_config.ip_layer = plan.network.ip_layer;
  engine_config.xdp_mode = config.xdp_mode;
  engine_config.xdp_zerocopy = config.xdp_zerocopy;
  return open_io_engine(plan.engine, engine_config);
}

// The engine, once its transmit slots are known to hold the probe module's largest frame.
Result<std::unique_ptr<IoEngine>> open_engine(const ScanPlan& plan, const ScanConfig& config) {
  auto engine = open_any_engine(plan, config);
  if (!engine) return engine;
  for (size_t q = 0; q < (*engine)->sink_count(); ++q)
    if ((*engine)->sink(q).frame_capacity() < plan.probe->frame_bytes())
      return make_error(ExitCode::kSoftware,
                        std::string((*engine)->name()) + ": transmit frames of " +
                            std::to_string((*engine)->sink(q).frame_capacity()) +
                            " bytes cannot hold the " + std::to_string(plan.probe->frame_bytes()) +
                            "-byte probes");
  return engine;
}

void log_start(const ScanPlan& plan, const ScanConfig& config, IoEngine& engine) {
  const NetworkPlan& net = plan.network;
  // Each family's next hop: "gateway MAC via SOURCE", both when the targets have both.
  std::string gateways;
  if (net.link_without_header) {
    gateways = "none (IP packets: " + net.interface + " has no link-layer header)";
  } else {
    if (plan.addresses.count(IpFamily::kIpv4) != 0)
      gateways = to_string(net.gateway_mac) + " via " + net.gateway_source;
    if (plan.addresses.count(IpFamily::kIpv6) != 0 || !plan.windows.empty())
      gateways += (gateways.empty() ? "" : ", IPv6 gateway ") + to_string(net.gateway6_mac) +
                  " via " + net.gateway6_source;
    if (net.ip_layer) gateways += " (IP packets, -X)";
  }
  const std::string sources = net.source_ips.size() <= 1
                                  ? to_string(net.source_ip)
                                  : to_string(net.source_ips.front()) + ".." +
                                        to_string(net.source_ips.back()) + " (" +
                                        std::to_string(net.source_ips.size()) + " addresses)";
  // The whole scan's targets, and this run's share when a shard or -n takes fewer.
  const uint64_t all = plan.target_count(), mine = plan.slice.count;
  const std::string share =
      mine == all
          ? ""
          : " (" + std::to_string(mine) + " of them in shard " + std::to_string(config.shard) +
                "/" + std::to_string(config.shards) +
                (config.max_targets != 0 ? ", -n " + std::to_string(config.max_targets) : "") + ")";
  logf(LogLevel::kInfo,
       "scanning %" PRIu64 " address%s x %zu port%s = %" PRIu64
       " target%s%s on %s from %s, gateway %s; "
       "engine %s, %zu sender threads, rate %s, seed %" PRIu64,
       plan.address_count(), plan.address_count() == 1 ? "" : "es", plan.ports.size(),
       plan.ports.size() == 1 ? "" : "s", all, all == 1 ? "" : "s", share.c_str(),
       net.interface.c_str(), sources.c_str(), gateways.c_str(), std::string(engine.name()).c_str(),
       running_sender_threads(plan, engine),
       plan.rate_pps == 0 ? "unlimited" : (std::to_string(plan.rate_pps) + " pps").c_str(),
       plan.seed);
}

// The interface's own receive drops so far, which no socket counter sees; nullopt in a dry
// run or when the link cannot be read. The socket is opened during setup.
std::optional<uint64_t> interface_rx_dropped(const ScanPlan& plan,
                                             std::optional<NetlinkClient>& netlink) {
  if (!netlink || plan.network.ifindex == 0) return std::nullopt;
  auto dropped = netlink->rx_dropped(plan.network.ifindex);
  if (!dropped) return std::nullopt;
  return *dropped;
}

// What the scan holds on to across the end of setup: sockets and files it reads at the end.
struct HeldForTheEnd {
  std::optional<NetlinkClient> netlink;  // interface drops (not in a dry run)
  std::optional<ProcessStatus> status;   // peak memory
};

HeldForTheEnd hold_for_the_end(const ScanConfig& config) {
  HeldForTheEnd held;
  if (!config.dryrun)
    if (auto netlink = NetlinkClient::open()) held.netlink = std::move(*netlink);
  if (auto status = ProcessStatus::open()) held.status = std::move(*status);
  return held;
}

// The end of setup (anyscan(8), SECURITY): every socket, ring, program and file the scan
// uses is open, so it gives up every capability, can never gain one back, leaves root (to
// --user) when it started as root, and then allows itself only the system calls a running
// scan makes. No thread exists yet: capabilities and ids are per thread to the kernel.
Result<Confinement> confine(const ScanConfig& config, const std::optional<ScanUser>& user,
                            const std::optional<ProcessStatus>& status) {
  ::tzset();  // /etc/localtime is read now, while a file can still be opened
  std::optional<ScanSyscallFilter> filter;
  if (!config.no_seccomp) {
    auto built = ScanSyscallFilter::build();
    if (!built) return tl::unexpected(built.error());
    filter = std::move(*built);
  }
  auto dropped = drop_privileges(user);
  if (!dropped) return tl::unexpected(dropped.error());
  Confinement done;
  done.bounding_set_cleared = dropped->bounding_set_cleared;
  if (dropped->user) done.user = dropped->user->name;
  done.uid = ::getuid();
  done.syscalls_allowed = filter ? filter->allowed() : 0;
  // Logged before the filter, so that the journal's socket is open by then.
  logf(LogLevel::kInfo,
       "setup done: no capabilities left (%s), no_new_privs set, running as %s (uid %u)%s",
       done.bounding_set_cleared ? "bounding set cleared" : "bounding set left to the unit",
       done.user.empty() ? "the starting user" : done.user.c_str(), done.uid,
       filter
           ? (", system-call filter of " + std::to_string(done.syscalls_allowed) + " calls").c_str()
           : ", no system-call filter (--no-seccomp)");
  if (filter) {
    // Without TSYNC the filter covers this thread and those it starts: checked, not assumed,
    // that it is the only one.
    if (!filter->synchronised() && status) {
      auto threads = status->threads();
      if (threads && *threads != 1)
        return make_error(ExitCode::kSoftware,
                          std::to_string(*threads) +
                              " threads exist before the system-call filter, which cannot be "
                              "synchronised here (seccomp(2) refused)");
    }
    if (auto loaded = filter->load(); !loaded) return tl::unexpected(loaded.error());
    done.seccomp = true;
  }
  return done;
}

void warn_about_loss(const RunSummary& run, const std::string& interface) {
  const Totals& s = run.totals;
  if (s.interface_dropped != 0)
    logf(LogLevel::kWarn,
         "%" PRIu64
         " frames were dropped by %s itself during the scan (receive ring or FIFO full, before "
         "any socket); replies may be among them: lower -r, or enlarge the ring (ethtool -G)",
         s.interface_dropped, interface.c_str());
  if (s.dropped != 0)
    logf(LogLevel::kWarn,
         "%" PRIu64
         " replies were dropped by the kernel for want of receive-ring space: "
         "lower -r, or add --receiver-threads",
         s.dropped);
  if (s.not_redirected != 0)
    logf(LogLevel::kWarn,
         "%" PRIu64
         " replies arrived on a receive queue without an AF_XDP socket and were lost "
         "(did the queue count change during the scan?)",
         s.not_redirected);
}

// A resume continues only the same scan into the same results file.
Result<void> check_resume(const Checkpoint& saved, const ScanIdentity& now,
                          const ScanConfig& config) {
  if (auto difference = identity_difference(saved.identity, now))
    return make_error(ExitCode::kDataErr, "checkpoint " + config.checkpoint_file +
                                              " records another scan: " + *difference);
  if (saved.results_path != config.output_file)
    return make_error(ExitCode::kDataErr, "checkpoint " + config.checkpoint_file +
                                              " records results in " + saved.results_path +
                                              ", not " + config.output_file);
  return {};
}

// The plan, and for a resume what the run continues from (checkpoint found and matching).
struct ResumablePlan {
  ScanPlan plan;
  std::optional<Checkpoint> resume;
  // A resume after the blocklist changed: the list now, which the run applies as a live
  // opt-out from its start (the plan keeps the list the scan started with), and how many of
  // the plan's addresses it holds.
  std::optional<AddressSet> changed_blocklist;
  uint64_t changed_excludes = 0;
};

// Beside the checkpoint: the blocklist the scan started with, as ranges a target file reads.
std::string start_blocklist_path(const ScanConfig& config) {
  return config.checkpoint_file + ".blocklist";
}

std::string blocklist_text(const AddressSet& set) {
  return "# The blocklist this scan started with: anyscan --resume plans with it, and applies\n"
         "# the -b list of the day as a live opt-out. Written by anyscan; do not edit.\n" +
         target_list_text(set);
}

// A resume with the start list kept beside the checkpoint: planned with it; the -b list of
// today, where it takes more of the scan's addresses out, becomes an opt-out from the start.
Result<ResumablePlan> plan_resume_with_start_blocklist(const ScanConfig& config,
                                                       std::optional<SeedAndKey> seed_and_key) {
  ScanConfig start = config;
  start.blocklist_file = start_blocklist_path(config);
  start.allow_special_purpose = true;  // the kept list already holds what the start added
  auto plan = build_scan_plan(start, seed_and_key);
  if (!plan) return tl::unexpected(plan.error());
  std::string source;
  auto today = load_blocklist(config, &source);
  if (!today) return tl::unexpected(today.error());
  plan->blocklist_source = source + " (the scan started with " + start.blocklist_file + ")";
  ResumablePlan resumable{std::move(*plan), std::nullopt, std::nullopt, 0};
  resumable.changed_excludes = excluded_addresses(resumable.plan, *today);
  if (resumable.changed_excludes != 0) resumable.changed_blocklist = std::move(*today);
  return resumable;
}

Result<ResumablePlan> plan_with_checkpoint(const ScanConfig& config) {
  std::optional<Checkpoint> saved;
  if (!config.checkpoint_file.empty()) {
    auto read = read_checkpoint(config.checkpoint_file);
    if (!read) return tl::unexpected(read.error());
    saved = std::move(*read);
  }
  if (saved && !config.resume && !saved->finished)
    return make_error(ExitCode::kUsage, "checkpoint " + config.checkpoint_file +
                                            " records an unfinished scan: pass --resume to "
                                            "continue it, or remove the file to start over");
  if (!config.resume) saved.reset();
  std::optional<SeedAndKey> seed_and_key;
  if (saved) {
    if (config.seed && *config.seed != saved->seed)
      return make_error(ExitCode::kDataErr, "checkpoint " + config.checkpoint_file +
                                                " records another scan: seed: the checkpoint has " +
                                                std::to_string(saved->seed) + ", this run " +
                                                std::to_string(*config.seed));
    seed_and_key = SeedAndKey{saved->seed, CookieKey{{saved->key[0], saved->key[1]}}};
  }
  ResumablePlan resumable;
  if (saved && ::access(start_blocklist_path(config).c_str(), F_OK) == 0) {
    auto kept = plan_resume_with_start_blocklist(config, seed_and_key);
    if (!kept) return tl::unexpected(kept.error());
    resumable = std::move(*kept);
  } else {
    auto plan = build_scan_plan(config, seed_and_key);
    if (!plan) return tl::unexpected(plan.error());
    resumable.plan = std::move(*plan);
  }
  if (saved) {
    if (auto same = check_resume(*saved, scan_identity(resumable.plan, config), config); !same)
      return tl::unexpected(same.error());
  }
  resumable.resume = std::move(saved);
  return resumable;
}

// The checkpoint record this run starts from: the scan's identity, seed and key, and its
// history. The history keeps the first resume and the newest ones (kMaxResumeRecords in
// all), so that a scan restarted without end still fits a slot of the checkpoint file.
Checkpoint first_checkpoint(const ScanConfig& config, const ScanPlan& plan,
                            const std::optional<Checkpoint>& resume) {
  constexpr size_t kMaxResumeRecords = 256;
  Checkpoint c;
  c.identity = scan_identity(plan, config);
  c.seed = plan.seed;
  c.key[0] = plan.key.words[0];
  c.key[1] = plan.key.words[1];
  c.results_path = config.output_file;
  c.slice_count = plan.slice.count;
  c.started = resume ? resume->started : now_iso();
  if (resume) {
    c.resume_from = resume->resume_from;
    c.results_offset = resume->results_offset;
    c.counts = resume->counts;
    c.resumes = resume->resumes;
    if (c.resumes.size() >= kMaxResumeRecords) c.resumes.erase(c.resumes.begin() + 1);
    c.resumes.push_back({now_iso(), resume->resume_from, resume->results_offset});
  }
  return c;
}

Result<std::optional<CheckpointTarget>> open_checkpoint(const ScanConfig& config,
                                                        const ScanPlan& plan,
                                                        const std::optional<Checkpoint>& resume) {
  if (config.checkpoint_file.empty()) return std::optional<CheckpointTarget>();
  if (!resume)  // a new scan: its blocklist, for a resume to plan with (and the opt-out)
    if (auto kept =
            write_file_atomically(start_blocklist_path(config), blocklist_text(plan.blocklist));
        !kept)
      return tl::unexpected(kept.error());
  Checkpoint first = first_checkpoint(config, plan, resume);
  auto file = CheckpointFile::open(config.checkpoint_file, first, resume);
  if (!file) return tl::unexpected(file.error());
  return std::optional<CheckpointTarget>(CheckpointTarget{std::move(*file), std::move(first)});
}

// --detect-aliases: what the scan starts with. A resume whose checkpoint has the whole
// outcome beside it (FILE.aliases) applies it at once; otherwise the detection's plan is
// built now (its errors come before anything is opened) and the outcome file, when the scan
// is checkpointed, opened for it.
struct AliasPhase {
  std::optional<ScanPlan> plan;  // the detection still to run
  UniqueFd outcome_file;
  std::string outcome_path;
};

Result<AliasPhase> prepare_alias_detection(const ScanConfig& config, ScanPlan& plan,
                                           bool resuming) {
  AliasPhase phase;
  if (config.detect_aliases == 0) return phase;
  const AliasDetection detection{config.detect_aliases, config.alias_prefix_length};
  if (!config.checkpoint_file.empty()) phase.outcome_path = config.checkpoint_file + ".aliases";
  if (resuming && !phase.outcome_path.empty()) {
    auto kept = read_detected_aliases(phase.outcome_path);
    if (!kept) return tl::unexpected(with_context(kept.error(), "--detect-aliases"));
    if (*kept) {
      logf(LogLevel::kInfo, "alias detection: %zu aliased prefixes kept in %s", (*kept)->size(),
           phase.outcome_path.c_str());
      apply_detected_aliases(plan, std::move(**kept));
      return phase;
    }
  }
  auto detection_plan = alias_detection_plan(plan, detection);
  if (!detection_plan) return tl::unexpected(detection_plan.error());
  phase.plan = std::move(*detection_plan);
  if (!phase.outcome_path.empty()) {
    phase.outcome_file.reset(
        ::open(phase.outcome_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!phase.outcome_file.valid())
      return make_error(
          ExitCode::kCantCreate,
          errno_message("--detect-aliases: cannot create " + phase.outcome_path, errno));
  }
  return phase;
}

// Runs the detection (after confinement: it parses replies) and applies its outcome to the
// plan. False when the scan was interrupted meanwhile (nothing more is sent).
Result<bool> detect_aliases(AliasPhase& phase, const ScanConfig& config, IoEngine& engine,
                            ScanPlan& plan) {
  const ScanPlan& detection_plan = *phase.plan;
  const AliasDetection detection{config.detect_aliases, config.alias_prefix_length};
  auto answers_owned = std::make_unique<AliasAnswers>(detection_plan);
  AliasAnswers* answers = answers_owned.get();
  ScanOutputs outputs = ScanOutputs::into(std::move(answers_owned));
  ScanConfig quiet = config;  // every reply counts; no limits of the scan's own
  quiet.output_filter.clear();
  quiet.max_results = 0;
  quiet.status_file.clear();
  logf(LogLevel::kInfo,
       "alias detection: %" PRIu64 " addresses, %u in each /%d holding an IPv6 target, port %u",
       detection_plan.target_count(), config.detect_aliases, config.alias_prefix_length,
       detection_plan.ports.at(0));
  ScanRunner runner(detection_plan, quiet, engine, outputs);
  RunSummary run = runner.run();
  if (!run.outcome) return tl::unexpected(run.outcome.error());
  if (run.interrupted) return false;
  std::vector<AddressRange> found = aliased_from_answers(answers->windows(), detection);
  plan.detection_probes = detection_plan.target_count();
  plan.detection_replies = answers->replies();
  if (phase.outcome_file.valid()) {
    auto written = write_all(phase.outcome_file.get(), detected_aliases_text(found, detection),
                             phase.outcome_path);
    if (!written) return tl::unexpected(written.error());
    if (::fdatasync(phase.outcome_file.get()) != 0)
      return make_error(ExitCode::kIoErr, errno_message("syncing " + phase.outcome_path, errno));
  }
  apply_detected_aliases(plan, std::move(found));
  logf(LogLevel::kInfo,
       "alias detection: %zu of the tested prefixes aliased (%" PRIu64 " replies); %" PRIu64
       " targets in them beyond --aliased-limit %" PRIu64 " skipped",
       plan.detected.size(), plan.detection_replies, plan.detected_capped, plan.aliased_limit);
  return true;
}

// --run-directory: the run's files are committed (older runs beyond --keep-runs removed).
Result<void> commit_run(const RunFiles& run_files, uint32_t keep_runs, const ScanConfig& config) {
  auto removed = commit_run_directory(run_files, keep_runs, config);
  if (!removed) return tl::unexpected(removed.error());
  logf(LogLevel::kInfo, "run %s in %s (%s)%s", run_files.run.c_str(), run_files.directory.c_str(),
       run_files.resumes ? "resuming it" : "a new run",
       removed->empty()
           ? ""
           : (", removed " + std::to_string(removed->size()) + " files of runs beyond --keep-runs")
                 .c_str());
  return {};
}

// A resume: the results kept so far go into the dedup, and the log says where it continues.
Result<void> reload_for_resume(ScanRunner& runner, const Checkpoint& resume, const ScanPlan& plan,
                               const ScanConfig& config) {
  auto reloaded = runner.reload_results(config.output_file, resume.results_offset);
  if (!reloaded) return tl::unexpected(reloaded.error());
  logf(LogLevel::kInfo,
       "resuming from position %" PRIu64 " of %" PRIu64 " (%.1f%% done), %" PRIu64
       " results kept in %s, resume %zu",
       resume.resume_from, plan.slice.count,
       plan.slice.count
           ? 100.0 * static_cast<double>(resume.resume_from) / static_cast<double>(plan.slice.count)
           : 100.0,
       *reloaded, config.output_file.c_str(), resume.resumes.size() + 1);
  return {};
}

// The last metrics, in place before the scan exits: a completed run is this job's last
// success.
void publish_final_metrics(MetricsFile& file, const MetricsFacts& facts, const RunSummary& run,
                           bool ok) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const bool succeeded = ok && !run.interrupted;
  auto published = file.publish(
      metrics_text(facts, run.totals, /*running=*/false,
                   succeeded ? std::optional<double>(static_cast<double>(now.tv_sec) +
                                                     static_cast<double>(now.tv_nsec) / 1e9)
                             : std::nullopt));
  if (published) published = file.wait_written(2000);
  if (!published) logf(LogLevel::kWarn, "%s", published.error().message.c_str());
}

// SIGHUP reloads the blocklist (scan/opt_out.h); until the scan's runner takes it, it waits
// blocked (every thread and helper started from here inherits that), never ends the scan.
void hold_hangups() {
  sigset_t hangup;
  sigemptyset(&hangup);
  sigaddset(&hangup, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &hangup, nullptr);
}

// The live opt-out's helper (none in a dry run: nothing is sent, nothing to withdraw).
Result<std::unique_ptr<OptOutHelper>> start_opt_out(const ScanConfig& config) {
  if (config.dryrun) return std::unique_ptr<OptOutHelper>();
  return OptOutHelper::start(config, config.output_file == "-" ? "" : config.output_file);
}

// The runner reloads through the helper; a resume after the blocklist changed starts with
// today's list in effect.
void give_opt_out(ScanRunner& runner, OptOutHelper* helper, ResumablePlan& planned,
                  const ScanConfig& config) {
  runner.set_opt_out(helper);
  if (planned.changed_blocklist)
    runner.exclude_from_start(
        std::move(*planned.changed_blocklist), planned.changed_excludes,
        "blocklist " + config.blocklist_file + " changed since the scan started");
}

// Where this run starts: a resume's position and its earlier runs' counts.
RunStart run_start(const std::optional<Checkpoint>& resume) {
  RunStart start;
  if (resume) {
    start.first_position = resume->resume_from;
    start.carried = resume->counts;
    start.carried.targets_done = resume->resume_from;
  }
  return start;
}

}  // namespace

Result<void> run_scan(const ScanConfig& given) {
  hold_hangups();
  // --run-directory: this run's files (a new run, or the unfinished one it resumes).
  std::optional<RunFiles> run_files;
  if (!given.run_directory.empty()) {
    auto files = plan_run_directory(given, run_id_now());
    if (!files) return tl::unexpected(files.error());
    run_files = std::move(*files);
  }
  const ScanConfig config = run_files ? with_run_files(given, *run_files) : given;

  // Everything that can fail before sending happens before any output file is touched.
  auto planned = plan_with_checkpoint(config);
  if (!planned) return tl::unexpected(planned.error());
  ScanPlan* plan = &planned->plan;
  const std::optional<Checkpoint>& resume = planned->resume;
  if (resume && resume->finished) {
    logf(LogLevel::kInfo,
         "checkpoint %s: the scan finished (%" PRIu64 " results in %s): nothing to do",
         config.checkpoint_file.c_str(), resume->counts.results, resume->results_path.c_str());
    return {};
  }
  auto alias_phase = prepare_alias_detection(config, *plan, resume.has_value());
  if (!alias_phase) return tl::unexpected(alias_phase.error());
  auto user = scan_user_for(config.user);
  if (!user) return tl::unexpected(user.error());
  auto engine = open_engine(*plan, config);
  if (!engine) return tl::unexpected(engine.error());
  auto outputs = ScanOutputs::open(
      config, resume ? std::optional<uint64_t>(resume->results_offset) : std::nullopt);
  if (!outputs) return tl::unexpected(outputs.error());
  if (run_files)
    if (auto committed = commit_run(*run_files, given.keep_runs, config); !committed)
      return committed;
  log_start(*plan, config, **engine);
  auto opt_out = start_opt_out(config);  // forked before any thread, as the metrics writer
  if (!opt_out) return tl::unexpected(opt_out.error());
  auto checkpoint = open_checkpoint(config, *plan, resume);
  if (!checkpoint) return tl::unexpected(checkpoint.error());
  ScanRunner runner(*plan, config, **engine, *outputs, run_start(resume), std::move(*checkpoint));
  give_opt_out(runner, opt_out->get(), *planned, config);
  if (resume)
    if (auto reloaded = reload_for_resume(runner, *resume, *plan, config); !reloaded)
      return reloaded;
  std::optional<MetricsFacts> metrics;
  if (outputs->metrics() != nullptr) {
    metrics =
        metrics_facts(*plan, config, (*engine)->name(), outputs->metrics()->previous_success_s());
    runner.set_metrics(*metrics);
  }
  HeldForTheEnd held = hold_for_the_end(config);
  const auto dropped_before = interface_rx_dropped(*plan, held.netlink);
  auto confined = confine(config, *user, held.status);
  if (!confined) return tl::unexpected(confined.error());
  // The runner reads the plan only once it runs: the detection's outcome is in by then.
  if (alias_phase->plan) {
    auto detected = detect_aliases(*alias_phase, config, **engine, *plan);
    if (!detected) return tl::unexpected(detected.error());
    if (!*detected) {
      logf(LogLevel::kInfo, "interrupted during alias detection: the scan did not start");
      return {};
    }
  }
  RunSummary run = runner.run();
  run.confinement = *confined;
  if (held.status)
    if (auto peak = held.status->peak_rss_kib()) run.peak_rss_kib = *peak;
  const auto dropped_after = interface_rx_dropped(*plan, held.netlink);
  if (dropped_before && dropped_after && *dropped_after > *dropped_before)
    run.totals.interface_dropped = *dropped_after - *dropped_before;
  log_message(LogLevel::kInfo, done_line(run));
  warn_about_loss(run, plan->network.interface);
  Result<void> outcome = run.outcome;
  auto written = outputs->write_metadata(scan_metadata_json(*plan, config, **engine, run));
  if (!written && outcome) outcome = written;
  if (metrics) publish_final_metrics(*outputs->metrics(), *metrics, run, outcome.has_value());
  return outcome;
}

}  // namespace anyscan
