#include "target/prefix_windows.h"

#include <optional>
#include <utility>
#include <vector>

#include "base/siphash.h"

namespace anyscan {
namespace {

uint128_t host_mask(int host_bits) {
  return host_bits >= 128 ? ~uint128_t{0} : (uint128_t{1} << host_bits) - 1;
}

}  // namespace

IpAddress WindowSpec::address(uint128_t number) const {
  const int host = host_bits();
  const uint128_t base = host >= 128 ? 0 : number << host;
  const uint128_t mask = host_mask(host);
  switch (iid) {
    case IidStrategy::kLow:
      return IpAddress{base | (mask & 1)};
    case IidStrategy::kFixed:
      return IpAddress{base | (fixed & mask)};
    case IidStrategy::kRandom: {
      uint8_t bytes[16];
      IpAddress{number}.to_bytes(bytes);
      const uint64_t low = siphash24(key[0], key[1], bytes, sizeof bytes);
      bytes[0] ^= 0x80;  // a second, independent word for hosts wider than 64 bits
      const uint64_t high = siphash24(key[0], key[1], bytes, sizeof bytes);
      return IpAddress{base | ((uint128_t{high} << 64 | low) & mask)};
    }
  }
  return IpAddress{base};
}

std::string WindowSpec::text() const {
  std::string out = std::to_string(length) + " iid=";
  switch (iid) {
    case IidStrategy::kLow:
      return out + "low";
    case IidStrategy::kRandom:
      return out + "random";
    case IidStrategy::kFixed:
      return out + "fixed:" + to_string(IpAddress{fixed & host_mask(host_bits())});
  }
  return out;
}

Result<void> parse_iid(std::string_view text, WindowSpec& spec) {
  if (text == "low") {
    spec.iid = IidStrategy::kLow;
    return {};
  }
  if (text == "random") {
    spec.iid = IidStrategy::kRandom;
    return {};
  }
  if (text.substr(0, 6) == "fixed:") {
    auto iid = parse_ip(text.substr(6));
    if (!iid || iid->is_ipv4())
      return make_error(ExitCode::kUsage,
                        "fixed:IID takes the identifier as IPv6 text, e.g. fixed:::1 or "
                        "fixed:::a:b:c:d");
    spec.iid = IidStrategy::kFixed;
    spec.fixed = iid->value;
    return {};
  }
  return make_error(ExitCode::kUsage, "expected low, random or fixed:IID (e.g. fixed:::1)");
}

namespace {

// The whole aligned blocks of 2^host addresses inside [first, last], as an inclusive range of
// block numbers, or nothing.
std::optional<std::pair<uint128_t, uint128_t>> whole_blocks(uint128_t first, uint128_t last,
                                                            int host) {
  const uint128_t mask = host_mask(host);
  const uint128_t a = (first >> host) + ((first & mask) != 0 ? 1 : 0);
  const uint128_t top = last >> host;
  if ((last & mask) != mask && top == 0) return std::nullopt;
  const uint128_t b = (last & mask) == mask ? top : top - 1;
  if (a > b || (a == 0 && (first & mask) != 0)) return std::nullopt;  // a wrapped
  return std::make_pair(a, b);
}

}  // namespace

WindowedTargets split_into_windows(AddressSet targets, const WindowSpec& spec) {
  WindowedTargets out;
  if (!spec.enabled()) {
    out.addresses = std::move(targets);
    return out;
  }
  const int host = spec.host_bits();
  const uint128_t mask = host_mask(host);
  std::vector<AddressRange> rest, windows;
  for (const AddressRange& r : targets.ranges()) {
    const auto blocks =
        r.first.is_ipv4() ? std::nullopt : whole_blocks(r.first.value, r.last.value, host);
    if (!blocks) {
      rest.push_back(r);
      continue;
    }
    windows.push_back({IpAddress{blocks->first}, IpAddress{blocks->second}});
    const uint128_t covered_first = blocks->first << host;
    const uint128_t covered_last = (blocks->second << host) | mask;
    if (r.first.value < covered_first) rest.push_back({r.first, IpAddress{covered_first - 1}});
    if (covered_last < r.last.value) rest.push_back({IpAddress{covered_last + 1}, r.last});
  }
  out.addresses = AddressSet(std::move(rest));
  out.windows = AddressSet(std::move(windows));
  return out;
}

AddressSet windows_not_blocked(const AddressSet& windows, const AddressSet& blocked,
                               const WindowSpec& spec) {
  if (windows.empty()) return windows;
  const int host = spec.host_bits();
  std::vector<AddressRange> cut;
  for (const AddressRange& b : blocked.ranges()) {
    if (b.first.is_ipv4()) continue;
    if (const auto blocks = whole_blocks(b.first.value, b.last.value, host))
      cut.push_back({IpAddress{blocks->first}, IpAddress{blocks->second}});
    // The windows at its ends, partly blocked: out when the address they probe is inside.
    for (const uint128_t number : {spec.number_of(b.first), spec.number_of(b.last)}) {
      const IpAddress probed = spec.address(number);
      if (b.first <= probed && probed <= b.last)
        cut.push_back({IpAddress{number}, IpAddress{number}});
    }
  }
  return windows.minus(AddressSet(std::move(cut)));
}

}  // namespace anyscan
