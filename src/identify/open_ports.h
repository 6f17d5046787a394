#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "identify/identifier.h"

namespace anyscan {

// Lines of a scanner results file, turned into the open ports to identify. CSV with a header
// (anyscan's or zmap's: saddr and sport, or zgrab2's input ip,domain,tag,port) or JSON lines
// (saddr/sport or ip/port). A row counts when its classification is synack, or its success
// is 1/true; with neither column every row counts. Other rows are skipped.
class OpenPortParser {
 public:
  // A header line (CSV); JSON lines need none. kDataErr naming `source` when a CSV header
  // has no address or port column.
  Result<void> header(std::string_view line, const std::string& source);
  bool needs_header() const { return !json_ && address_column_ < 0; }
  // One line (without its newline): the open port it names, nullopt for a row to skip.
  // kDataErr naming source:LINE for a line that is not a result.
  Result<std::optional<IdentifyTarget>> parse(std::string_view line, const std::string& source,
                                              uint64_t line_number) const;
  void set_json(bool json) { json_ = json; }
  bool json() const { return json_; }
  // zgrab2's input CSV (ip, domain, tag, port) has no header: set it up as such.
  void zgrab2_input();

 private:
  bool json_ = false;
  int address_column_ = -1, port_column_ = -1, classification_column_ = -1, success_column_ = -1;
};

// The resume state of an identification run (OUTPUT.state): every input line before
// `input_offset` has its record in the output before `output_offset`; records after
// output_offset may be for later lines (they are read back on resume and not done again).
// `finished`: the whole input has its records (a --resume then has nothing to do).
struct IdentifyState {
  uint64_t input_offset = 0;
  uint64_t output_offset = 0;
  bool finished = false;
};
std::string identify_state_text(const IdentifyState& state);
// kDataErr naming `path` when the text is not one.
Result<IdentifyState> parse_identify_state(std::string_view text, const std::string& path);

// The (address, port) of one output record (a JSON line this stage wrote).
std::optional<std::pair<IpAddress, uint16_t>> record_target(std::string_view line);

}  // namespace anyscan
