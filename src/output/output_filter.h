#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/ip_address.h"
#include "output/output_field.h"
#include "output/record_formatter.h"

namespace anyscan {

// --output-filter, zmap's expression language: FIELD OP VALUE comparisons of output fields
// (any field of --list-output-fields, also those not written), OP one of = != < > <= >=,
// joined by && and || (&& binds tighter) and grouped with parentheses. VALUE is a decimal
// integer or a word (letters, digits, '_', '.', ':', '-') or a "quoted string". Numeric
// fields compare as integers; saddr, daddr and icmp_responder as addresses (an IPv4 or
// IPv6 VALUE; < and > order addresses as numbers, with IPv4 in ::ffff:0:0/96); classification and
// the timestamps as strings (= and != only). zmap's default output is "success = 1 && repeat = 0".
class OutputFilter {
 public:
  static constexpr size_t kMaxBytes = 4096;
  static constexpr int kMaxDepth = 32;  // nested parentheses

  // kUsage naming the position and what was expected.
  static Result<OutputFilter> parse(std::string_view text);

  bool matches(const ResultRecord& record) const;
  const std::string& text() const { return text_; }

 private:
  enum class Op : uint8_t { kEq, kNe, kLt, kGt, kLe, kGe, kAnd, kOr };
  struct Node {
    Op op;
    OutputField field{};     // comparisons
    bool is_string = false;  // compare `string` (else `number`)
    uint128_t number = 0;    // a number, or an address's 128-bit value
    std::string string;
    int left = -1, right = -1;  // && and ||: child nodes
  };
  friend class OutputFilterParser;

  bool evaluate(int node, const ResultRecord& record) const;

  std::string text_;
  std::vector<Node> nodes_;
  int root_ = -1;
};

}  // namespace anyscan
