#include "output/record_reader.h"

#include "base/parse_number.h"
#include "net/ipv4_address.h"

namespace anyscan {
namespace {

Result<RecordKey> bad(const std::string& why) { return make_error(ExitCode::kDataErr, why); }

}  // namespace

RecordReader::RecordReader(bool json, std::vector<OutputField> fields)
    : json_(json), fields_(std::move(fields)) {}

Result<void> RecordReader::take(OutputField field, std::string_view value, RecordKey& key) const {
  if (json_ && (field == OutputField::kSaddr || field == OutputField::kClassification)) {
    if (value.size() < 2 || value.front() != '"' || value.back() != '"')
      return make_error(ExitCode::kDataErr,
                        std::string(output_field_name(field)) + " is not a quoted string");
    value = value.substr(1, value.size() - 2);
  }
  switch (field) {
    case OutputField::kSaddr: {
      auto address = parse_ip(value);
      if (!address) return make_error(ExitCode::kDataErr, "saddr is not an address");
      key.saddr = *address;
      return {};
    }
    case OutputField::kSport: {
      auto port = parse_decimal(value, 65535);
      if (!port) return make_error(ExitCode::kDataErr, "sport is not a port");
      key.sport = static_cast<uint16_t>(*port);
      return {};
    }
    case OutputField::kClassification: {
      auto c = classification_from_name(value);
      if (!c) return make_error(ExitCode::kDataErr, "unknown classification");
      key.classification = *c;
      return {};
    }
    default:
      return {};  // not part of the key; its shape is not checked
  }
}

Result<RecordKey> RecordReader::parse_csv(std::string_view line) const {
  RecordKey key;
  size_t at = 0;
  for (size_t i = 0; i < fields_.size(); ++i) {
    const size_t comma = line.find(',', at);
    const bool last = i + 1 == fields_.size();
    if (last != (comma == std::string_view::npos))
      return bad("expected " + std::to_string(fields_.size()) + " comma-separated fields");
    const std::string_view value = line.substr(at, last ? std::string_view::npos : comma - at);
    if (auto taken = take(fields_[i], value, key); !taken) return tl::unexpected(taken.error());
    at = comma + 1;
  }
  return key;
}

Result<RecordKey> RecordReader::parse_json(std::string_view line) const {
  if (line.size() < 2 || line.front() != '{' || line.back() != '}')
    return bad("not a JSON object on one line");
  std::string_view rest = line.substr(1, line.size() - 2);
  RecordKey key;
  for (size_t i = 0; i < fields_.size(); ++i) {
    const std::string prefix =
        (i ? ",\"" : "\"") + std::string(output_field_name(fields_[i])) + "\":";
    if (rest.substr(0, prefix.size()) != prefix)
      return bad("expected field " + std::string(output_field_name(fields_[i])));
    rest.remove_prefix(prefix.size());
    // A value ends at the next comma outside quotes (ours never hold one) or at the end.
    size_t end = 0;
    if (!rest.empty() && rest.front() == '"') {
      end = rest.find('"', 1);
      if (end == std::string_view::npos) return bad("unterminated string");
      ++end;
    } else {
      end = std::min(rest.find(','), rest.size());
    }
    if (auto taken = take(fields_[i], rest.substr(0, end), key); !taken)
      return tl::unexpected(taken.error());
    rest.remove_prefix(end);
  }
  if (!rest.empty()) return bad("unexpected text after the last field");
  return key;
}

Result<RecordKey> RecordReader::parse(std::string_view line) const {
  return json_ ? parse_json(line) : parse_csv(line);
}

}  // namespace anyscan
