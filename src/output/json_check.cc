#include "output/json_check.h"

#include <cctype>
#include <string>

namespace anyscan {
namespace {

constexpr int kMaxDepth = 64;

class JsonChecker {
 public:
  explicit JsonChecker(std::string_view text) : text_(text) {}

  Result<void> check() {
    space();
    if (!value(0)) return failure();
    space();
    if (at_ != text_.size())
      return make_error(ExitCode::kUsage, where() + ": text after the value");
    return {};
  }

 private:
  bool value(int depth) {
    if (depth > kMaxDepth || at_ >= text_.size()) return false;
    const char c = text_[at_];
    if (c == '{') return container(depth, '}', true);
    if (c == '[') return container(depth, ']', false);
    if (c == '"') return string();
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    for (std::string_view word : {"true", "false", "null"})
      if (text_.substr(at_, word.size()) == word) {
        at_ += word.size();
        return true;
      }
    return false;
  }

  bool container(int depth, char close, bool object) {
    ++at_;
    space();
    if (at_ < text_.size() && text_[at_] == close) return ++at_, true;
    while (true) {
      if (object) {
        if (at_ >= text_.size() || text_[at_] != '"' || !string()) return false;
        space();
        if (at_ >= text_.size() || text_[at_] != ':') return false;
        ++at_;
        space();
      }
      if (!value(depth + 1)) return false;
      space();
      if (at_ >= text_.size()) return false;
      if (text_[at_] == close) return ++at_, true;
      if (text_[at_] != ',') return false;
      ++at_;
      space();
    }
  }

  bool string() {
    ++at_;  // the opening quote
    while (at_ < text_.size()) {
      const auto c = static_cast<unsigned char>(text_[at_]);
      if (c == '"') return ++at_, true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++at_ >= text_.size()) return false;
        const char e = text_[at_];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i)
            if (++at_ >= text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[at_])))
              return false;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
      ++at_;
    }
    return false;
  }

  bool number() {
    if (text_[at_] == '-') ++at_;
    if (at_ >= text_.size()) return false;
    if (text_[at_] == '0') {
      ++at_;
    } else if (!digits()) {
      return false;
    }
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      if (!digits()) return false;
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      if (!digits()) return false;
    }
    return true;
  }

  bool digits() {
    const size_t start = at_;
    while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
    return at_ > start;
  }

  void space() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r'))
      ++at_;
  }

  std::string where() const { return "not JSON at byte " + std::to_string(at_ + 1); }
  Result<void> failure() const { return make_error(ExitCode::kUsage, where()); }

  std::string_view text_;
  size_t at_ = 0;
};

}  // namespace

Result<void> check_json(std::string_view text) { return JsonChecker(text).check(); }

}  // namespace anyscan
