// --metrics-file: a real prometheus-node-exporter (Debian's) on loopback in the target's
// test namespace, its textfile collector reading the directory the scan writes; scraped
// while the scan runs and after it; every counter equal to the scan's metadata; Debian's
// promtool checks the scrape. 198.18.0.0/15 only.
#include <gtest/gtest.h>
#include <unistd.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "support/pair_scan_test.h"
#include "support/scan_expectations.h"
#include "support/test_shell.h"

namespace anyscan::testing_support {
namespace {

class Metrics : public PairScanTest {
 protected:
  // The node exporter's page, fetched inside the target namespace, where it runs.
  std::string scrape() const {
    return shell_output("ip netns exec " + pair_->target_ns() +
                        " curl -s --max-time 5 http://127.0.0.1:19100/metrics");
  }
};

// name{labels} -> value, for the anyscan_ samples of a scrape.
std::map<std::string, double> anyscan_samples(const std::string& page) {
  std::map<std::string, double> out;
  const std::regex sample("^(anyscan_[a-z_]+)\\{([^}]*)\\} ([0-9.e+-]+)$");
  size_t at = 0;
  while (at < page.size()) {
    const size_t end = std::min(page.find('\n', at), page.size());
    const std::string line = page.substr(at, end - at);
    at = end + 1;
    std::smatch m;
    if (std::regex_match(line, m, sample)) {
      // The common labels dropped: what remains tells the samples of a family apart.
      std::string labels = m[2];
      labels = std::regex_replace(
          labels,
          std::regex(
              "(^|,)(scan_job|engine|interface|version|probe_module|engine_reason)=\"[^\"]*\""),
          "");
      if (!labels.empty() && labels[0] == ',') labels.erase(0, 1);
      out[m[1].str() + (labels.empty() ? "" : "{" + labels + "}")] = std::stod(m[3]);
    }
  }
  return out;
}

TEST_P(Metrics, NodeExporterScrapesTheScansCountersExactly) {
  const std::string textfiles = dir_ + "/textfile";
  ASSERT_EQ(std::system(("mkdir -p '" + textfiles + "'").c_str()), 0);
  start_server("node-exporter",
               {"/usr/bin/prometheus-node-exporter", "--web.listen-address=127.0.0.1:19100",
                "--collector.disable-defaults", "--collector.textfile",
                "--collector.textfile.directory=" + textfiles});
  const uint32_t seed = 11;
  const auto ports = random_ports(250, seed);
  const auto open = random_open_set(pair_->target_addresses(), ports, seed);
  pair_->listen_on(open);
  // 2,000 probes at 400/s: five seconds of scan to scrape in the middle of.
  const pid_t pid = start({"-p", port_list(ports), "-r", "400", "-c", "1", "-s", "40000-40999",
                           "--metrics-file", textfiles + "/anyscan.prom", "--metrics-interval", "1",
                           "--metrics-job", "weekly", "198.18.0.2-198.18.0.9"});
  std::map<std::string, double> during;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    during = anyscan_samples(scrape());
    if (during["anyscan_probes_sent_total"] > 200) break;
  }
  EXPECT_EQ(during["anyscan_scan_running"], 1) << "scraped while the scan runs";
  EXPECT_GT(during["anyscan_probes_sent_total"], 0);
  EXPECT_LT(during["anyscan_probes_sent_total"], 2000);
  EXPECT_GT(during["anyscan_scan_progress_ratio"], 0);
  EXPECT_LT(during["anyscan_scan_progress_ratio"], 1);
  // Forged SYN-ACKs to the scan's ports: counted as failed validations, in the metrics too.
  for (int i = 0; i < 50; ++i)
    pair_->send_tcp_from_target(pair_->target_addresses()[i % 8], ports[i % ports.size()],
                                static_cast<uint16_t>(40000 + i * 7), 1000 + i, 0x12345678u + i,
                                0x12, 1);
  const ScanRun run = finish(pid, 60);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  const std::string page = scrape();
  const auto after = anyscan_samples(page);
  const std::string& m = run.metadata;
  EXPECT_EQ(after.at("anyscan_scan_running"), 0);
  EXPECT_EQ(after.at("anyscan_probes_sent_total"), metadata_count(m, "sent"));
  EXPECT_EQ(after.at("anyscan_probes_sent_total"), 2000);
  EXPECT_EQ(after.at("anyscan_send_failures_total"), metadata_count(m, "send_failed"));
  EXPECT_EQ(after.at("anyscan_replies_received_total"), metadata_count(m, "received"));
  EXPECT_EQ(after.at("anyscan_results_success_total"), metadata_count(m, "success"));
  EXPECT_EQ(after.at("anyscan_results_total{classification=\"synack\"}"),
            metadata_count(m, "synack"));
  EXPECT_EQ(after.at("anyscan_results_total{classification=\"rst\"}"), metadata_count(m, "rst"));
  EXPECT_EQ(after.at("anyscan_results_total{classification=\"synack\"}") +
                after.at("anyscan_results_total{classification=\"rst\"}"),
            metadata_count(m, "results"));
  EXPECT_EQ(after.at("anyscan_results_by_family_total{family=\"ipv4\"}"),
            metadata_count(m, "results"));
  EXPECT_EQ(after.at("anyscan_validation_failures_total{reason=\"validation\"}"), 50);
  EXPECT_EQ(metadata_count(m, "validation_failed"), 50u);
  EXPECT_EQ(after.at("anyscan_duplicates_total"), metadata_count(m, "duplicates"));
  EXPECT_EQ(after.at("anyscan_ring_drops_total"), metadata_count(m, "dropped"));
  EXPECT_EQ(after.at("anyscan_not_redirected_total"), metadata_count(m, "not_redirected"));
  EXPECT_EQ(after.at("anyscan_interface_drops_total"), metadata_count(m, "interface_dropped"));
  EXPECT_EQ(after.at("anyscan_targets"), 2000);
  EXPECT_EQ(after.at("anyscan_targets_remaining"), 0);
  EXPECT_EQ(after.at("anyscan_scan_progress_ratio"), 1);
  EXPECT_GT(after.at("anyscan_last_success_timestamp_seconds"),
            after.at("anyscan_scan_start_timestamp_seconds"));
  // node_exporter sorts the labels: each is looked for on the anyscan_info line.
  const size_t info = page.find("\nanyscan_info{");
  ASSERT_NE(info, std::string::npos) << page;
  const std::string info_line = page.substr(info + 1, page.find('\n', info + 1) - info - 1);
  for (const std::string& label :
       {std::string("scan_job=\"weekly\""), "engine=\"" + GetParam().engine + "\"",
        "interface=\"" + pair_->scanner_if() + "\"", std::string("probe_module=\"tcp_synscan\"")})
    EXPECT_NE(info_line.find(label), std::string::npos) << info_line;
  // Debian's promtool on the whole scrape (node_exporter's own metrics included).
  std::ofstream(dir_ + "/scrape.txt") << page;
  const ShellResult lint = run_shell("promtool check metrics < '" + dir_ + "/scrape.txt'");
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
  // No temporary file left beside it.
  EXPECT_EQ(shell_output("ls '" + textfiles + "'"), "anyscan.prom\n");

  // The next run keeps the last success until it has its own, and says it is running.
  const double first_success = after.at("anyscan_last_success_timestamp_seconds");
  const pid_t second = start({"-p", port_list(ports), "-r", "400", "-c", "1", "-s", "41000-41999",
                              "--metrics-file", textfiles + "/anyscan.prom", "--metrics-interval",
                              "1", "--metrics-job", "weekly", "198.18.0.2-198.18.0.9"});
  std::map<std::string, double> again;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    again = anyscan_samples(scrape());
    if (again["anyscan_scan_running"] == 1 && again["anyscan_probes_sent_total"] > 0) break;
  }
  EXPECT_EQ(again["anyscan_scan_running"], 1);
  EXPECT_EQ(again["anyscan_last_success_timestamp_seconds"], first_success);
  ::kill(second, SIGINT);
  ::kill(second, SIGINT);  // the second one skips the cooldown
  const ScanRun stopped = finish(second, 30);
  EXPECT_EQ(stopped.process.exit_code, 0) << stopped.process.err;
  const auto interrupted = anyscan_samples(scrape());
  EXPECT_EQ(interrupted.at("anyscan_scan_running"), 0);
  EXPECT_EQ(interrupted.at("anyscan_last_success_timestamp_seconds"), first_success)
      << "an interrupted run is not a success";

  // A writer that dies (killed here) costs the scan a warning, never the scan (no SIGPIPE).
  const pid_t third =
      start({"-p", port_list(ports), "-r", "1000", "-c", "1", "-s", "42000-42999", "--metrics-file",
             textfiles + "/anyscan.prom", "--metrics-interval", "1", "198.18.0.2-198.18.0.9"});
  std::string children;
  for (int i = 0; i < 100 && children.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    children = read_file("/proc/" + std::to_string(third) + "/task/" + std::to_string(third) +
                         "/children");
  }
  ASSERT_FALSE(children.empty()) << "the writer child";
  ::kill(static_cast<pid_t>(std::stol(children)), SIGKILL);
  const ScanRun survived = finish(third, 30);
  EXPECT_EQ(survived.process.exit_code, 0) << survived.process.err;
  EXPECT_EQ(metadata_count(survived.metadata, "sent"), 2000u);
  EXPECT_NE(survived.process.err.find("--metrics-file"), std::string::npos) << survived.process.err;
}

INSTANTIATE_TEST_SUITE_P(Engines, Metrics,
                         ::testing::Values(ScanVariant{"af_packet", "", 1},
                                           ScanVariant{"af_xdp", "", 2}),
                         [](const auto& info) { return variant_name(info.param); });

}  // namespace
}  // namespace anyscan::testing_support
