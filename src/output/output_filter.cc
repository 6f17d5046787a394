#include "output/output_filter.h"

#include <algorithm>

#include "base/parse_number.h"
#include "net/ip_address.h"

namespace anyscan {
namespace {

enum class FieldKind { kNumber, kAddress, kString };

FieldKind kind_of(OutputField field) {
  switch (field) {
    case OutputField::kSaddr:
    case OutputField::kDaddr:
    case OutputField::kIcmpResponder:
      return FieldKind::kAddress;
    case OutputField::kClassification:
    case OutputField::kTimestamp:
    case OutputField::kTimestampStr:
    case OutputField::kData:
    case OutputField::kIcmpUnreachStr:
    case OutputField::kService:
    case OutputField::kStatus:
    case OutputField::kBanner:
      return FieldKind::kString;
    default:
      return FieldKind::kNumber;
  }
}

// Numbers, and addresses as their 128-bit values (IPv4 in its mapped block).
uint128_t number_of(OutputField field, const ResultRecord& r) {
  switch (field) {
    case OutputField::kSaddr:
      return r.reply.saddr.value;
    case OutputField::kDaddr:
      return r.reply.daddr.value;
    case OutputField::kSport:
      return r.reply.sport;
    case OutputField::kDport:
      return r.reply.dport;
    case OutputField::kSeqnum:
      return r.reply.seq;
    case OutputField::kAcknum:
      return r.reply.ack;
    case OutputField::kWindow:
      return r.reply.window;
    case OutputField::kSuccess:
      return classification_success(r.reply.classification) ? 1 : 0;
    case OutputField::kTtl:
      return r.reply.ttl;
    case OutputField::kTimestampTs:
      return r.time_s < 0 ? 0 : static_cast<uint64_t>(r.time_s);
    case OutputField::kTimestampUs:
      return static_cast<uint32_t>(r.time_us);
    case OutputField::kSaddrRaw:
      return zmap_raw_address(r.reply.saddr);
    case OutputField::kDaddrRaw:
      return zmap_raw_address(r.reply.daddr);
    case OutputField::kIpid:
      return r.reply.ipid;
    case OutputField::kRepeat:
      return 0;
    case OutputField::kCooldown:
      return r.cooldown ? 1 : 0;
    case OutputField::kAliased:
      return r.aliased ? 1 : 0;
    case OutputField::kUdpPktSize:
      return r.reply.udp_length;
    case OutputField::kIcmpResponder:
      return r.reply.icmp_responder.value;
    case OutputField::kIcmpType:
      return r.reply.icmp_type;
    case OutputField::kIcmpCode:
      return r.reply.icmp_code;
    default:
      return 0;
  }
}

std::string string_of(OutputField field, const ResultRecord& r) {
  if (field == OutputField::kClassification)
    return std::string(classification_name(r.reply.classification));
  if (field == OutputField::kService) return std::string(r.service);
  if (field == OutputField::kStatus) return std::string(r.status);
  if (field == OutputField::kBanner) return std::string(r.banner.substr(0, kBannerFieldBytes));
  if (field == OutputField::kData || field == OutputField::kIcmpUnreachStr) {
    std::string text = format_record(r, false, {field});
    return text;
  }
  return format_timestamp(r.time_s, r.time_us);
}

struct Token {
  enum Type { kEnd, kWord, kQuoted, kOpen, kClose, kAnd, kOr, kCompare } type = kEnd;
  std::string text;
  size_t at = 0;  // byte offset, for errors
};

bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

}  // namespace

// Recursive descent over the tokens: or := and ('||' and)*, and := primary ('&&' primary)*,
// primary := '(' or ')' | FIELD OP VALUE.
class OutputFilterParser {
 public:
  OutputFilterParser(std::string_view text, OutputFilter& out) : text_(text), out_(out) {}

  Result<int> parse() {
    if (auto first = next(); !first) return tl::unexpected(first.error());
    auto root = parse_or(0);
    if (!root) return root;
    if (token_.type != Token::kEnd) return bad("expected && or || or the end");
    return root;
  }

 private:
  Result<void> next() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t')) ++at_;
    token_ = Token{};
    token_.at = at_;
    if (at_ == text_.size()) return {};
    const char c = text_[at_];
    const std::string_view rest = text_.substr(at_);
    auto take = [&](Token::Type type, size_t n) {
      token_.type = type;
      token_.text = std::string(rest.substr(0, n));
      at_ += n;
      return Result<void>{};
    };
    if (c == '(') return take(Token::kOpen, 1);
    if (c == ')') return take(Token::kClose, 1);
    if (rest.rfind("&&", 0) == 0) return take(Token::kAnd, 2);
    if (rest.rfind("||", 0) == 0) return take(Token::kOr, 2);
    for (std::string_view op : {"!=", "<=", ">=", "==", "=", "<", ">"})
      if (rest.rfind(op, 0) == 0) return take(Token::kCompare, op.size());
    if (c == '"') {
      const size_t close = rest.find('"', 1);
      if (close == std::string_view::npos) return bad_void("unterminated \"string\"");
      token_.type = Token::kQuoted;
      token_.text = std::string(rest.substr(1, close - 1));
      at_ += close + 1;
      return {};
    }
    size_t n = 0;
    while (n < rest.size() && word_char(rest[n])) ++n;
    if (n == 0) return bad_void("unexpected character");
    return take(Token::kWord, n);
  }

  Result<int> parse_or(int depth) { return parse_chain(depth, true); }

  Result<int> parse_chain(int depth, bool is_or) {
    auto left = is_or ? parse_chain(depth, false) : parse_primary(depth);
    if (!left) return left;
    while (token_.type == (is_or ? Token::kOr : Token::kAnd)) {
      if (auto moved = next(); !moved) return tl::unexpected(moved.error());
      auto right = is_or ? parse_chain(depth, false) : parse_primary(depth);
      if (!right) return right;
      left = join(is_or ? OutputFilter::Op::kOr : OutputFilter::Op::kAnd, *left, *right);
    }
    return left;
  }

  Result<int> parse_primary(int depth) {
    if (token_.type == Token::kOpen) {
      if (depth >= OutputFilter::kMaxDepth) return bad("parentheses nested too deep");
      if (auto moved = next(); !moved) return tl::unexpected(moved.error());
      auto inner = parse_or(depth + 1);
      if (!inner) return inner;
      if (token_.type != Token::kClose) return bad("expected )");
      if (auto moved = next(); !moved) return tl::unexpected(moved.error());
      return inner;
    }
    return parse_comparison();
  }

  Result<int> parse_comparison() {
    if (token_.type != Token::kWord) return bad("expected a field name or (");
    const auto field = parse_output_fields(token_.text);
    if (!field || field->size() != 1 || token_.text == "*")
      return bad("unknown field '" + token_.text.substr(0, 40) + "' (see --list-output-fields)");
    OutputFilter::Node node;
    node.field = field->front();
    if (auto moved = next(); !moved) return tl::unexpected(moved.error());
    if (token_.type != Token::kCompare) return bad("expected = != < > <= or >=");
    const std::string op = token_.text;
    node.op = op == "=" || op == "==" ? OutputFilter::Op::kEq
              : op == "!="            ? OutputFilter::Op::kNe
              : op == "<"             ? OutputFilter::Op::kLt
              : op == ">"             ? OutputFilter::Op::kGt
              : op == "<="            ? OutputFilter::Op::kLe
                                      : OutputFilter::Op::kGe;
    if (auto moved = next(); !moved) return tl::unexpected(moved.error());
    if (token_.type != Token::kWord && token_.type != Token::kQuoted)
      return bad("expected a value");
    if (auto value = set_value(node); !value) return tl::unexpected(value.error());
    if (auto moved = next(); !moved) return tl::unexpected(moved.error());
    out_.nodes_.push_back(std::move(node));
    return static_cast<int>(out_.nodes_.size() - 1);
  }

  Result<void> set_value(OutputFilter::Node& node) {
    const std::string name(output_field_name(node.field));
    switch (kind_of(node.field)) {
      case FieldKind::kString:
        if (node.op != OutputFilter::Op::kEq && node.op != OutputFilter::Op::kNe)
          return bad_void(name + " is text: compare it with = or != only");
        node.is_string = true;
        node.string = token_.text;
        return {};
      case FieldKind::kAddress: {
        auto address = parse_ip(token_.text);
        if (!address)
          return bad_void(name + " compares with an address: " + address.error().message);
        node.number = address->value;
        return {};
      }
      case FieldKind::kNumber: {
        auto number = parse_decimal(token_.text, UINT64_MAX);
        if (!number || token_.type == Token::kQuoted)
          return bad_void(name + " is a number: compare it with a decimal integer");
        node.number = *number;
        return {};
      }
    }
    return {};
  }

  int join(OutputFilter::Op op, int left, int right) {
    OutputFilter::Node node;
    node.op = op;
    node.left = left;
    node.right = right;
    out_.nodes_.push_back(std::move(node));
    return static_cast<int>(out_.nodes_.size() - 1);
  }

  tl::unexpected<Error> bad(const std::string& what) const {
    std::string near(text_.substr(token_.at, 20));
    for (char& c : near)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return make_error(ExitCode::kUsage, "at character " + std::to_string(token_.at + 1) +
                                            (near.empty() ? " (the end)" : " ('" + near + "')") +
                                            ": " + what);
  }
  Result<void> bad_void(const std::string& what) const { return bad(what); }

  std::string_view text_;
  OutputFilter& out_;
  size_t at_ = 0;
  Token token_;
};

Result<OutputFilter> OutputFilter::parse(std::string_view text) {
  if (text.size() > kMaxBytes)
    return make_error(ExitCode::kUsage, "longer than " + std::to_string(kMaxBytes) + " bytes");
  OutputFilter filter;
  filter.text_ = std::string(text);
  OutputFilterParser parser(filter.text_, filter);
  auto root = parser.parse();
  if (!root) return tl::unexpected(root.error());
  filter.root_ = *root;
  return filter;
}

bool OutputFilter::matches(const ResultRecord& record) const {
  return root_ < 0 || evaluate(root_, record);
}

bool OutputFilter::evaluate(int index, const ResultRecord& record) const {
  const Node& node = nodes_[static_cast<size_t>(index)];
  if (node.op == Op::kAnd) return evaluate(node.left, record) && evaluate(node.right, record);
  if (node.op == Op::kOr) return evaluate(node.left, record) || evaluate(node.right, record);
  if (node.is_string) {
    const bool equal = string_of(node.field, record) == node.string;
    return node.op == Op::kEq ? equal : !equal;
  }
  const uint128_t value = number_of(node.field, record);
  switch (node.op) {
    case Op::kEq:
      return value == node.number;
    case Op::kNe:
      return value != node.number;
    case Op::kLt:
      return value < node.number;
    case Op::kGt:
      return value > node.number;
    case Op::kLe:
      return value <= node.number;
    case Op::kGe:
      return value >= node.number;
    default:
      return false;
  }
}

}  // namespace anyscan
