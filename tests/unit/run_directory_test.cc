// --run-directory: a new run after a finished one, the unfinished one resumed, unique run
// ids, `latest`, and pruning that never removes the running run.
#include "store/run_directory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "store/checkpoint.h"
#include "support/test_shell.h"

namespace anyscan {
namespace {

using testing_support::process_temp_dir;
using testing_support::read_file;

class RunDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = process_temp_dir("anyscan-runs") + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    config_.run_directory = dir_;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  void write_checkpoint(const std::string& run, bool finished) {
    Checkpoint c;
    c.finished = finished;
    c.results_path = dir_ + "/" + run + ".csv";
    c.started = "2026-12-01T00:00:00.000000Z";
    std::ofstream(dir_ + "/checkpoint") << format_checkpoint(c);
  }
  void touch(const std::string& name) { std::ofstream(dir_ + "/" + name) << name; }
  bool exists(const std::string& name) { return ::access((dir_ + "/" + name).c_str(), F_OK) == 0; }

  std::string dir_;
  ScanConfig config_;
};

TEST_F(RunDirectory, FirstRunIsNewAndNamedByItsStart) {
  auto files = plan_run_directory(config_, "20261202T010000Z");
  ASSERT_TRUE(files) << files.error().message;
  EXPECT_FALSE(files->resumes);
  EXPECT_EQ(files->results, dir_ + "/20261202T010000Z.csv");
  EXPECT_EQ(files->metadata, dir_ + "/20261202T010000Z.meta.json");
  EXPECT_EQ(files->checkpoint, dir_ + "/checkpoint");
  const ScanConfig run = with_run_files(config_, *files);
  EXPECT_EQ(run.output_file, files->results);
  EXPECT_EQ(run.checkpoint_file, files->checkpoint);
  EXPECT_FALSE(run.resume);
  EXPECT_TRUE(run.run_directory.empty());
  ASSERT_TRUE(commit_run_directory(*files, 10, config_));
  char target[64] = {};
  ASSERT_GT(::readlink((dir_ + "/latest").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "20261202T010000Z.csv");
}

TEST_F(RunDirectory, AnUnfinishedRunIsResumedWithItsFiles) {
  ASSERT_TRUE(plan_run_directory(config_, "20261202T010000Z"));  // creates the directory
  touch("20261202T010000Z.csv");
  write_checkpoint("20261202T010000Z", false);
  auto files = plan_run_directory(config_, "20261202T020000Z");
  ASSERT_TRUE(files) << files.error().message;
  EXPECT_TRUE(files->resumes);
  EXPECT_EQ(files->results, dir_ + "/20261202T010000Z.csv");
  EXPECT_TRUE(with_run_files(config_, *files).resume);
}

TEST_F(RunDirectory, AfterAFinishedRunANewRunAndTheCheckpointStaysWithItsRun) {
  ASSERT_TRUE(plan_run_directory(config_, "20261202T010000Z"));
  touch("20261202T010000Z.csv");
  write_checkpoint("20261202T010000Z", true);
  const std::string finished = read_file(dir_ + "/checkpoint");
  auto files = plan_run_directory(config_, "20261202T020000Z");
  ASSERT_TRUE(files);
  EXPECT_FALSE(files->resumes);
  EXPECT_EQ(files->results, dir_ + "/20261202T020000Z.csv");
  EXPECT_TRUE(exists("checkpoint")) << "planning changes nothing";
  ASSERT_TRUE(commit_run_directory(*files, 10, config_));
  EXPECT_FALSE(exists("checkpoint"));
  EXPECT_EQ(read_file(dir_ + "/20261202T010000Z.checkpoint"), finished);
  EXPECT_EQ(read_file(dir_ + "/20261202T010000Z.csv"), "20261202T010000Z.csv");
}

TEST_F(RunDirectory, ARunStartedInTheSameSecondGetsTheNextOne) {
  ASSERT_TRUE(plan_run_directory(config_, "20261202T235959Z"));
  touch("20261202T235959Z.csv");
  auto files = plan_run_directory(config_, "20261202T235959Z");
  ASSERT_TRUE(files);
  EXPECT_EQ(files->run, "20261203T000000Z");
}

TEST_F(RunDirectory, KeepsTheNewestRunsAndNeverTheRunningOne) {
  ASSERT_TRUE(plan_run_directory(config_, "20261201T000000Z"));
  for (int day = 1; day <= 5; ++day) {
    const std::string run = "2026120" + std::to_string(day) + "T000000Z";
    touch(run + ".csv");
    touch(run + ".meta.json");
  }
  touch("notes.txt");  // not a run: left alone
  auto files = plan_run_directory(config_, "20261206T000000Z");
  ASSERT_TRUE(files);
  auto removed = commit_run_directory(*files, 3, config_);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->size(), 6u);  // days 1-3, two files each; 4, 5 and the new run stay
  EXPECT_FALSE(exists("20261203T000000Z.csv"));
  EXPECT_TRUE(exists("20261204T000000Z.meta.json"));
  EXPECT_TRUE(exists("notes.txt"));
  // A resumed run older than the ones kept is never removed.
  touch("20261206T000000Z.csv");
  write_checkpoint("20261204T000000Z", false);
  auto resumed = plan_run_directory(config_, "20261207T000000Z");
  ASSERT_TRUE(resumed);
  ASSERT_TRUE(commit_run_directory(*resumed, 1, config_));
  EXPECT_TRUE(exists("20261204T000000Z.csv"));
  EXPECT_FALSE(exists("20261205T000000Z.csv"));
}

TEST_F(RunDirectory, ADamagedCheckpointIsExit65) {
  ASSERT_TRUE(plan_run_directory(config_, "20261202T010000Z"));
  std::ofstream(dir_ + "/checkpoint") << "anyscan-checkpoint 1\nstate=running\n";
  auto files = plan_run_directory(config_, "20261202T020000Z");
  ASSERT_FALSE(files);
  EXPECT_EQ(files.error().code, ExitCode::kDataErr);
  EXPECT_NE(files.error().message.find(dir_ + "/checkpoint is damaged"), std::string::npos);
}

}  // namespace
}  // namespace anyscan
