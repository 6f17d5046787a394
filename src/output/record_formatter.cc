#include "output/record_formatter.h"

#include <algorithm>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "net/ipv4_address.h"

namespace anyscan {
namespace {

char* put(char* out, std::string_view text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

char* put_number(char* out, uint64_t value) {
  return std::to_chars(out, out + 20, value).ptr;  // 2^64 has 20 digits
}

// Field names are at most 15 bytes, values at most 27 (a timestamp) + 2 quotes; with
// separators, 13 fields stay far below kMaxRecordBytes.
static_assert(13 * (15 + 4 + 27 + 2 + 1) + 3 < RecordFormatter::kMaxRecordBytes);

}  // namespace

RecordFormatter::RecordFormatter(bool json, std::vector<OutputField> fields, bool csv_header)
    : json_(json), csv_header_(csv_header), fields_(std::move(fields)) {}

std::string RecordFormatter::header() const {
  return json_ || !csv_header_ || !csv_has_header(fields_) ? "" : csv_header(fields_) + "\n";
}

bool csv_has_header(const std::vector<OutputField>& fields) {
  return std::find(fields.begin(), fields.end(), OutputField::kEmpty) == fields.end();
}

char* RecordFormatter::timestamp(char* out, int64_t time_s, int32_t time_us) {
  if (time_s != cached_second_) {
    const time_t t = static_cast<time_t>(time_s);
    tm utc{};
    ::gmtime_r(&t, &utc);
    const int n = std::snprintf(cached_date_, sizeof cached_date_, "%04d-%02d-%02dT%02d:%02d:%02d",
                                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                                utc.tm_min, utc.tm_sec);
    cached_date_bytes_ = n > 0 ? std::min(static_cast<size_t>(n), sizeof cached_date_ - 1) : 0;
    cached_second_ = time_s;
  }
  out = put(out, std::string_view(cached_date_, cached_date_bytes_));
  *out++ = '.';
  const auto us = static_cast<uint32_t>(time_us) % 1000000;
  for (uint32_t div = 100000; div != 0; div /= 10) *out++ = static_cast<char>('0' + us / div % 10);
  *out++ = 'Z';
  return out;
}

char* RecordFormatter::field(char* out, const ResultRecord& r, OutputField field) {
  const bool quote = json_;
  switch (field) {
    case OutputField::kSaddr:
    case OutputField::kDaddr:
      if (quote) *out++ = '"';
      out += format_ip(field == OutputField::kSaddr ? r.reply.saddr : r.reply.daddr, out);
      if (quote) *out++ = '"';
      return out;
    case OutputField::kSport:
      return put_number(out, r.reply.sport);
    case OutputField::kDport:
      return put_number(out, r.reply.dport);
    case OutputField::kSeqnum:
      return put_number(out, r.reply.seq);
    case OutputField::kAcknum:
      return put_number(out, r.reply.ack);
    case OutputField::kWindow:
      return put_number(out, r.reply.window);
    case OutputField::kClassification:
      if (quote) *out++ = '"';
      out = put(out, classification_name(r.reply.classification));
      if (quote) *out++ = '"';
      return out;
    case OutputField::kSuccess: {
      const bool success = classification_success(r.reply.classification);
      return put(out, json_ ? (success ? "true" : "false") : (success ? "1" : "0"));
    }
    case OutputField::kTtl:
      return put_number(out, r.reply.ttl);
    case OutputField::kTimestamp:
    case OutputField::kTimestampStr:
      if (quote) *out++ = '"';
      out = timestamp(out, r.time_s, r.time_us);
      if (quote) *out++ = '"';
      return out;
    case OutputField::kTimestampTs:
      if (r.time_s < 0) *out++ = '-';
      return put_number(out, r.time_s < 0 ? 0 - static_cast<uint64_t>(r.time_s)
                                          : static_cast<uint64_t>(r.time_s));
    case OutputField::kTimestampUs:
      return put_number(out, static_cast<uint32_t>(r.time_us));
    case OutputField::kSaddrRaw:
      return put_number(out, zmap_raw_address(r.reply.saddr));
    case OutputField::kDaddrRaw:
      return put_number(out, zmap_raw_address(r.reply.daddr));
    case OutputField::kIpid:
      return put_number(out, r.reply.ipid);
    case OutputField::kRepeat:
      return put(out, json_ ? "false" : "0");
    case OutputField::kCooldown:
      return put(out, json_ ? (r.cooldown ? "true" : "false") : (r.cooldown ? "1" : "0"));
    case OutputField::kAliased:
      return put(out, json_ ? (r.aliased ? "true" : "false") : (r.aliased ? "1" : "0"));
    case OutputField::kEmpty:
      return out;
    case OutputField::kService:
    case OutputField::kStatus:
    case OutputField::kBanner:
      return text_field(out, field == OutputField::kService  ? r.service
                             : field == OutputField::kStatus ? r.status
                                                             : r.banner);
    default:
      return udp_field(out, r, field);
  }
  return out;
}

// A text field: JSON-escaped and quoted, or a CSV cell (quoted, quotes doubled, when it holds
// a comma, a quote or a space at either end); at most kBannerFieldBytes of it.
char* RecordFormatter::text_field(char* out, std::string_view text) {
  text = text.substr(0, kBannerFieldBytes);
  if (json_) {
    const std::string escaped = json_escape(std::string(text));
    *out++ = '"';
    out = put(out, escaped);
    *out++ = '"';
    return out;
  }
  const bool quote = text.find_first_of(",\"") != std::string_view::npos ||
                     (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (quote) *out++ = '"';
  for (char c : text) {
    if (c == '"') *out++ = '"';
    *out++ = c;
  }
  if (quote) *out++ = '"';
  return out;
}

// The udp module's fields. The ICMP ones are empty (JSON null) on a udp result.
char* RecordFormatter::udp_field(char* out, const ResultRecord& r, OutputField field) {
  const bool icmp = r.reply.classification == Classification::kIcmpUnreach;
  switch (field) {
    case OutputField::kUdpPktSize:
      return put_number(out, r.reply.udp_length);
    case OutputField::kData: {
      static constexpr char kHex[] = "0123456789abcdef";
      if (json_) *out++ = '"';
      for (size_t i = 0; i < r.reply.data_length && i < kReplyDataBytes; ++i) {
        *out++ = kHex[r.reply.data[i] >> 4];
        *out++ = kHex[r.reply.data[i] & 15];
      }
      if (json_) *out++ = '"';
      return out;
    }
    case OutputField::kIcmpResponder:
      if (!icmp) return json_ ? put(out, "null") : out;
      if (json_) *out++ = '"';
      out += format_ip(r.reply.icmp_responder, out);
      if (json_) *out++ = '"';
      return out;
    case OutputField::kIcmpType:
      return put_number(out, r.reply.icmp_type);
    case OutputField::kIcmpCode:
      return put_number(out, r.reply.icmp_code);
    case OutputField::kIcmpUnreachStr:
      if (!icmp) return json_ ? put(out, "null") : out;
      if (json_) *out++ = '"';
      out = put(out, icmp_unreach_name(r.reply.icmp_type, r.reply.icmp_code));
      if (json_) *out++ = '"';
      return out;
    default:
      return out;
  }
}

size_t RecordFormatter::format(const ResultRecord& record, char* out) {
  char* const begin = out;
  if (json_) *out++ = '{';
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i) *out++ = ',';
    if (json_) {
      *out++ = '"';
      out = put(out, output_field_name(fields_[i]));
      out = put(out, "\":");
    }
    out = field(out, record, fields_[i]);
  }
  if (json_) *out++ = '}';
  *out++ = '\n';
  return static_cast<size_t>(out - begin);
}

std::string format_record(const ResultRecord& record, bool json,
                          const std::vector<OutputField>& fields) {
  RecordFormatter formatter(json, fields);
  char buffer[RecordFormatter::kMaxRecordBytes];
  const size_t n = formatter.format(record, buffer);
  return std::string(buffer, n - 1);
}

std::string format_timestamp(int64_t time_s, int32_t time_us) {
  ResultRecord record;
  record.time_s = time_s;
  record.time_us = time_us;
  return format_record(record, false, {OutputField::kTimestamp});
}

std::string csv_header(const std::vector<OutputField>& fields) {
  std::string header;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) header += ',';
    header += output_field_name(fields[i]);
  }
  return header;
}

std::string json_escape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

}  // namespace anyscan
