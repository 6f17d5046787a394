// Lose nothing: scans killed at random moments (SIGKILL), stopped (SIGTERM), or out of disk
// space, then resumed with --resume, end with exactly the result set of an uninterrupted
// scan of the same listeners: each open and closed port once, no duplicate, no torn line.
// And a run that fails before it sends never touches existing outputs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "store/checkpoint_file.h"
#include "support/netns_fixture.h"
#include "support/scan_expectations.h"

namespace anyscan::testing_support {
namespace {

struct ResumeVariant {
  std::string engine;
  bool one_thread;
  bool mixed = false;  // IPv4 and IPv6 targets in one scan
};
std::string resume_name(const ResumeVariant& v) {
  return v.engine + (v.one_thread ? "_T1" : "_default") + (v.mixed ? "_mixed" : "");
}
void PrintTo(const ResumeVariant& v, std::ostream* out) { *out << resume_name(v); }

class ResumeScan : public ::testing::TestWithParam<ResumeVariant> {
 protected:
  static constexpr int kQueues = 2;

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    pair_ = std::make_unique<NetnsPair>(8, kQueues);
    ASSERT_TRUE(pair_->ok()) << pair_->error();
    dir_ = process_temp_dir("anyscan-resume") + "/" + resume_name(GetParam()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(std::system(("mkdir -p '" + dir_ + "'").c_str()), 0);
    std::ofstream(dir_ + "/allow.conf") << "198.18.0.0/24\n2001:2::/64\n";
    seed_ = std::random_device{}();
    // 8 x 250 = 2000 targets; mixed: 16 x 125.
    ports_ = random_ports(GetParam().mixed ? 125 : 250, seed_);
    open_ = random_open_set(addresses(), ports_, seed_);
    pair_->listen_on(open_);
  }

  std::vector<std::string> addresses() const {
    auto all = pair_->target_addresses();
    if (GetParam().mixed)
      for (const auto& a : pair_->target_addresses6()) all.push_back(a);
    return all;
  }

  void TearDown() override {
    if (!results_dir_.empty()) ::umount2(results_dir_.c_str(), MNT_DETACH);
    if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  // The scanner on this pair's veth, with an empty blocklist, then `more`.
  std::vector<std::string> scanner(const std::vector<std::string>& more) const {
    std::vector<std::string> args = {ANYSCAN_BINARY,      "--io-engine", GetParam().engine,   "-i",
                                     pair_->scanner_if(), "-G",          pair_->target_mac(), "-b",
                                     "/dev/null"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  // The scan of the listeners' set, writing where `files` say (-o, or --run-directory, ...).
  std::vector<std::string> scan_of_the_set(std::vector<std::string> files) const {
    files.insert(files.end(),
                 {"--restrict-to", dir_ + "/allow.conf", "-f", "saddr,sport,classification,success",
                  "-p", port_list(ports_), "-r", "800", "-c", "1", "-q", "198.18.0.2-198.18.0.9"});
    if (GetParam().mixed) files.push_back("2001:2::2-2001:2::9");
    return scanner(files);
  }

  // One run of the scan; `results` in `results_dir()` (a small tmpfs in the disk test).
  pid_t start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args =
        scan_of_the_set({"-o", results_dir() + "/results.csv", "-m", dir_ + "/meta.json",
                         "--checkpoint-file", dir_ + "/scan.checkpoint", "--resume"});
    if (GetParam().one_thread) args.insert(args.end(), {"-T", "1"});
    args.insert(args.end(), extra.begin(), extra.end());
    return pair_->spawn_in_scanner(args, dir_ + "/stdout", dir_ + "/stderr");
  }

  ProcessResult finish(pid_t pid) { return wait_for(pid, 60, dir_ + "/stdout", dir_ + "/stderr"); }

  std::string results_dir() const { return results_dir_.empty() ? dir_ : results_dir_; }

  // The result lines as written: every line must be a whole record, each only once.
  void expect_exact_results(const std::string& why) {
    std::ifstream in(results_dir() + "/results.csv");
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "saddr,sport,classification,success") << why;
    std::multiset<std::string> rows;
    while (std::getline(in, line)) rows.insert(line);
    const auto expected = expected_rows(addresses(), open_, ports_);
    EXPECT_EQ(rows.size(), expected.size()) << why << ": lines (a duplicate or a torn line?)";
    EXPECT_EQ(std::set<std::string>(rows.begin(), rows.end()), expected) << why;
  }

  std::string checkpoint() const { return read_file(dir_ + "/scan.checkpoint"); }
  // The newest record of the checkpoint, as a resume reads it.
  Checkpoint saved() const {
    auto read = read_checkpoint(dir_ + "/scan.checkpoint");
    if (!read || !*read) {
      ADD_FAILURE() << "no readable checkpoint: " << (read ? "none" : read.error().message);
      return {};
    }
    return **read;
  }

  std::unique_ptr<NetnsPair> pair_;
  std::string dir_, results_dir_;
  uint32_t seed_ = 0;
  std::vector<uint16_t> ports_;
  std::map<std::string, std::set<uint16_t>> open_;
};

TEST_P(ResumeScan, KilledAtRandomMomentsThenResumedFindsExactlyTheOpenSet) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed_);
  std::mt19937 random(seed_);
  int resumes = 0;
  for (int kill = 0; kill < 3; ++kill) {
    const pid_t pid = start();
    const int after_ms = 1200 + static_cast<int>(random() % 1300);
    std::this_thread::sleep_for(std::chrono::milliseconds(after_ms));
    ::kill(pid, SIGKILL);
    const ProcessResult killed = finish(pid);
    if (killed.exit_code == 0) break;  // finished before the kill
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.err;
    if (!saved().finished) ++resumes;
  }
  const ProcessResult last = finish(start());
  ASSERT_EQ(last.exit_code, 0) << last.err;
  expect_exact_results("after " + std::to_string(resumes) + " kills");
  EXPECT_TRUE(saved().finished) << checkpoint();
  const std::string metadata = read_file(dir_ + "/meta.json");
  EXPECT_EQ(metadata_count(metadata, "results"), 2000u) << metadata;
  EXPECT_GE(metadata_count(metadata, "sent"), 2000u);
  // Started again after it finished: nothing is sent, nothing is touched.
  const std::string before = read_file(results_dir() + "/results.csv");
  const ProcessResult again = finish(start());
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("nothing to do"), std::string::npos) << again.err;
  EXPECT_EQ(read_file(results_dir() + "/results.csv"), before);
}

TEST_P(ResumeScan, SigtermThenResumeFindsExactlyTheOpenSet) {
  const pid_t pid = start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(pid, SIGTERM);
  const ProcessResult stopped = finish(pid);
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  ASSERT_FALSE(saved().finished) << checkpoint();
  const ProcessResult resumed = finish(start());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming from position"), std::string::npos) << resumed.err;
  expect_exact_results("after SIGTERM");
  EXPECT_NE(read_file(dir_ + "/meta.json").find("\"resumes\":[{"), std::string::npos);
}

TEST_P(ResumeScan, FullDiskIsExit74AndAResumeAfterFreeingSpaceCompletes) {
  results_dir_ = dir_ + "/small";
  ASSERT_EQ(std::system(("mkdir -p '" + results_dir_ + "'").c_str()), 0);
  // 20 KiB: room for about half of the ~60 KiB of results.
  ASSERT_EQ(::mount("tmpfs", results_dir_.c_str(), "tmpfs", 0, "size=20k"), 0);
  const ProcessResult full = finish(start());
  ASSERT_EQ(full.exit_code, 74) << full.err;
  EXPECT_NE(full.err.find(results_dir_ + "/results.csv"), std::string::npos) << full.err;
  ASSERT_FALSE(saved().finished) << checkpoint();
  ASSERT_EQ(::mount("tmpfs", results_dir_.c_str(), "tmpfs", MS_REMOUNT, "size=16m"), 0);
  const ProcessResult resumed = finish(start());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  expect_exact_results("after a full disk");
}

std::vector<ResumeVariant> resume_variants() {
  return {{"af_packet", true}, {"af_packet", false}, {"af_xdp", true}, {"af_xdp", false}};
}
INSTANTIATE_TEST_SUITE_P(Engines, ResumeScan, ::testing::ValuesIn(resume_variants()),
                         [](const auto& info) { return resume_name(info.param); });

// IPv4 and IPv6 targets in one scan, SIGKILLed twice at random moments and resumed: the
// results equal those of the same scan run without interruption (same seed), row for row.
class MixedResumeScan : public ResumeScan {};

TEST_P(MixedResumeScan, KilledTwiceThenResumedEqualsTheUninterruptedScan) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed_);
  const std::string seed = std::to_string(seed_);
  // The uninterrupted scan, from other source ports (no half-open state of one meets the
  // other on the target).
  std::vector<std::string> whole = scan_of_the_set(
      {"-o", dir_ + "/whole.csv", "-m", dir_ + "/whole.json", "-e", seed, "-s", "50000-54999"});
  const ProcessResult uninterrupted =
      wait_for(pair_->spawn_in_scanner(whole, dir_ + "/whole.out", dir_ + "/whole.err"), 60,
               dir_ + "/whole.out", dir_ + "/whole.err");
  ASSERT_EQ(uninterrupted.exit_code, 0) << uninterrupted.err;
  std::mt19937 random(seed_);
  int kills = 0;
  while (kills < 2) {
    const pid_t pid = start({"-e", seed, "-s", "40000-44999"});
    std::this_thread::sleep_for(std::chrono::milliseconds(900 + random() % 600));
    ::kill(pid, SIGKILL);
    const ProcessResult killed = finish(pid);
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.err;
    ++kills;
  }
  const ProcessResult last = finish(start({"-e", seed, "-s", "40000-44999"}));
  ASSERT_EQ(last.exit_code, 0) << last.err;
  EXPECT_NE(last.err.find("resuming from position"), std::string::npos) << last.err;
  expect_exact_results("after 2 kills");
  EXPECT_EQ(csv_rows(read_file(dir_ + "/results.csv")), csv_rows(read_file(dir_ + "/whole.csv")));
  const std::string metadata = read_file(dir_ + "/meta.json");
  EXPECT_EQ(metadata_count(metadata, "results_ipv6"), 8u * ports_.size()) << metadata;
}

INSTANTIATE_TEST_SUITE_P(Engines, MixedResumeScan,
                         ::testing::Values(ResumeVariant{"af_packet", false, true},
                                           ResumeVariant{"af_xdp", true, true}),
                         [](const auto& info) { return resume_name(info.param); });

// Refusals: each leaves the results file byte for byte as it was.
class ResumeRefusal : public ResumeScan {};

TEST_P(ResumeRefusal, DamagedForeignOrMismatchedCheckpointsAreExit65) {
  const ProcessResult first = finish(start());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string results = read_file(dir_ + "/results.csv");
  // Both slots damaged: no record to fall back on.
  std::string both = checkpoint();
  for (size_t at = both.find("state="); at != std::string::npos; at = both.find("state=", at + 1))
    both[at + 4] = 'E';
  const std::pair<std::string, std::string> cases[] = {
      {both, "checksum mismatch"},
      {checkpoint().substr(0, checkpoint().find('\0') / 2), "damaged"},
      {"saddr,sport\n", "not an anyscan checkpoint"},
  };
  for (const auto& [contents, message] : cases) {
    SCOPED_TRACE(message);
    std::ofstream(dir_ + "/scan.checkpoint", std::ios::trunc) << contents;
    const ProcessResult refused = finish(start());
    EXPECT_EQ(refused.exit_code, 65) << refused.err;
    EXPECT_NE(refused.err.find(message), std::string::npos) << refused.err;
    EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
    EXPECT_EQ(read_file(dir_ + "/results.csv"), results);
  }
  // Another scan (other ports) against the checkpoint of a real interrupted run.
  std::remove((dir_ + "/scan.checkpoint").c_str());
  const pid_t pid = start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(pid, SIGKILL);
  finish(pid);
  ASSERT_FALSE(saved().finished);
  const ProcessResult other = finish(start({"-p", "7"}));  // -p again: the last one counts
  EXPECT_EQ(other.exit_code, 65) << other.err;
  EXPECT_NE(other.err.find("records another scan: ports"), std::string::npos) << other.err;
  // Without --resume an unfinished checkpoint is not overwritten.
  const std::vector<std::string> no_resume =
      scanner({"-o", dir_ + "/results.csv", "--checkpoint-file", dir_ + "/scan.checkpoint", "-p",
               "7", "-q", "198.18.0.2"});
  const ProcessResult fresh =
      finish(pair_->spawn_in_scanner(no_resume, dir_ + "/stdout", dir_ + "/stderr"));
  EXPECT_EQ(fresh.exit_code, 64) << fresh.err;
  EXPECT_NE(fresh.err.find("pass --resume"), std::string::npos) << fresh.err;
  // A results file shorter than the checkpoint says.
  ::truncate((dir_ + "/results.csv").c_str(), 10);
  const ProcessResult short_file = finish(start());
  EXPECT_EQ(short_file.exit_code, 65) << short_file.err;
  EXPECT_NE(short_file.err.find("fewer than the checkpoint records"), std::string::npos)
      << short_file.err;
  EXPECT_EQ(read_file(dir_ + "/results.csv").size(), 10u);
}

// A crash (or power loss) in the middle of a checkpoint write tears only the slot being
// written: the resume goes on from the other, older record.
TEST_P(ResumeRefusal, ATornNewestSlotResumesFromTheOlderRecord) {
  const pid_t pid = start();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ::kill(pid, SIGKILL);
  ASSERT_EQ(finish(pid).exit_code, 128 + SIGKILL);
  const Checkpoint newest = saved();
  ASSERT_GE(newest.sequence, 2u) << checkpoint();
  std::string bytes = checkpoint();
  const size_t slot = (newest.sequence % 2) * kCheckpointSlotBytes;
  bytes.resize(std::max(bytes.size(), slot + 100));
  bytes[slot + 100] = static_cast<char>(bytes[slot + 100] ^ 0x20);  // torn
  std::ofstream(dir_ + "/scan.checkpoint", std::ios::trunc | std::ios::binary) << bytes;
  const Checkpoint older = saved();
  ASSERT_EQ(older.sequence, newest.sequence - 1);
  const ProcessResult resumed = finish(start());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming from position " + std::to_string(older.resume_from) + " "),
            std::string::npos)
      << resumed.err;
  expect_exact_results("after a torn checkpoint slot");
}

TEST_P(ResumeRefusal, ARunThatFailsBeforeSendingLeavesOutputsAsTheyWere) {
  const std::string results = dir_ + "/prev.csv", metadata = dir_ + "/prev.json";
  std::ofstream(results) << "saddr,sport\n198.18.0.2,80\n";
  std::ofstream(metadata) << "{\"previous\":true}\n";
  const std::vector<std::string> common = {
      "-b", "/dev/null", "-i", pair_->scanner_if(), "-G", pair_->target_mac(), "-p", "80", "-q"};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), common.begin(), common.end());
    args.push_back("198.18.0.2");
    return finish(pair_->spawn_in_scanner(args, dir_ + "/stdout", dir_ + "/stderr"));
  };
  // No CAP_NET_RAW: exit 77.
  const ProcessResult no_caps = run({"/usr/bin/setpriv", "--reuid", "nobody", "--regid", "nogroup",
                                     "--clear-groups", "--inh-caps", "-all", "--bounding-set",
                                     "-all", ANYSCAN_BINARY, "-o", results, "-m", metadata});
  EXPECT_EQ(no_caps.exit_code, 77) << no_caps.err;
  // -m cannot be created: exit 73.
  const ProcessResult no_metadata =
      run({ANYSCAN_BINARY, "-o", results, "-m", "/nonexistent/m.json"});
  EXPECT_EQ(no_metadata.exit_code, 73) << no_metadata.err;
  // -o cannot be created: exit 73, and -m is untouched.
  const ProcessResult no_results =
      run({ANYSCAN_BINARY, "-o", "/nonexistent/r.csv", "-m", metadata});
  EXPECT_EQ(no_results.exit_code, 73) << no_results.err;
  EXPECT_EQ(read_file(results), "saddr,sport\n198.18.0.2,80\n");
  EXPECT_EQ(read_file(metadata), "{\"previous\":true}\n");
}

TEST_P(ResumeRefusal, ASecondRunOnTheSameResultsFileIsExit75) {
  const pid_t first = start({"-r", "200"});
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  const std::vector<std::string> args =
      scanner({"-o", dir_ + "/results.csv", "-p", "7", "-q", "198.18.0.2"});
  const ProcessResult second =
      wait_for(pair_->spawn_in_scanner(args, dir_ + "/stdout2", dir_ + "/stderr2"), 30,
               dir_ + "/stdout2", dir_ + "/stderr2");
  EXPECT_EQ(second.exit_code, 75) << second.err;
  EXPECT_NE(second.err.find("in use by another anyscan run"), std::string::npos) << second.err;
  ::kill(first, SIGKILL);
  finish(first);
}

// A shard (--shards 2 --shard 1) killed twice and resumed ends with exactly the results of
// the same shard scanned without interruption (same seed): the progress is the shard's.
TEST_P(ResumeRefusal, AShardKilledAndResumedEqualsTheUninterruptedShard) {
  const std::vector<std::string> shard = {"--shards", "2", "--shard", "1", "-e", "99"};
  std::vector<std::string> reference = scan_of_the_set({"-o", dir_ + "/reference.csv"});
  reference.insert(reference.end(), shard.begin(), shard.end());
  const ProcessResult whole =
      finish(pair_->spawn_in_scanner(reference, dir_ + "/stdout", dir_ + "/stderr"));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  for (int kill = 0; kill < 2; ++kill) {
    const pid_t pid = start(shard);
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    ::kill(pid, SIGKILL);
    finish(pid);
  }
  const ProcessResult last = finish(start(shard));
  ASSERT_EQ(last.exit_code, 0) << last.err;
  const auto reference_rows = csv_rows(read_file(dir_ + "/reference.csv"));
  EXPECT_EQ(reference_rows.size(), 1000u);
  const std::string resumed = read_file(dir_ + "/results.csv");
  EXPECT_EQ(csv_rows(resumed), reference_rows);
  EXPECT_EQ(std::count(resumed.begin(), resumed.end(), '\n'), 1001) << "a duplicate line";
}

// The service's way (ANYSCAN_RUN_DIRECTORY): a killed run is resumed by the next start into
// the same files; after it finished, the next start is a new run and the first stays as it was.
TEST_P(ResumeRefusal, RunDirectoryResumesTheInterruptedRunThenStartsANewOne) {
  const std::string runs = dir_ + "/runs";
  auto run_args = [&] { return scan_of_the_set({"--run-directory", runs}); };
  auto start_run = [&] {
    return pair_->spawn_in_scanner(run_args(), dir_ + "/stdout", dir_ + "/stderr");
  };
  const pid_t pid = start_run();
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  ::kill(pid, SIGKILL);
  finish(pid);
  const std::string first = shell_output("readlink " + runs + "/latest");
  ASSERT_FALSE(first.empty());
  const ProcessResult resumed = finish(start_run());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming from position"), std::string::npos) << resumed.err;
  EXPECT_EQ(shell_output("readlink " + runs + "/latest"), first);
  results_dir_ = runs;  // expect_exact_results reads results.csv there
  ASSERT_EQ(
      std::system(("ln -sf '" + first.substr(0, first.find('\n')) + "' '" + runs + "/results.csv'")
                      .c_str()),
      0);
  expect_exact_results("a run directory after a kill");
  const std::string first_results = read_file(runs + "/results.csv");
  results_dir_.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a new second: a new run id
  const ProcessResult second = finish(start_run());
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const std::string latest = shell_output("readlink " + runs + "/latest");
  EXPECT_NE(latest, first);
  EXPECT_EQ(read_file(runs + "/" + first.substr(0, first.find('\n'))), first_results);
  const std::string stem = first.substr(0, first.find('.'));
  EXPECT_EQ(shell_output("ls " + runs + " | grep -c '^" + stem + "\\.checkpoint$'"), "1\n")
      << shell_output("ls " + runs);
}

INSTANTIATE_TEST_SUITE_P(Engines, ResumeRefusal,
                         ::testing::Values(ResumeVariant{"af_packet", false}),
                         [](const auto& info) { return resume_name(info.param); });

}  // namespace
}  // namespace anyscan::testing_support
