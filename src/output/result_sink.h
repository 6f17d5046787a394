#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "output/output_field.h"
#include "output/record_formatter.h"

namespace anyscan {

// Where results go. write() is called by the receivers (one at a time, under their lock);
// submit() and wait_written() by the thread that reports progress.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  // Adds one record. Never drops one: when the file falls behind, this waits for it.
  virtual Result<void> write(const ResultRecord& record) = 0;
  // Hands everything written so far to the file without waiting; returns the file offset
  // just past the last record handed over.
  virtual uint64_t submit() = 0;
  // Waits until the bytes before `offset` are in the file (and on disk, if `durable`).
  // Errors: kIoErr naming the file when a write or sync failed.
  virtual Result<void> wait_written(uint64_t offset, bool durable) = 0;
  // Everything written so far is in the file.
  Result<void> flush() { return wait_written(submit(), false); }
  // The first write or sync failure so far, without waiting (kIoErr), else success.
  virtual Result<void> health() const { return {}; }
  // Times a writer waited because the file fell a whole buffer pool behind.
  virtual uint64_t stalls() const { return 0; }
};

// path "-" = stdout. Records are formatted into 1 MiB buffers that a writer thread of its
// own (started with the first buffer handed over) writes out, so a slow disk does not stall the
// receivers until 8 MiB are pending. A fresh file starts empty with its header; resume_offset (a
// resumed scan) keeps the file's first resume_offset bytes, cuts what follows (a torn last line)
// and appends, with offsets counted from the start of the file. Errors: kCantCreate when the file
// cannot be created, kDataErr when it is shorter than resume_offset. csv_header false: no
// header line (--no-header-row).
Result<std::unique_ptr<ResultSink>> open_result_sink(
    const std::string& path, bool json, const std::vector<OutputField>& fields,
    std::optional<uint64_t> resume_offset = std::nullopt, bool csv_header = true);

}  // namespace anyscan
