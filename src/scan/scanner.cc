#include "scan/scanner.h"

#include <cinttypes>
#include <optional>

#include "base/log.h"
#include "engine/dryrun/dryrun_engine.h"
#include "host/netlink_client.h"
#include "scan/scan_metadata.h"
#include "scan/scan_outputs.h"
#include "scan/scan_plan.h"
#include "scan/scan_runner.h"

namespace anyscan {

namespace {

Result<std::unique_ptr<IoEngine>> open_engine(const ScanPlan& plan, const ScanConfig& config) {
  if (config.dryrun)
    return std::unique_ptr<IoEngine>(
        std::make_unique<DryrunEngine>(stdout, config.dryrun_format, plan.sender_threads));
  EngineConfig engine_config;
  engine_config.interface = plan.network.interface;
  engine_config.ifindex = plan.network.ifindex;
  engine_config.sender_threads = plan.sender_threads;
  engine_config.rx_queues = plan.network.rx_queues;
  engine_config.tx_queues = plan.network.tx_queues;
  engine_config.retries = config.retries;
  engine_config.filter = plan.probe->reply_filter();
  engine_config.xdp_mode = config.xdp_mode;
  engine_config.xdp_zerocopy = config.xdp_zerocopy;
  return open_io_engine(plan.engine, engine_config);
}

void log_start(const ScanPlan& plan, const ScanConfig& config, IoEngine& engine) {
  const NetworkPlan& net = plan.network;
  logf(LogLevel::kInfo,
       "scanning %" PRIu64 " addresses x %zu ports = %" PRIu64
       " targets (shard %u/%u) on %s from %s, gateway %s via %s; "
       "engine %s, %zu sender threads, rate %s, seed %" PRIu64,
       plan.addresses.size(), plan.ports.size(), plan.target_count(), config.shard, config.shards,
       net.interface.c_str(), to_string(net.source_ip).c_str(), to_string(net.gateway_mac).c_str(),
       net.gateway_source.c_str(), std::string(engine.name()).c_str(),
       running_sender_threads(plan, engine),
       plan.rate_pps == 0 ? "unlimited" : (std::to_string(plan.rate_pps) + " pps").c_str(),
       plan.seed);
}

// The interface's own receive drops so far, which no socket counter sees; nullopt in a dry
// run or when the link cannot be read.
std::optional<uint64_t> interface_rx_dropped(const ScanPlan& plan, const ScanConfig& config) {
  if (config.dryrun || plan.network.ifindex == 0) return std::nullopt;
  auto netlink = NetlinkClient::open();
  if (!netlink) return std::nullopt;
  auto info = netlink->interface_by_index(plan.network.ifindex);
  if (!info) return std::nullopt;
  return info->rx_dropped;
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

}  // namespace

Result<void> run_scan(const ScanConfig& config) {
  // Everything that can fail before sending happens before any output file is touched.
  auto plan = build_scan_plan(config);
  if (!plan) return tl::unexpected(plan.error());
  auto engine = open_engine(*plan, config);
  if (!engine) return tl::unexpected(engine.error());
  auto outputs = ScanOutputs::open(config);
  if (!outputs) return tl::unexpected(outputs.error());
  log_start(*plan, config, **engine);

  ScanRunner runner(*plan, config, **engine, *outputs);
  const auto dropped_before = interface_rx_dropped(*plan, config);
  RunSummary run = runner.run();
  const auto dropped_after = interface_rx_dropped(*plan, config);
  if (dropped_before && dropped_after && *dropped_after > *dropped_before)
    run.totals.interface_dropped = *dropped_after - *dropped_before;
  log_message(LogLevel::kInfo, done_line(run));
  warn_about_loss(run, plan->network.interface);
  Result<void> outcome = run.outcome;
  auto written = outputs->write_metadata(scan_metadata_json(*plan, config, **engine, run));
  if (!written && outcome) outcome = written;
  return outcome;
}

}  // namespace anyscan
