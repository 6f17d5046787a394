#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "cli/scan_config.h"
#include "output/record_reader.h"

namespace anyscan {

// Calls `line` for every line in the first `bytes` bytes of the results file at `path`
// (without the header line when `header`), which must end exactly at a line end. Returns
// the number of lines; errors name the file and line (kDataErr for contents, kNoInput /
// kIoErr for the file).
// How the results file a scan with `config` writes reads back: its records, and whether its
// first line is a CSV header (what a resume's reload and an opt-out purge both need).
struct ResultsFormat {
  RecordReader reader;
  bool header;
};
ResultsFormat results_format(const ScanConfig& config);

Result<uint64_t> read_result_lines(const std::string& path, uint64_t bytes, bool header,
                                   const std::function<Result<void>(std::string_view)>& line);

}  // namespace anyscan
