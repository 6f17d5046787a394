#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "support/netns_fixture.h"

namespace anyscan::testing_support {

// An engine as the user picks it, on a veth with `queues` TX and RX queues on both ends.
struct ScanVariant {
  std::string engine;    // --io-engine
  std::string xdp_mode;  // --xdp-mode (af_xdp only; "" = auto, which is native on veth)
  int queues = 1;
  PairLink link = PairLink::kVeth;
};
std::string variant_name(const ScanVariant& variant);
void PrintTo(const ScanVariant& variant, std::ostream* out);

// What one scanner run left: its exit and output, the results' rows and the metadata.
struct ScanRun {
  ProcessResult process;
  std::set<std::string> rows;
  std::string metadata;
};

// The base fixture of the privileged scan suites: a NetnsPair made for the test (8 target
// addresses, the variant's queue count), a directory of its own (removed when the test
// passed), servers the test started in the target namespace stopped by PID, and the scanner
// on the pair with the safe defaults. A suite adds cases, not set-up.
class PairScanTest : public ::testing::TestWithParam<ScanVariant> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The scanner's argv: its binary, the variant's engine, our veth, the target's MAC, an
  // empty blocklist (the default one covers 198.18.0.0/15) and a --restrict-to of the test
  // subnet (so nothing outside it could be probed even by mistake), -o/-m in the test's
  // directory, -f with the default fields, -q; then `extra` (a later -f wins).
  std::vector<std::string> scanner_args(const std::vector<std::string>& extra) const;
  pid_t start(const std::vector<std::string>& extra);
  ScanRun finish(pid_t pid, int timeout_s = 60);
  ScanRun scan(const std::vector<std::string>& extra, int timeout_s = 60) {
    return finish(start(extra), timeout_s);
  }
  // A server in the target namespace, stopped (SIGTERM, by PID) when the test ends; its
  // output in the test's directory as NAME.out and NAME.err.
  pid_t start_server(const std::string& name, const std::vector<std::string>& argv);

  // The default fields of the results (-f).
  static constexpr const char* kDefaultFields = "saddr,sport,classification,success";

  std::unique_ptr<NetnsPair> pair_;
  std::string dir_;

 private:
  std::vector<pid_t> servers_;
};

}  // namespace anyscan::testing_support
