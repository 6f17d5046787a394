#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "target/address_set.h"

namespace anyscan {

// What one target expression names: one range, or two when an IPv6 prefix or range spans
// the IPv4-mapped block (::ffff:0:0/96), which holds IPv4 targets, not IPv6 ones.
struct ParsedTarget {
  AddressRange ranges[2];
  size_t count = 0;
};

// One target expression of either family: a prefix "198.18.0.0/15", "2001:2::/48" (host
// bits are cleared, as zmap does), a range "198.18.0.1-198.18.0.9", "2001:2::1-2001:2::ff",
// or an address. Text forms as parse_ip (RFC 4291; zone ids and IPv4-mapped forms refused).
// Errors name the expression and say what is wrong.
Result<ParsedTarget> parse_target(std::string_view text);

// A target/allowlist/blocklist file (zmap's format), read in pieces of any size: one
// expression per line, '#' starts a comment, blank lines are ignored. Memory stays bounded
// by what the file means, not by its size: a line longer than kMaxLineBytes or a NUL byte
// (a binary file, a device) ends the read with an error at once, and the ranges are merged
// as they accumulate. Errors say "NAME:LINE: ...", with code kDataErr.
class TargetListReader {
 public:
  static constexpr size_t kMaxLineBytes = 1024;
  // skip_invalid (--ignore-invalid-hosts): a line that is not a target is counted, not an
  // error (a NUL byte or an overlong line still is: the file is not one of targets).
  explicit TargetListReader(std::string name, bool skip_invalid = false)
      : name_(std::move(name)), skip_invalid_(skip_invalid) {}

  // Keep each line's entry as it is, unmerged (a list of prefixes, each one a unit: the
  // aliased-prefix list), for entries() instead of finish().
  void keep_entries() { keep_entries_ = true; }

  Result<void> feed(std::string_view chunk);
  Result<AddressSet> finish();
  // keep_entries(): what the lines named, sorted, a prefix inside another folded into it.
  Result<std::vector<AddressRange>> entries();
  uint64_t skipped() const { return skipped_; }

 private:
  Result<void> feed_text(std::string_view chunk);  // no NUL in chunk
  Result<void> line(std::string_view text);

  std::string name_;
  bool skip_invalid_ = false;
  bool keep_entries_ = false;
  uint64_t skipped_ = 0;
  std::string partial_;  // the unfinished last line, at most kMaxLineBytes
  size_t line_number_ = 0;
  AddressSet set_;
  std::vector<AddressRange> pending_;
};

Result<AddressSet> parse_target_list(std::string_view contents, const std::string& name);

// The set as a target file: one "FIRST-LAST" (or address) line per range, which
// parse_target_list reads back as the same set.
std::string target_list_text(const AddressSet& set);

// Reads and parses a file, "-" for standard input, in 64 KiB pieces. A file that cannot be
// opened or read, or a directory, is kNoInput.
// skip_invalid: see TargetListReader; *skipped (if given) gets the count of lines skipped.
Result<AddressSet> load_target_file(const std::string& path, bool skip_invalid = false,
                                    uint64_t* skipped = nullptr);

// A list of prefixes each of which counts on its own (--aliased-prefixes: the IPv6 Hitlist
// Service's aliased-prefixes.txt.xz), read as load_target_file reads (plain, xz, gzip).
Result<std::vector<AddressRange>> load_prefix_list(const std::string& path);

}  // namespace anyscan
