#include "support/pair_scan_test.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

namespace anyscan::testing_support {

std::string variant_name(const ScanVariant& v) {
  return v.engine + (v.xdp_mode.empty() ? "" : "_" + v.xdp_mode) + "_q" + std::to_string(v.queues) +
         (v.link == PairLink::kTun ? "_tun" : "");
}
void PrintTo(const ScanVariant& v, std::ostream* out) { *out << variant_name(v); }

void PairScanTest::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
  pair_ = std::make_unique<NetnsPair>(8, GetParam().queues, GetParam().link);
  ASSERT_TRUE(pair_->ok()) << pair_->error();
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "-" + info->name();
  std::replace(name.begin(), name.end(), '/', '_');
  dir_ = ::testing::TempDir() + "anyscan-" + std::to_string(::getpid()) + "-" + name;
  ASSERT_EQ(std::system(("mkdir -p '" + dir_ + "'").c_str()), 0);
  std::ofstream(dir_ + "/allow.conf") << "198.18.0.0/24\n2001:2::/64\n";
}

void PairScanTest::TearDown() {
  for (pid_t pid : servers_) {  // ours, by PID
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  if (!dir_.empty() && !HasFailure()) std::system(("rm -rf '" + dir_ + "'").c_str());
}

std::vector<std::string> PairScanTest::scanner_args(const std::vector<std::string>& extra) const {
  std::vector<std::string> args = pair_->scanner_argv(GetParam().engine);
  args.insert(args.end(), {"--restrict-to", dir_ + "/allow.conf", "-o", dir_ + "/results.csv", "-m",
                           dir_ + "/meta.json", "-f", kDefaultFields, "-q"});
  if (!GetParam().xdp_mode.empty()) args.insert(args.end(), {"--xdp-mode", GetParam().xdp_mode});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

pid_t PairScanTest::start(const std::vector<std::string>& extra) {
  return pair_->spawn_in_scanner(scanner_args(extra), dir_ + "/stdout", dir_ + "/stderr");
}

ScanRun PairScanTest::finish(pid_t pid, int timeout_s) {
  ScanRun run;
  run.process = wait_for(pid, timeout_s, dir_ + "/stdout", dir_ + "/stderr");
  run.rows = csv_rows(read_file(dir_ + "/results.csv"));
  run.metadata = read_file(dir_ + "/meta.json");
  return run;
}

pid_t PairScanTest::start_server(const std::string& name, const std::vector<std::string>& argv) {
  const pid_t pid =
      pair_->spawn_in_target(argv, dir_ + "/" + name + ".out", dir_ + "/" + name + ".err");
  servers_.push_back(pid);
  return pid;
}

}  // namespace anyscan::testing_support
