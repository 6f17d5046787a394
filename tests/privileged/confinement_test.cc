// Privileges during a scan, read from outside as an administrator would: while a scan runs,
// /proc/PID/status of the process and of every one of its threads shows no capability in
// any set, no_new_privs, the seccomp filter (mode 2) and, started as root, the --user
// account. Both engines; the full scan suites run with the filter on as well.
#include <dirent.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "host/privilege_drop.h"
#include "support/netns_fixture.h"
#include "support/scan_expectations.h"

namespace anyscan::testing_support {
namespace {

// "CapEff" -> "0000000000000000" from a /proc/.../status text.
std::map<std::string, std::string> status_fields(const std::string& text) {
  std::map<std::string, std::string> fields;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t value = line.find_first_not_of(" \t", colon + 1);
    fields[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
  }
  return fields;
}

// Every thread's status file (the process's own is its main thread's).
std::map<std::string, std::string> thread_statuses(pid_t pid) {
  std::map<std::string, std::string> statuses;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = ::opendir(tasks.c_str());
  if (dir == nullptr) return statuses;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    statuses[entry->d_name] = read_file(tasks + "/" + entry->d_name + "/status");
  }
  ::closedir(dir);
  return statuses;
}

struct Expected {
  std::string uid;  // "65534" for nobody
  bool seccomp;
};

void expect_confined(const std::string& status, const Expected& expected) {
  const auto f = status_fields(status);
  SCOPED_TRACE(f.count("Name") ? f.at("Name") : "?");
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
    EXPECT_EQ(f.count(set) ? f.at(set) : "absent", "0000000000000000") << set << "\n" << status;
  EXPECT_EQ(f.count("NoNewPrivs") ? f.at("NoNewPrivs") : "absent", "1");
  EXPECT_EQ(f.count("Seccomp") ? f.at("Seccomp") : "absent", expected.seccomp ? "2" : "0");
  const std::string ids =
      expected.uid + "\t" + expected.uid + "\t" + expected.uid + "\t" + expected.uid;
  EXPECT_EQ(f.count("Uid") ? f.at("Uid") : "absent", ids);
  EXPECT_EQ(f.count("Gid") ? f.at("Gid") : "absent", ids);  // nobody/nogroup, daemon/daemon
  EXPECT_EQ(f.count("Groups") ? f.at("Groups") : "absent", "");
}

class Confinement : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    pair_ = std::make_unique<NetnsPair>(8, 2);
    ASSERT_TRUE(pair_->ok()) << pair_->error();
    dir_ = process_temp_dir("anyscan-confinement") + "/" + GetParam() + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(std::system(("mkdir -p '" + dir_ + "'").c_str()), 0);
  }

  // About 4 s of sending (16,000 probes at 4,000 pps), then a 1 s cooldown.
  pid_t start(const std::vector<std::string>& extra) {
    std::vector<std::string> args = pair_->scanner_argv(GetParam());
    args.insert(args.end(), {"-p", "1-2000", "-r", "4000", "-c", "1", "-q", "-o",
                             dir_ + "/results.csv", "-m", dir_ + "/meta.json"});
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"198.18.0.2-198.18.0.9"});
    return pair_->spawn_in_scanner(args, dir_ + "/stdout", dir_ + "/stderr");
  }

  // Reads every thread's status while the scan sends, then lets it finish.
  void check_running_scan(const std::vector<std::string>& extra, const Expected& expected) {
    const pid_t pid = start(extra);
    std::this_thread::sleep_for(std::chrono::milliseconds(2000));
    const auto statuses = thread_statuses(pid);
    std::set<std::string> names;
    for (const auto& [tid, status] : statuses) {
      SCOPED_TRACE("thread " + tid);
      expect_confined(status, expected);
      names.insert(status_fields(status)["Name"]);
    }
    // The threads that parse replies and write results are among those checked.
    EXPECT_TRUE(names.count("anyscan-recv0") && names.count("anyscan-send0") &&
                names.count("anyscan-write"))
        << ::testing::PrintToString(names);
    std::cout << "/proc/" << pid << "/status during a " << GetParam() << " scan:\n";
    for (const auto& [key, value] :
         status_fields(read_file("/proc/" + std::to_string(pid) + "/status")))
      if (key.rfind("Cap", 0) == 0 || key == "NoNewPrivs" || key.rfind("Seccomp", 0) == 0 ||
          key == "Uid" || key == "Gid" || key == "Groups")
        std::cout << "  " << key << ":\t" << value << "\n";
    const ProcessResult done = wait_for(pid, 60, dir_ + "/stdout", dir_ + "/stderr");
    ASSERT_EQ(done.exit_code, 0) << done.err;
    metadata_ = read_file(dir_ + "/meta.json");
    EXPECT_EQ(metadata_count(metadata_, "results"), 16000u) << metadata_;
  }

  std::unique_ptr<NetnsPair> pair_;
  std::string dir_, metadata_;
};

TEST_P(Confinement, ARunningScanHoldsNoCapabilityNoRootAndTheFilterInEveryThread) {
  check_running_scan({}, {"65534", true});
  EXPECT_NE(metadata_.find("\"seccomp\":true"), std::string::npos) << metadata_;
  EXPECT_NE(metadata_.find("\"user\":\"nobody\""), std::string::npos) << metadata_;
  // Every receiver thread saw the filter refuse a call before it read a frame.
  EXPECT_EQ(metadata_count(metadata_, "seccomp_checked_threads"),
            metadata_count(metadata_, "receiver_threads"))
      << metadata_;
}

TEST_P(Confinement, NoSeccompStillDropsEverythingAndUserNamesTheAccount) {
  check_running_scan({"--no-seccomp", "--user", "daemon"}, {"1", false});
  EXPECT_NE(metadata_.find("\"seccomp\":false"), std::string::npos) << metadata_;
  EXPECT_NE(metadata_.find("\"user\":\"daemon\""), std::string::npos) << metadata_;
}

TEST_P(Confinement, AnUnknownUserIsExit67BeforeAnyFileIsTouched) {
  std::ofstream(dir_ + "/results.csv") << "kept\n";
  const ProcessResult refused =
      wait_for(start({"--user", "no-such-account"}), 30, dir_ + "/stdout", dir_ + "/stderr");
  EXPECT_EQ(refused.exit_code, 67) << refused.err;
  EXPECT_NE(refused.err.find("--user no-such-account: no such user"), std::string::npos)
      << refused.err;
  EXPECT_EQ(read_file(dir_ + "/results.csv"), "kept\n");
}

INSTANTIATE_TEST_SUITE_P(Engines, Confinement, ::testing::Values("af_packet", "af_xdp"),
                         [](const auto& info) { return info.param; });

// drop_privileges itself, in a child started as root: afterwards there is no way back.
TEST(DropPrivileges, LeavesNoCapabilityNoRootAndNoWayBack) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_EQ(in_child([] {
              std::string f;
              auto user = scan_user_for("nobody");
              auto dropped =
                  user && *user ? drop_privileges(*user) : make_error(ExitCode::kNoUser, "nobody");
              if (!dropped) f += "drop_privileges: " + dropped.error().message + "; ";
              if (dropped && !dropped->bounding_set_cleared) f += "bounding set not cleared; ";
              if (::getuid() != 65534 || ::geteuid() != 65534) f += "not nobody; ";
              if (::setuid(0) == 0 || ::seteuid(0) == 0) f += "setuid(0) succeeded; ";
              if (::getgroups(0, nullptr) != 0) f += "supplementary groups left; ";
              if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) f += "no_new_privs not set; ";
              if (::prctl(PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0) != 0)
                f += "CAP_NET_RAW still bounded; ";
              __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
              __user_cap_data_struct data[2]{};
              if (::syscall(SYS_capget, &header, data) != 0 || data[0].effective ||
                  data[0].permitted || data[0].inheritable || data[1].effective ||
                  data[1].permitted)
                f += "capabilities left; ";
              if (::socket(AF_PACKET, SOCK_RAW, 0) >= 0)
                f += "a packet socket could still be opened; ";
              return f;
            }),
            "");
}

}  // namespace
}  // namespace anyscan::testing_support
