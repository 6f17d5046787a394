#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/reply.h"
#include "output/output_field.h"

namespace anyscan {

struct ResultRecord {
  Reply reply;
  int64_t time_s = 0;  // receive time, UTC
  int32_t time_us = 0;
  bool cooldown = false;  // received after the last probe was sent
  bool aliased = false;   // the target is in an aliased prefix
  // anyscan-identify's facts (empty in a scan's own results): the service, the record's
  // status, and an excerpt of the banner (printable already).
  std::string_view service, status, banner;
};
// The banner excerpt a result record carries (CSV/JSON field `banner`).
inline constexpr size_t kBannerFieldBytes = 160;

// Formats result records (a CSV line or a JSON object, each with its newline) straight
// into the caller's buffer: no allocation per record, and the date of the receive time is
// rendered once per second, not once per record.
class RecordFormatter {
 public:
  // The longest record, newline included, for any choice of fields: the caller keeps this
  // much room free before each format().
  static constexpr size_t kMaxRecordBytes = 1024;

  // csv_header false: no header line (zmap's --no-header-row).
  RecordFormatter(bool json, std::vector<OutputField> fields, bool csv_header = true);

  // Writes one record at `out` (room for kMaxRecordBytes); returns its length.
  size_t format(const ResultRecord& record, char* out);
  // What opens the file: the CSV header line, or nothing for JSON lines.
  std::string header() const;

 private:
  char* field(char* out, const ResultRecord& record, OutputField field);
  char* udp_field(char* out, const ResultRecord& record, OutputField field);
  char* text_field(char* out, std::string_view text);
  char* timestamp(char* out, int64_t time_s, int32_t time_us);

  bool json_;
  bool csv_header_;
  std::vector<OutputField> fields_;
  int64_t cached_second_ = INT64_MIN;
  char cached_date_[32] = {};  // "2026-11-23T22:52:52" for cached_second_
  size_t cached_date_bytes_ = 0;
};

// One record as a string, without its newline (tests, and callers that are not hot).
std::string format_record(const ResultRecord& record, bool json,
                          const std::vector<OutputField>& fields);
std::string csv_header(const std::vector<OutputField>& fields);
// Whether a CSV of these fields starts with a header line (not zgrab2's input format).
bool csv_has_header(const std::vector<OutputField>& fields);
// ISO 8601 UTC with microseconds: 2026-11-23T22:52:52.123456Z
std::string format_timestamp(int64_t time_s, int32_t time_us);
std::string json_escape(const std::string& text);

}  // namespace anyscan
