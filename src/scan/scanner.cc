#include "scan/scanner.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <thread>
#include <vector>

#include "base/log.h"
#include "base/write_all.h"
#include "engine/dryrun/dryrun_engine.h"
#include "output/result_sink.h"
#include "probe/probe_module.h"
#include "scan/rate_limiter.h"
#include "scan/receiver.h"
#include "scan/scan_plan.h"
#include "scan/sender.h"
#include "target/index_permutation.h"

#ifndef ANYSCAN_VERSION
#define ANYSCAN_VERSION "0.0.0"
#endif

namespace anyscan {
namespace {

constexpr uint32_t kMaxDefaultSenderThreads = 8;

std::string now_iso() {
  timeval now{};
  ::gettimeofday(&now, nullptr);
  return format_timestamp(now.tv_sec, static_cast<int32_t>(now.tv_usec));
}

std::string human_count(double value) {
  char buffer[32];
  if (value >= 1e9) std::snprintf(buffer, sizeof buffer, "%.2fG", value / 1e9);
  else if (value >= 1e6) std::snprintf(buffer, sizeof buffer, "%.2fM", value / 1e6);
  else if (value >= 1e4) std::snprintf(buffer, sizeof buffer, "%.1fk", value / 1e3);
  else std::snprintf(buffer, sizeof buffer, "%.0f", value);
  return buffer;
}

std::string clock_text(uint64_t seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, seconds / 3600, seconds / 60 % 60, seconds % 60);
  return buffer;
}

// Output files are created before any packet is sent, so a typo costs nothing.
Result<UniqueFd> create_output(const std::string& path, const char* flag) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return make_error(ExitCode::kCantCreate, errno_message(std::string(flag) + ": cannot create " + path, errno));
  return fd;
}


struct Totals {
  uint64_t sent = 0, failed = 0, targets_done = 0, targets_total = 0;
  uint64_t received = 0, validation_failed = 0, unrelated = 0, results = 0, duplicates = 0, success = 0;
  uint64_t dropped = 0;
};

}  // namespace

Result<void> run_scan(const ScanConfig& config, std::unique_ptr<IoEngine> engine_override) {
  auto planned = plan_targets(config);
  if (!planned) return tl::unexpected(planned.error());
  ScanPlan& plan = *planned;
  if (!engine_override) {
    auto network = plan_network(config, plan);
    if (!network) return network;
  }

  ProbeParams params;
  params.source_mac = plan.source_mac;
  params.gateway_mac = plan.gateway_mac;
  params.source_ip = plan.source_ip;
  params.source_port_first = config.source_port_first;
  params.source_port_count = static_cast<uint16_t>(config.source_port_last - config.source_port_first + 1);
  params.probes_per_target = config.probes;
  params.key = plan.key;
  auto module = make_probe_module(config.probe_module, params);
  if (!module) return tl::unexpected(module.error());
  const ProbeModule& probe = **module;

  plan.rate_pps = config.bandwidth_bps != 0 ? bandwidth_to_pps(config.bandwidth_bps, probe.frame_bytes()) : config.rate_pps;
  const uint32_t cores = std::max(1u, std::thread::hardware_concurrency());
  plan.sender_threads = config.sender_threads != 0 ? config.sender_threads : std::min(cores, kMaxDefaultSenderThreads);

  // Outputs first: a bad path fails before anything is sent.
  std::unique_ptr<ResultSink> results;
  if (!(config.dryrun && config.output_file == "-")) {
    auto sink = open_result_sink(config.output_file, config.output_format == OutputFormat::kJson, config.output_fields);
    if (!sink) return tl::unexpected(with_context(sink.error(), "-o"));
    results = std::move(*sink);
  }
  UniqueFd metadata_fd, status_fd;
  if (!config.metadata_file.empty()) {
    auto fd = create_output(config.metadata_file, "-m");
    if (!fd) return tl::unexpected(fd.error());
    metadata_fd = std::move(*fd);
  }
  if (!config.status_file.empty()) {
    auto fd = create_output(config.status_file, "-u");
    if (!fd) return tl::unexpected(fd.error());
    status_fd = std::move(*fd);
    auto header = write_all(status_fd.get(),
                            "real-time,time-elapsed,time-remaining,percent-complete,active-send-threads,sent-total,"
                            "sent-last-one-sec,sent-avg-per-sec,recv-success-total,recv-total,validation-failed-total,"
                            "drop-total,sendto-fail-total\n", "-u status file");
    if (!header) return header;
  }

  std::unique_ptr<IoEngine> engine = std::move(engine_override);
  if (!engine && config.dryrun) {
    engine = std::make_unique<DryrunEngine>(stdout, config.dryrun_format, plan.sender_threads);
  } else if (!engine) {
    EngineConfig engine_config;
    engine_config.interface = plan.interface;
    engine_config.ifindex = plan.ifindex;
    engine_config.sender_threads = plan.sender_threads;
    engine_config.retries = config.retries;
    engine_config.filter = ReplyFilter{plan.source_ip, probe.ip_protocol(), config.source_port_first, config.source_port_last};
    engine_config.xdp_mode = config.xdp_mode;
    engine_config.xdp_zerocopy = config.xdp_zerocopy;
    engine_config.xdp_queues = config.xdp_queues;
    engine_config.interface_queues = plan.interface_queues;
    auto opened = open_io_engine(config.io_engine, engine_config);
    if (!opened) return tl::unexpected(opened.error());
    engine = std::move(*opened);
  }
  const size_t sender_count = std::min<size_t>(plan.sender_threads, engine->sink_count());

  logf(LogLevel::kInfo,
       "scanning %" PRIu64 " addresses x %zu ports = %" PRIu64 " targets (shard %u/%u) on %s from %s, gateway %s via %s; "
       "engine %s, %zu sender threads, rate %s, seed %" PRIu64,
       plan.addresses.size(), plan.ports.size(), plan.target_count(), config.shard, config.shards, plan.interface.c_str(),
       to_string(plan.source_ip).c_str(), to_string(plan.gateway_mac).c_str(), plan.gateway_source.c_str(),
       std::string(engine->name()).c_str(), sender_count,
       plan.rate_pps == 0 ? "unlimited" : (std::to_string(plan.rate_pps) + " pps").c_str(), plan.seed);

  // Signals are taken synchronously by this thread only; every thread started below
  // inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigset_t previous_mask;
  pthread_sigmask(SIG_BLOCK, &signals, &previous_mask);

  MonotonicClock clock;
  const uint64_t start_ns = clock.now_ns();
  const std::string start_time = now_iso();
  std::atomic<bool> stop_sending{false};
  std::atomic<bool> finish_receiving{false};

  ResultCollector collector;
  collector.sink = results.get();
  collector.max_results = config.max_results;
  std::vector<std::unique_ptr<ReceiverCounters>> receiver_counters;
  std::vector<Result<void>> receiver_results(engine->source_count());
  std::vector<std::thread> receivers;
  for (size_t q = 0; q < engine->source_count(); ++q) {
    receiver_counters.push_back(std::make_unique<ReceiverCounters>());
    receivers.emplace_back([&, q] {
      Receiver receiver(plan, probe, engine->source(q), collector, *receiver_counters[q]);
      receiver_results[q] = receiver.run(finish_receiving);
      if (!receiver_results[q]) stop_sending.store(true);
    });
  }

  IndexPermutation permutation(plan.target_count(), plan.seed);
  RateLimiter limiter(plan.rate_pps, clock.now_ns());
  std::vector<std::unique_ptr<SenderCounters>> sender_counters;
  std::vector<Result<void>> sender_results(sender_count);
  std::vector<std::thread> senders;
  const uint64_t limit = config.max_targets == 0 ? UINT64_MAX : config.max_targets;
  WorkQueue work(shard_slice(plan.target_count(), config.shard, config.shards, limit));
  for (size_t t = 0; t < sender_count; ++t) {
    sender_counters.push_back(std::make_unique<SenderCounters>());
    senders.emplace_back([&, t] {
      Sender sender(plan, permutation, work, config.probes, probe, engine->sink(t), limiter, clock, stop_sending,
                    *sender_counters[t]);
      sender_results[t] = sender.run();
      if (!sender_results[t]) stop_sending.store(true);
    });
  }
  sd_notify(0, "READY=1\nSTATUS=sending probes");

  auto totals = [&] {
    Totals s;
    s.targets_total = work.slice().count;
    for (auto& c : sender_counters) {
      s.sent += c->sent.load(std::memory_order_relaxed);
      s.failed += c->failed.load(std::memory_order_relaxed);
      s.targets_done += c->targets_done.load(std::memory_order_relaxed);
    }
    for (auto& c : receiver_counters) {
      s.received += c->received.load(std::memory_order_relaxed);
      s.validation_failed += c->validation_failed.load(std::memory_order_relaxed);
      s.unrelated += c->unrelated.load(std::memory_order_relaxed);
      s.results += c->results.load(std::memory_order_relaxed);
      s.duplicates += c->duplicates.load(std::memory_order_relaxed);
      s.success += c->success.load(std::memory_order_relaxed);
    }
    return s;
  };

  const bool progress = !config.quiet && ::isatty(STDERR_FILENO);
  enum class Phase { kSending, kCooldown } phase = Phase::kSending;
  uint64_t cooldown_end_ns = 0;
  uint64_t next_status_ns = start_ns + 1000000000ULL;
  uint64_t last_sent = 0;
  int signals_seen = 0;
  bool interrupted = false;
  std::string stop_reason = "completed";
  Totals last;

  auto report_status = [&](uint64_t now_ns, bool final_report) {
    Totals s = totals();
    for (size_t q = 0; q < engine->source_count(); ++q) s.dropped += engine->source(q).stats().dropped;
    last = s;
    const double elapsed = static_cast<double>(now_ns - start_ns) / 1e9;
    const double percent = s.targets_total ? 100.0 * static_cast<double>(s.targets_done) / static_cast<double>(s.targets_total) : 100.0;
    const double pps = elapsed > 0 ? static_cast<double>(s.sent) / elapsed : 0;
    const uint64_t sent_last = s.sent - last_sent;
    last_sent = s.sent;
    uint64_t remaining_s = 0;
    if (phase == Phase::kSending && s.targets_done > 0 && s.targets_done < s.targets_total)
      remaining_s = static_cast<uint64_t>(elapsed * static_cast<double>(s.targets_total - s.targets_done) /
                                          static_cast<double>(s.targets_done)) + config.cooldown_s;
    else if (phase == Phase::kCooldown && cooldown_end_ns > now_ns)
      remaining_s = (cooldown_end_ns - now_ns) / 1000000000ULL;
    char line[320];
    std::snprintf(line, sizeof line, "%s %.1f%%%s; sent %s (%s pps), results %s (%s open/up), invalid %s, drops %s, ETA %s",
                  clock_text(static_cast<uint64_t>(elapsed)).c_str(), percent, phase == Phase::kCooldown ? " (cooldown)" : "",
                  human_count(static_cast<double>(s.sent)).c_str(), human_count(static_cast<double>(sent_last)).c_str(),
                  human_count(static_cast<double>(s.results)).c_str(), human_count(static_cast<double>(s.success)).c_str(),
                  human_count(static_cast<double>(s.validation_failed)).c_str(), human_count(static_cast<double>(s.dropped)).c_str(),
                  clock_text(remaining_s).c_str());
    if (progress && !final_report) std::fprintf(stderr, "%s\n", line);
    sd_notifyf(0, "STATUS=%s", line);
    if (status_fd.valid()) {
      size_t active = 0;
      for (auto& c : sender_counters) active += !c->finished.load();
      char record[400];
      std::snprintf(record, sizeof record,
                    "%s,%.0f,%" PRIu64 ",%.2f,%zu,%" PRIu64 ",%" PRIu64 ",%.0f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                    now_iso().c_str(), elapsed, remaining_s, percent, active, s.sent, sent_last, pps, s.success,
                    s.received, s.validation_failed, s.dropped, s.failed);
      auto written = write_all(status_fd.get(), record, "-u status file");
      if (!written) logf(LogLevel::kWarn, "%s", written.error().message.c_str());
    }
    if (results) {
      std::lock_guard<std::mutex> lock(collector.mutex);
      auto flushed = results->flush();
      if (!flushed) logf(LogLevel::kError, "%s", flushed.error().message.c_str());
    }
  };

  while (true) {
    timespec wait{0, 100 * 1000 * 1000};
    siginfo_t info{};
    const int sig = ::sigtimedwait(&signals, &info, &wait);
    const uint64_t now = clock.now_ns();
    if (sig > 0) {
      ++signals_seen;
      interrupted = true;
      if (signals_seen == 1) {
        stop_reason = std::string("interrupted by ") + (sig == SIGINT ? "SIGINT" : "SIGTERM");
        logf(LogLevel::kInfo, "%s: stop sending, receiving for the %u s cooldown (send it again to skip)",
             stop_reason.c_str(), config.cooldown_s);
        sd_notify(0, "STATUS=stopping: cooldown");
        stop_sending.store(true);
      } else {
        logf(LogLevel::kInfo, "second signal: skipping the rest of the cooldown");
        break;
      }
    }
    if (phase == Phase::kSending) {
      if (config.max_runtime_s != 0 && now - start_ns >= config.max_runtime_s * 1000000000ULL && !stop_sending.load()) {
        stop_reason = "max runtime reached";
        stop_sending.store(true);
      }
      if (collector.limit_reached.load()) {
        stop_reason = "max results reached";
        stop_sending.store(true);
        break;  // nothing more is wanted: no cooldown
      }
      bool all_done = true;
      for (auto& c : sender_counters) all_done = all_done && c->finished.load(std::memory_order_acquire);
      if (all_done) {
        phase = Phase::kCooldown;
        cooldown_end_ns = now + uint64_t{config.cooldown_s} * 1000000000ULL;
        sd_notify(0, "STATUS=cooldown");
      }
    } else if (now >= cooldown_end_ns || collector.limit_reached.load()) {
      break;
    }
    if (now >= next_status_ns) {
      report_status(now, false);
      next_status_ns += 1000000000ULL;
    }
  }
  sd_notify(0, "STOPPING=1");
  stop_sending.store(true);
  for (auto& t : senders) t.join();
  finish_receiving.store(true, std::memory_order_release);
  for (auto& t : receivers) t.join();
  const uint64_t end_ns = clock.now_ns();
  report_status(end_ns, true);
  pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);

  Result<void> outcome;
  for (auto& r : sender_results) if (!r && outcome) outcome = r;
  for (auto& r : receiver_results) if (!r && outcome) outcome = r;
  if (results) {
    auto flushed = results->flush();
    if (!flushed && outcome) outcome = flushed;
  }

  const Totals& s = last;
  logf(LogLevel::kInfo,
       "done (%s): sent %" PRIu64 " probes in %.2f s, %" PRIu64 " results (%" PRIu64 " open/up), %" PRIu64
       " failed validation, %" PRIu64 " duplicates, %" PRIu64 " dropped by the kernel",
       stop_reason.c_str(), s.sent, static_cast<double>(end_ns - start_ns) / 1e9, s.results, s.success,
       s.validation_failed, s.duplicates, s.dropped);

  if (metadata_fd.valid()) {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    std::string ports;
    for (size_t i = 0; i < plan.ports.size() && probe.uses_ports(); ++i) ports += (i ? "," : "") + std::to_string(plan.ports.at(i));
    char numbers[1200];
    std::snprintf(numbers, sizeof numbers,
                  "\"counts\":{\"targets\":%" PRIu64 ",\"targets_probed\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"send_failed\":%" PRIu64
                  ",\"received\":%" PRIu64 ",\"validation_failed\":%" PRIu64 ",\"unrelated\":%" PRIu64 ",\"results\":%" PRIu64
                  ",\"success\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"dropped\":%" PRIu64 "},"
                  "\"duration_s\":%.3f,\"cpu_user_s\":%.3f,\"cpu_system_s\":%.3f,\"max_rss_kib\":%ld,"
                  "\"rate_pps\":%" PRIu64 ",\"sender_threads\":%zu,\"probes\":%u,\"cooldown_s\":%u,\"shard\":%u,\"shards\":%u",
                  s.targets_total, s.targets_done, s.sent, s.failed, s.received, s.validation_failed, s.unrelated, s.results,
                  s.success, s.duplicates, s.dropped, static_cast<double>(end_ns - start_ns) / 1e9,
                  seconds(usage.ru_utime), seconds(usage.ru_stime), usage.ru_maxrss, plan.rate_pps, sender_count,
                  config.probes, config.cooldown_s, config.shard, config.shards);
    std::string json = "{\"scanner\":\"anyscan\",\"version\":\"" ANYSCAN_VERSION "\"";
    json += ",\"engine\":\"" + json_escape(std::string(engine->name())) + "\"";
    json += ",\"probe_module\":\"" + std::string(probe.name()) + "\"";
    json += ",\"seed\":" + std::to_string(plan.seed);
    json += ",\"interface\":\"" + json_escape(plan.interface) + "\"";
    json += ",\"source_ip\":\"" + to_string(plan.source_ip) + "\"";
    json += ",\"source_mac\":\"" + to_string(plan.source_mac) + "\"";
    json += ",\"gateway_mac\":\"" + to_string(plan.gateway_mac) + "\"";
    json += ",\"source_ports\":\"" + std::to_string(config.source_port_first) + "-" + std::to_string(config.source_port_last) + "\"";
    json += ",\"addresses\":" + std::to_string(plan.addresses.size());
    json += ",\"ports\":\"" + ports + "\"";
    json += ",\"blocklist\":\"" + json_escape(plan.blocklist_source) + "\"";
    json += ",\"start\":\"" + start_time + "\",\"end\":\"" + now_iso() + "\"";
    json += ",\"interrupted\":" + std::string(interrupted ? "true" : "false");
    json += ",\"stop_reason\":\"" + json_escape(stop_reason) + "\",";
    json += numbers;
    json += ",\"engine_counters\":{";
    bool first = true;
    for (const auto& [name, value] : engine->counters()) {
      json += (first ? "\"" : ",\"") + json_escape(name) + "\":" + std::to_string(value);
      first = false;
    }
    json += "}";
    if (!outcome) json += ",\"error\":\"" + json_escape(outcome.error().message) + "\"";
    json += "}\n";
    auto written = write_all(metadata_fd.get(), json, "-m metadata file");
    if (!written && outcome) outcome = written;
  }
  return outcome;
}

}  // namespace anyscan
