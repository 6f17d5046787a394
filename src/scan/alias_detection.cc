#include "scan/alias_detection.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "target/target_parser.h"

namespace anyscan {

namespace {

// The /L prefix numbers of the plan's IPv6 targets: of its addresses, and of its windows
// (a window of length ≥ L lies in one /L; its number's top L bits are that /L's).
Result<AddressSet> target_prefixes(const ScanPlan& main, int length) {
  const int shift = 128 - length;
  std::vector<AddressRange> prefixes;
  for (const AddressRange& r : main.addresses.ranges())
    if (!r.first.is_ipv4())
      prefixes.push_back({IpAddress{r.first.value >> shift}, IpAddress{r.last.value >> shift}});
  if (!main.windows.empty()) {
    if (main.window.length < length)
      return make_error(ExitCode::kUsage,
                        "--detect-aliases: the --prefix-window /" +
                            std::to_string(main.window.length) + " windows are larger than the /" +
                            std::to_string(length) +
                            " prefixes detection tests: use --alias-prefix-length " +
                            std::to_string(main.window.length) + " or less");
    const int down = main.window.length - length;
    for (const AddressRange& r : main.windows.ranges())
      prefixes.push_back({IpAddress{r.first.value >> down}, IpAddress{r.last.value >> down}});
  }
  return AddressSet(std::move(prefixes));
}

}  // namespace

int AliasDetection::extra_bits() const {
  int k = 0;
  while ((uint32_t{1} << k) < per_prefix) ++k;
  return k;
}

Result<ScanPlan> alias_detection_plan(const ScanPlan& main, const AliasDetection& detection) {
  auto prefixes = target_prefixes(main, detection.length);
  if (!prefixes) return tl::unexpected(prefixes.error());
  const int k = detection.extra_bits();
  ScanPlan plan;
  plan.window.length = detection.length + k;
  plan.window.iid = IidStrategy::kRandom;
  // Keyed apart from the scan's own random identifiers, so no detection address is a
  // target's by construction.
  plan.window.key = {main.key.words[0] ^ 0x616c696173646574ULL, main.key.words[1]};
  std::vector<AddressRange> windows;
  windows.reserve(prefixes->ranges().size());
  const uint128_t last_of_prefix = (uint128_t{1} << k) - 1;
  for (const AddressRange& p : prefixes->ranges())  // N = 2^k: all of each prefix's windows
    windows.push_back(
        {IpAddress{p.first.value << k}, IpAddress{(p.last.value << k) | last_of_prefix}});
  AddressSet all(std::move(windows));
  plan.windows = main.alias_forbidden.empty()
                     ? all
                     : windows_not_blocked(all, main.alias_forbidden, plan.window);
  if (plan.windows.count() > IndexPermutation::kMaxSize)
    return make_error(ExitCode::kUsage,
                      "--detect-aliases: " + count_text(prefixes->count()) + " /" +
                          std::to_string(detection.length) + " prefixes x " +
                          std::to_string(detection.per_prefix) +
                          " addresses are more probes than a scan can index: detect on a "
                          "shorter --alias-prefix-length or give --aliased-prefixes");
  plan.ports = PortSet({main.ports.at(0)});
  plan.seed = main.seed;
  plan.key = main.key;
  plan.blocklist_source = main.blocklist_source;
  plan.slice = ShardSlice{0, 1, plan.target_count()};
  plan.source_port_first = main.source_port_first;
  plan.source_port_count = main.source_port_count;
  plan.network = main.network;
  plan.module_info = main.module_info;
  plan.probe = main.probe;
  plan.engine = main.engine;
  plan.sender_threads = main.sender_threads;
  plan.receiver_threads = main.receiver_threads;
  plan.rate_pps = main.rate_pps;
  return plan;
}

Result<void> AliasAnswers::write(const ResultRecord& record) {
  const Reply& reply = record.reply;
  ++replies_;
  // An error about the address sent by a router on the way says nothing of the address.
  const bool error = reply.classification == Classification::kUnreachable ||
                     reply.classification == Classification::kIcmpUnreach;
  if (error && reply.icmp_responder != reply.saddr) return {};
  if (reply.saddr.is_ipv4()) return {};
  answered_.push_back(plan_.window.number_of(reply.saddr));
  return {};
}

std::vector<uint128_t> AliasAnswers::windows() {
  std::sort(answered_.begin(), answered_.end());
  answered_.erase(std::unique(answered_.begin(), answered_.end()), answered_.end());
  return answered_;
}

std::vector<AddressRange> aliased_from_answers(std::vector<uint128_t> answered,
                                               const AliasDetection& detection) {
  std::sort(answered.begin(), answered.end());
  answered.erase(std::unique(answered.begin(), answered.end()), answered.end());
  const int k = detection.extra_bits();
  const int host = 128 - detection.length;
  const uint128_t host_mask = host >= 128 ? ~uint128_t{0} : (uint128_t{1} << host) - 1;
  std::vector<AddressRange> prefixes;
  for (size_t i = 0; i < answered.size();) {
    const uint128_t prefix = answered[i] >> k;
    size_t j = i;
    uint32_t answered_in_prefix = 0;
    for (; j < answered.size() && (answered[j] >> k) == prefix; ++j)
      answered_in_prefix += (answered[j] & ((uint128_t{1} << k) - 1)) < detection.per_prefix;
    if (answered_in_prefix == detection.per_prefix) {
      const uint128_t first = host >= 128 ? 0 : prefix << host;
      prefixes.push_back({IpAddress{first}, IpAddress{first | host_mask}});
    }
    i = j;
  }
  return prefixes;
}

void apply_detected_aliases(ScanPlan& plan, std::vector<AddressRange> prefixes) {
  plan.detected = AliasedPrefixes(std::move(prefixes));
  // over_limit runs to each prefix's end: only the targets in it are skipped (and counted).
  plan.skip_addresses =
      plan.detected.over_limit(plan.addresses, plan.aliased_limit).intersect(plan.addresses);
  plan.skip_windows =
      plan.detected.windows_over_limit(plan.windows, plan.window, plan.aliased_limit)
          .intersect(plan.windows);
  const uint128_t skipped =
      (plan.skip_addresses.count() + plan.skip_windows.count()) * plan.ports.size();
  plan.detected_capped = skipped > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(skipped);
}

std::string prefix_text(const AddressRange& prefix) {
  const uint128_t span = prefix.last.value - prefix.first.value;
  int length = 128;
  while (length > 0 && (span >> (128 - length)) != 0) --length;
  return to_string(prefix.first) + "/" + std::to_string(length);
}

std::string detected_aliases_text(const std::vector<AddressRange>& prefixes,
                                  const AliasDetection& detection) {
  std::string text = "# anyscan --detect-aliases " + std::to_string(detection.per_prefix) +
                     " --alias-prefix-length " + std::to_string(detection.length) + ": " +
                     std::to_string(prefixes.size()) + " aliased prefixes\n";
  for (const AddressRange& p : prefixes) text += prefix_text(p) + "\n";
  return text + "# end\n";
}

Result<std::optional<std::vector<AddressRange>>> read_detected_aliases(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::optional<std::vector<AddressRange>>();
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  constexpr std::string_view kEnd = "# end\n";
  if (text.size() < kEnd.size() || text.compare(text.size() - kEnd.size(), kEnd.size(), kEnd) != 0)
    return std::optional<std::vector<AddressRange>>();
  auto prefixes = load_prefix_list(path);
  if (!prefixes) return tl::unexpected(prefixes.error());
  return std::optional<std::vector<AddressRange>>(std::move(*prefixes));
}

}  // namespace anyscan
