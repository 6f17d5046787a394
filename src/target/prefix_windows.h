#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "net/ip_address.h"
#include "target/address_set.h"

namespace anyscan {

// Prefix windows (--prefix-window LEN, xmap's -x/--max-len): every whole, aligned IPv6 /LEN
// inside the targets is one target, the address its interface-identifier strategy picks;
// addresses outside whole /LEN blocks (hitlist entries, short ranges, longer prefixes) are
// probed one by one as before. A /32 at /64 is 2^32 targets, held as one range of window
// numbers (the /LEN's first address >> (128 - LEN)), never 2^32 of anything.
enum class IidStrategy : uint8_t {
  kLow,     // the sub-prefix's first address + 1 (2001:2:0:5::1)
  kFixed,   // the given interface identifier (its low 128 - LEN bits)
  kRandom,  // keyed random per sub-prefix: SipHash of the window number with the scan key, so
            // every shard and every resume of one scan picks the same address
};

struct WindowSpec {
  int length = 0;  // 1-128; 0: no windows
  IidStrategy iid = IidStrategy::kLow;
  uint128_t fixed = 0;            // kFixed: the identifier (masked to the host bits)
  std::array<uint64_t, 2> key{};  // kRandom: the scan's key

  bool enabled() const { return length != 0; }
  int host_bits() const { return 128 - length; }
  // The address probed in window `number`.
  IpAddress address(uint128_t number) const;
  // The window number of an address (its /LEN), whether or not it is the window's address.
  uint128_t number_of(IpAddress address) const {
    return host_bits() >= 128 ? 0 : address.value >> host_bits();
  }
  // "64 iid=low", "64 iid=random", "64 iid=fixed:::1": for the plan's identity and metadata.
  std::string text() const;
};

// "low", "random", "fixed:IID" (IID as IPv6 text, e.g. fixed:::1:2) for --iid.
Result<void> parse_iid(std::string_view text, WindowSpec& spec);

// The targets split into whole /LEN windows (as window numbers) and the other addresses.
struct WindowedTargets {
  AddressSet addresses;  // probed one by one
  AddressSet windows;    // window numbers (values, not addresses)
};
// Takes the set by value: without windows it moves through, a hitlist is never copied.
WindowedTargets split_into_windows(AddressSet targets, const WindowSpec& spec);

// Windows whose probed address is in `blocked` removed: every window inside a blocked range
// by number, and at each end of one the window whose address it holds. Exact, and
// proportional to the ranges, not to the windows.
AddressSet windows_not_blocked(const AddressSet& windows, const AddressSet& blocked,
                               const WindowSpec& spec);

}  // namespace anyscan
