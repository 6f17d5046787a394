#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace anyscan {

// A parsed JSON document (RFC 8259), for reading back what anyscan writes: metadata files
// (anyscan-merge). Numbers keep their text (a 64-bit seed survives, no double rounding);
// object keys are unique (a repeated key is an error). Bounded: depth 64, 16 MiB of text.
class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  static Result<JsonValue> parse(std::string_view text);

  Type type() const { return type_; }
  bool is_object() const { return type_ == Type::kObject; }
  // The member `key` of an object, or null.
  const JsonValue* find(std::string_view key) const;
  const std::vector<JsonValue>& items() const { return items_; }  // an array's
  const std::map<std::string, JsonValue, std::less<>>& members() const { return members_; }
  // A string's text (unescaped); a number's text as written; "true"/"false"/"null".
  const std::string& text() const { return text_; }
  std::optional<uint64_t> as_u64() const;  // a non-negative integer number
  std::optional<bool> as_bool() const;
  // The value written back as compact JSON (members in key order).
  std::string dump() const;

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  std::string text_;
  std::vector<JsonValue> items_;
  std::map<std::string, JsonValue, std::less<>> members_;
};

// `text` as a JSON string literal, quotes included.
std::string json_quote(std::string_view text);

}  // namespace anyscan
