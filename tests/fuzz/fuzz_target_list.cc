// Target, allowlist and blocklist files: parse, and when they parse, the set operations and
// index mapping the scanner runs on them must hold. The same bytes fed in pieces (as a file
// is read, 64 KiB at a time) must give the same set or the same error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "scan/opt_out.h"
#include "target/target_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto set = anyscan::parse_target_list(text, "fuzz");
  anyscan::TargetListReader pieces("fuzz");
  anyscan::Result<void> fed;
  const size_t step = size == 0 ? 1 : 1 + data[0] % 7;
  for (size_t at = 0; at < size && fed; at += step) fed = pieces.feed(text.substr(at, step));
  auto in_pieces =
      fed ? pieces.finish() : anyscan::Result<anyscan::AddressSet>(tl::unexpected(fed.error()));
  if (bool(set) != bool(in_pieces)) std::abort();
  if (!set && set.error().message != in_pieces.error().message) std::abort();
  if (set && set->ranges() != in_pieces->ranges()) std::abort();
  // The opt-out helper's range messages (scan/opt_out.h): any bytes are refused or read as
  // ranges that make a set, and what is encoded reads back.
  if (auto ranges = anyscan::decode_ranges(text)) {
    const anyscan::AddressSet decoded(std::move(*ranges));
    auto again = anyscan::decode_ranges(anyscan::encode_ranges(decoded.ranges()));
    if (!again || anyscan::AddressSet(std::move(*again)).ranges() != decoded.ranges()) std::abort();
  }
  if (!set) {
    if (set.error().message.rfind("fuzz:", 0) != 0) std::abort();
    return 0;
  }
  // The start blocklist kept beside a checkpoint reads back as the same set.
  auto kept = anyscan::parse_target_list(anyscan::target_list_text(*set), "kept");
  if (!kept || kept->ranges() != set->ranges()) std::abort();
  if (auto sent = anyscan::decode_ranges(anyscan::encode_ranges(set->ranges()));
      !sent || *sent != set->ranges())
    std::abort();
  for (uint64_t i = 0; i < set->size() && i < 64; ++i) {
    const anyscan::IpAddress a = set->at(i);
    if (set->index_of(a) != i) std::abort();
    // RFC 5952 text out reads back to the same address.
    const auto again = anyscan::parse_ip(anyscan::to_string(a));
    if (!again || *again != a) std::abort();
  }
  const auto half = anyscan::AddressSet({anyscan::AddressRange::v4(0, 0x7fffffffu)});
  // Counts saturate at 2^128 - 1 (::/0 and any IPv4 address are more): the sum holds below.
  if (set->count() != ~static_cast<anyscan::uint128_t>(0) &&
      set->minus(half).count() + set->intersect(half).count() != set->count())
    std::abort();
  const auto v6 = anyscan::AddressSet::everything().minus(anyscan::AddressSet::ipv4_space());
  if (set->minus(v6).count() != set->count(anyscan::IpFamily::kIpv4)) std::abort();
  return 0;
}
