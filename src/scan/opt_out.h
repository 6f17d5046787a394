#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "cli/scan_config.h"
#include "store/scan_totals.h"
#include "target/address_set.h"

namespace anyscan {

// Live opt-out (anyscan(8), SIGNALS): SIGHUP (systemctl reload) reads the blocklist again
// during a scan. The addresses the new list holds are not probed from then on (the senders
// check each target), replies from them are not written (the receivers check each result),
// and at the end of the run the results file loses what was written for them before.
// A list that cannot be read or parsed is refused and the one in effect stays.
//
// The newest list, as the threads see it. The control thread publishes; senders and
// receivers read a pointer per batch. Every list published stays alive until the run ends
// (a thread may still be reading an older one), and reloads are rare.
class Exclusions {
 public:
  // The set checked from now on; returns its epoch (1 for the first).
  uint32_t publish(AddressSet set);
  // The newest set (null before any reload); read the epoch first, then the set: the set is
  // then at least as new as the epoch says.
  const AddressSet* current() const { return current_.load(std::memory_order_acquire); }
  uint32_t epoch() const { return epoch_.load(std::memory_order_acquire); }

 private:
  std::atomic<const AddressSet*> current_{nullptr};
  std::atomic<uint32_t> epoch_{0};
  std::vector<std::unique_ptr<const AddressSet>> kept_;
};

// What a purge took out of the results file (counted as the receivers count).
struct PurgeOutcome {
  uint64_t size = 0;  // the file's size after it
  uint64_t removed = 0, success = 0, ipv6 = 0;
  uint64_t by_class[Totals::kClasses] = {};
};

// The file work behind a reload, which the confined scan cannot do itself (no open, no
// rename): a child forked at setup before any thread (host/helper_process.h) that keeps the
// starting user's file access without any capability. It reads and parses the blocklist
// exactly as the scan's start did (-b, the built-in ranges beside it, --ignore-invalid-hosts,
// xz/gzip), and rewrites the results file without the records of excluded addresses
// (written to FILE.tmp.PID, synced, renamed over FILE).
class OptOutHelper {
 public:
  // `results_path`: empty when the results go to standard output (nothing to purge).
  static Result<std::unique_ptr<OptOutHelper>> start(const ScanConfig& config,
                                                     std::string results_path);
  ~OptOutHelper();
  OptOutHelper(const OptOutHelper&) = delete;
  OptOutHelper& operator=(const OptOutHelper&) = delete;

  // The blocklist as -b names it now; the error names the file and the line (kDataErr), or
  // says the helper is gone (kIoErr).
  Result<AddressSet> read_blocklist();
  // Rewrites the first `bytes` bytes of the results file (all it holds: the scan's writer
  // is done) without the records whose address is in `excluded`.
  Result<PurgeOutcome> purge_results(const AddressSet& excluded, uint64_t bytes);
  bool can_purge() const { return !results_path_.empty(); }

 private:
  OptOutHelper(UniqueFd socket, std::string results_path)
      : socket_(std::move(socket)), results_path_(std::move(results_path)) {}
  Result<std::string> ask(const std::string& request);
  UniqueFd socket_;
  std::string results_path_;
};

// The helper's messages: ranges as text-free fixed records (fuzzed: the scan reads what the
// helper sends).
std::string encode_ranges(const std::vector<AddressRange>& ranges);
Result<std::vector<AddressRange>> decode_ranges(std::string_view bytes);

}  // namespace anyscan
