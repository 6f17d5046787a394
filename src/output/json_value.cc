#include "output/json_value.h"

#include <cctype>
#include <cstdio>
#include <string>

#include "output/json_check.h"

namespace anyscan {

namespace {
constexpr int kMaxDepth = 64;
constexpr size_t kMaxText = size_t{16} << 20;

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xc0 | code >> 6);
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xe0 | code >> 12);
    out += static_cast<char>(0x80 | (code >> 6 & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | code >> 18);
    out += static_cast<char>(0x80 | (code >> 12 & 0x3f));
    out += static_cast<char>(0x80 | (code >> 6 & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  }
}
}  // namespace

// Recursive descent over RFC 8259, building the value as it goes. Any failure stops at the
// byte where the text stops being JSON.
class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  Result<JsonValue> parse() {
    if (text_.size() > kMaxText) return make_error(ExitCode::kDataErr, "more than 16 MiB of JSON");
    JsonValue root;
    space();
    if (!value(root, 0)) return failure();
    space();
    if (at_ != text_.size())
      return make_error(ExitCode::kDataErr, where() + ": text after the value");
    return root;
  }

 private:
  bool value(JsonValue& out, int depth) {
    if (depth > kMaxDepth || at_ >= text_.size()) return false;
    const char c = text_[at_];
    if (c == '{') return container(out, depth, true);
    if (c == '[') return container(out, depth, false);
    if (c == '"') {
      out.type_ = JsonValue::Type::kString;
      return string(out.text_);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      const size_t start = at_;
      if (!number()) return false;
      out.type_ = JsonValue::Type::kNumber;
      out.text_ = std::string(text_.substr(start, at_ - start));
      return true;
    }
    for (std::string_view word : {"true", "false", "null"})
      if (text_.substr(at_, word.size()) == word) {
        at_ += word.size();
        out.type_ = word == "null" ? JsonValue::Type::kNull : JsonValue::Type::kBool;
        out.text_ = std::string(word);
        return true;
      }
    return false;
  }

  bool container(JsonValue& out, int depth, bool object) {
    out.type_ = object ? JsonValue::Type::kObject : JsonValue::Type::kArray;
    const char close = object ? '}' : ']';
    ++at_;
    space();
    if (at_ < text_.size() && text_[at_] == close) return ++at_, true;
    while (true) {
      std::string key;
      if (object) {
        if (at_ >= text_.size() || text_[at_] != '"' || !string(key)) return false;
        space();
        if (at_ >= text_.size() || text_[at_] != ':') return false;
        ++at_;
        space();
      }
      JsonValue item;
      if (!value(item, depth + 1)) return false;
      if (object) {
        if (!out.members_.emplace(std::move(key), std::move(item)).second) {
          duplicate_ = true;
          return false;
        }
      } else {
        out.items_.push_back(std::move(item));
      }
      space();
      if (at_ >= text_.size()) return false;
      if (text_[at_] == close) return ++at_, true;
      if (text_[at_] != ',') return false;
      ++at_;
      space();
    }
  }

  bool hex4(uint32_t* code) {
    *code = 0;
    for (int i = 0; i < 4; ++i) {
      if (++at_ >= text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[at_])))
        return false;
      const char h = static_cast<char>(std::tolower(static_cast<unsigned char>(text_[at_])));
      *code = *code << 4 | static_cast<uint32_t>(h <= '9' ? h - '0' : h - 'a' + 10);
    }
    return true;
  }

  bool escape(std::string& out) {
    if (++at_ >= text_.size()) return false;
    const char e = text_[at_];
    static constexpr std::string_view kFrom = "\"\\/bfnrt", kTo = "\"\\/\b\f\n\r\t";
    if (const size_t i = kFrom.find(e); i != std::string_view::npos) {
      out += kTo[i];
      return true;
    }
    uint32_t code = 0;
    if (e != 'u' || !hex4(&code)) return false;
    if (code >= 0xd800 && code < 0xdc00 && text_.substr(at_ + 1, 2) == "\\u") {
      const size_t save = at_;
      at_ += 2;
      uint32_t low = 0;
      if (hex4(&low) && low >= 0xdc00 && low < 0xe000) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
      } else {
        at_ = save;
      }
    }
    append_utf8(out, code);
    return true;
  }

  bool string(std::string& out) {
    ++at_;  // the opening quote
    while (at_ < text_.size()) {
      const auto c = static_cast<unsigned char>(text_[at_]);
      if (c == '"') return ++at_, true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (!escape(out)) return false;
      } else {
        out += static_cast<char>(c);
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
  Result<JsonValue> failure() const {
    return make_error(ExitCode::kDataErr,
                      duplicate_ ? where() + ": a key repeated in one object" : where());
  }

  std::string_view text_;
  size_t at_ = 0;
  bool duplicate_ = false;
};

Result<JsonValue> JsonValue::parse(std::string_view text) { return JsonParser(text).parse(); }

const JsonValue* JsonValue::find(std::string_view key) const {
  const auto it = members_.find(key);
  return it == members_.end() ? nullptr : &it->second;
}

std::optional<uint64_t> JsonValue::as_u64() const {
  if (type_ != Type::kNumber || text_.empty() || text_.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : text_) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<bool> JsonValue::as_bool() const {
  if (type_ != Type::kBool) return std::nullopt;
  return text_ == "true";
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonValue::dump() const {
  switch (type_) {
    case Type::kString:
      return json_quote(text_);
    case Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < items_.size(); ++i) out += (i ? "," : "") + items_[i].dump();
      return out + "]";
    }
    case Type::kObject: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, value] : members_) {
        out += (first ? "" : ",") + json_quote(key) + ":" + value.dump();
        first = false;
      }
      return out + "}";
    }
    default:
      return text_;
  }
}

// --user-metadata: one JSON value, placed into the metadata as it is.
Result<void> check_json(std::string_view text) {
  auto parsed = JsonValue::parse(text);
  if (!parsed) return make_error(ExitCode::kUsage, parsed.error().message);
  return {};
}

}  // namespace anyscan
