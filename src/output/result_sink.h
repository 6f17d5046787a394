#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/reply.h"
#include "output/output_field.h"

namespace anyscan {

struct ResultRecord {
  Reply reply;
  int64_t time_s = 0;  // receive time, UTC
  int32_t time_us = 0;
};

// Where results go. Records are formatted into an internal buffer and written in large
// blocks; flush() pushes everything to the file (called every second and at the end).
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual Result<void> write(const ResultRecord& record) = 0;
  virtual Result<void> flush() = 0;
};

// path "-" = stdout. Errors: kCantCreate when the file cannot be created.
Result<std::unique_ptr<ResultSink>> open_result_sink(const std::string& path, bool json,
                                                     const std::vector<OutputField>& fields);

// Exposed for tests: the text of one record (CSV line or JSON object, no newline).
std::string format_record(const ResultRecord& record, bool json,
                          const std::vector<OutputField>& fields);
std::string csv_header(const std::vector<OutputField>& fields);
// ISO 8601 UTC with microseconds: 2026-11-23T22:52:52.123456Z
std::string format_timestamp(int64_t time_s, int32_t time_us);
std::string json_escape(const std::string& text);

}  // namespace anyscan
