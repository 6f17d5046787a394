#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "output/result_sink.h"
#include "scan/scan_plan.h"
#include "target/address_set.h"

namespace anyscan {

// Aliased-prefix detection (--detect-aliases N, anyscan(8) "IPv6 at scale"). Before the scan,
// N keyed-random addresses in each /L prefix (--alias-prefix-length, default 64) that holds an
// IPv6 target are probed on the scan's first port; a prefix is aliased when all N answered
// from the probed address itself (any reply: SYN-ACK, RST, echo reply, UDP, or an ICMP error
// the address sent about itself). Such a prefix is then treated as an --aliased-prefixes
// entry: at most --aliased-limit of the scan's targets in it are probed (the first in address
// order), every result in it is flagged aliased, and the metadata lists it.
//
// The N addresses of prefix p are the keyed-random addresses of the windows
// p·2^k .. p·2^k + N − 1 at length L + k (N = 2^k): one in each of the prefix's first N
// sub-prefixes of that length, the same for every shard and every resume of the scan.
struct AliasDetection {
  uint32_t per_prefix = 0;  // N, a power of two 1..16; 0: off
  int length = 64;          // L
  int extra_bits() const;   // k = log2(N)
};

// The detection's own plan: the main plan's network, probe module, rate, threads, seed and
// key; as targets the detection windows of every /L holding one of its IPv6 targets (minus
// what the blocklist or allowlist forbids); its first port only; the whole space (every shard
// detects for the whole scan, so all agree). kUsage when windows are shorter than /L or the
// space is too large to index.
Result<ScanPlan> alias_detection_plan(const ScanPlan& main, const AliasDetection& detection);

// A result sink that keeps, of a detection scan's replies, the windows that answered from
// the probed address itself.
class AliasAnswers : public ResultSink {
 public:
  explicit AliasAnswers(const ScanPlan& detection_plan) : plan_(detection_plan) {}
  Result<void> write(const ResultRecord& record) override;
  uint64_t submit() override { return 0; }
  Result<void> wait_written(uint64_t, bool) override { return {}; }
  // The answered window numbers, sorted and unique.
  std::vector<uint128_t> windows();
  uint64_t replies() const { return replies_; }

 private:
  const ScanPlan& plan_;
  std::vector<uint128_t> answered_;
  uint64_t replies_ = 0;
};

// The /L prefixes (as ranges of addresses) all of whose N windows answered.
std::vector<AddressRange> aliased_from_answers(std::vector<uint128_t> answered_windows,
                                               const AliasDetection& detection);

// Applies detected prefixes to the main plan: results in them are flagged, and the targets
// beyond the first --aliased-limit in each are skipped by the senders (the target space and
// so the shards' split stay as planned).
void apply_detected_aliases(ScanPlan& plan, std::vector<AddressRange> prefixes);

// The outcome kept beside a checkpoint (FILE.aliases), so a resume skips the same targets:
// a comment line, one prefix per line (an --aliased-prefixes file), and "# end" when whole.
std::string detected_aliases_text(const std::vector<AddressRange>& prefixes,
                                  const AliasDetection& detection);
// The prefixes of a whole outcome file; nullopt when it is missing or was cut short (the
// run stopped during detection: detect again). kDataErr for a line that is not a prefix.
Result<std::optional<std::vector<AddressRange>>> read_detected_aliases(const std::string& path);

// "2001:db8::/64" for a prefix range.
std::string prefix_text(const AddressRange& prefix);

}  // namespace anyscan
