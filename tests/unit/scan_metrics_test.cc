// The metrics text (scan/scan_metrics.h): the exposition format's rules, checked line by
// line; the privileged Metrics test checks it against node_exporter and promtool.
#include "scan/scan_metrics.h"

#include "store/metrics_file.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace anyscan {
namespace {

TEST(ScanMetrics, ExpositionFormatAndValues) {
  MetricsFacts facts;
  facts.job = "weekly";
  facts.engine = "af_packet";
  facts.interface = "eth0";
  facts.probe_module = "tcp_synscan";
  facts.engine_reason = "af_xdp not available: \"libxdp\" missing\\nsecond line\n";
  facts.start_time_s = 1796544000.5;
  Totals t;
  t.sent = 2000;
  t.targets_total = 2000;
  t.targets_done = 500;
  t.results = 30;
  t.results_ipv6 = 10;
  t.results_synack = 12;
  t.results_rst = 18;
  t.validation_failed = 7;
  t.invalid_fragment = 2;
  t.invalid_header_chain = 1;
  const std::string text = metrics_text(facts, t, true);
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  std::map<std::string, double> samples;
  const std::regex sample_line(R"re(^([a-z_]+)\{((?:[a-z_]+="(?:[^"\\]|\\.)*",?)*)\} (\S+)$)re");
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) {
      helped.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (line.rfind("# TYPE ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      types[name] = line.substr(line.rfind(' ') + 1);
    } else {
      ASSERT_TRUE(std::regex_match(line, m, sample_line)) << line;
      const std::string name = m[1];
      ASSERT_TRUE(types.count(name)) << name << " sampled before its TYPE";
      EXPECT_NE(m[2].str().find("scan_job=\"weekly\",engine=\"af_packet\",interface=\"eth0\""),
                std::string::npos);
      samples[name + "{" + m[2].str() + "}"] = std::stod(m[3]);
    }
  }
  for (const auto& [name, type] : types) {
    EXPECT_TRUE(helped.count(name)) << name << " has no HELP";
    EXPECT_EQ(type == "counter", name.size() > 6 && name.substr(name.size() - 6) == "_total")
        << name << " is a " << type;
    EXPECT_EQ(name.rfind("anyscan_", 0), 0u) << name;
  }
  const std::string common = "scan_job=\"weekly\",engine=\"af_packet\",interface=\"eth0\"";
  auto at = [&](const std::string& name, const std::string& extra = "") {
    return samples.at(name + "{" + common + (extra.empty() ? "" : "," + extra) + "}");
  };
  EXPECT_EQ(at("anyscan_probes_sent_total"), 2000);
  EXPECT_EQ(at("anyscan_targets_remaining"), 1500);
  EXPECT_EQ(at("anyscan_scan_progress_ratio"), 0.25);
  EXPECT_EQ(at("anyscan_scan_running"), 1);
  EXPECT_EQ(at("anyscan_results_total", "classification=\"synack\""), 12);
  EXPECT_EQ(at("anyscan_results_total", "classification=\"icmp-unreach\""), 0);
  EXPECT_EQ(at("anyscan_results_by_family_total", "family=\"ipv4\""), 20);
  EXPECT_EQ(at("anyscan_validation_failures_total", "reason=\"validation\""), 4);
  EXPECT_EQ(at("anyscan_validation_failures_total", "reason=\"ipv6_header_chain\""), 1);
  EXPECT_EQ(at("anyscan_scan_start_timestamp_seconds"), 1796544000.5);
  EXPECT_EQ(text.find("anyscan_last_success_timestamp_seconds"), std::string::npos)
      << "no success yet, none carried over";
  // Label values escaped as the format wants: \" \\ and \n.
  EXPECT_NE(
      text.find(R"(engine_reason="af_xdp not available: \"libxdp\" missing\\nsecond line\n")"),
      std::string::npos)
      << text;
  // A success: now, or the one carried over from the previous run.
  EXPECT_NE(metrics_text(facts, t, false, 1796545000.25)
                .find("anyscan_last_success_timestamp_seconds{" + common + "} 1796545000.25\n"),
            std::string::npos);
  // What the next run reads back from the file; nothing from a file without it.
  EXPECT_EQ(metric_value_in(metrics_text(facts, t, false, 1796545000.25),
                            "anyscan_last_success_timestamp_seconds"),
            1796545000.25);
  EXPECT_FALSE(metric_value_in(text, "anyscan_last_success_timestamp_seconds"));
  EXPECT_FALSE(metric_value_in("anyscan_last_success_timestamp_seconds_x 5\n",
                               "anyscan_last_success_timestamp_seconds"));
  EXPECT_FALSE(metric_value_in("anyscan_last_success_timestamp_seconds{} nonsense",
                               "anyscan_last_success_timestamp_seconds"));
  facts.last_success_s = 1796000000;
  EXPECT_NE(metrics_text(facts, t, true)
                .find("anyscan_last_success_timestamp_seconds{" + common + "} 1796000000\n"),
            std::string::npos);
}

}  // namespace
}  // namespace anyscan
