#include "identify/open_ports.h"

#include <charconv>
#include <vector>

#include "output/json_value.h"

namespace anyscan {

namespace {

// The next comma outside a "quoted" cell.
size_t next_comma(std::string_view line, size_t at) {
  bool quoted = false;
  for (size_t i = at; i < line.size(); ++i) {
    if (line[i] == '"') quoted = !quoted;
    if (line[i] == ',' && !quoted) return i;
  }
  return std::string_view::npos;
}

std::vector<std::string_view> split_csv(std::string_view line) {
  std::vector<std::string_view> out;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t at = 0;
  while (true) {
    const size_t comma = next_comma(line, at);
    std::string_view cell =
        line.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
    while (!cell.empty() && cell.front() == ' ') cell.remove_prefix(1);
    out.push_back(cell);
    if (comma == std::string_view::npos || out.size() > 256) break;
    at = comma + 1;
  }
  return out;
}

std::optional<uint16_t> port_of(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(value);
}

tl::unexpected<Error> bad_line(const std::string& source, uint64_t line, const std::string& what) {
  return make_error(ExitCode::kDataErr, source + ":" + std::to_string(line) + ": " + what);
}

}  // namespace

Result<void> OpenPortParser::header(std::string_view line, const std::string& source) {
  const auto cells = split_csv(line);
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string_view c = cells[i];
    const int index = static_cast<int>(i);
    if (c == "saddr" || c == "ip") address_column_ = index;
    if (c == "sport" || c == "port") port_column_ = index;
    if (c == "classification") classification_column_ = index;
    if (c == "success") success_column_ = index;
  }
  if (address_column_ < 0 || port_column_ < 0)
    return make_error(ExitCode::kDataErr,
                      source + ": the header has no saddr (or ip) and sport (or port) column: " +
                          "write the scan with -f saddr,sport,...");
  return {};
}

void OpenPortParser::zgrab2_input() {
  address_column_ = 0;
  port_column_ = 3;
}

Result<std::optional<IdentifyTarget>> OpenPortParser::parse(std::string_view line,
                                                            const std::string& source,
                                                            uint64_t line_number) const {
  std::string_view address, port, classification, success;
  JsonValue value;
  if (json_) {
    auto parsed = JsonValue::parse(line);
    if (!parsed || !parsed->is_object()) return bad_line(source, line_number, "not a JSON object");
    value = std::move(*parsed);
    const JsonValue* a = value.find("saddr");
    if (a == nullptr) a = value.find("ip");
    const JsonValue* p = value.find("sport");
    if (p == nullptr) p = value.find("port");
    if (a == nullptr || p == nullptr)
      return bad_line(source, line_number, "no saddr/sport (or ip/port)");
    address = a->text();
    port = p->text();
    if (const JsonValue* c = value.find("classification")) classification = c->text();
    if (const JsonValue* s = value.find("success")) success = s->text();
    if (classification.empty() && success.empty()) success = "1";
  } else {
    const auto cells = split_csv(line);
    auto cell = [&](int column) -> std::string_view {
      return column >= 0 && static_cast<size_t>(column) < cells.size()
                 ? cells[static_cast<size_t>(column)]
                 : std::string_view();
    };
    if (static_cast<size_t>(std::max(address_column_, port_column_)) >= cells.size())
      return bad_line(source, line_number, "fewer columns than the header");
    address = cell(address_column_);
    port = cell(port_column_);
    classification = cell(classification_column_);
    success = cell(success_column_);
    if (classification_column_ < 0 && success_column_ < 0) success = "1";
  }
  const auto ip = parse_ip(address);
  if (!ip)
    return bad_line(source, line_number,
                    "'" + std::string(address.substr(0, 64)) + "' is not an address");
  const auto p = port_of(port);
  if (!p)
    return bad_line(source, line_number,
                    "'" + std::string(port.substr(0, 16)) + "' is not a port 1-65535");
  const bool open =
      !classification.empty() ? classification == "synack" : (success == "1" || success == "true");
  if (!open) return std::optional<IdentifyTarget>();
  return std::optional<IdentifyTarget>(IdentifyTarget{*ip, *p, 0});
}

std::string identify_state_text(const IdentifyState& state) {
  char buffer[112];
  std::snprintf(buffer, sizeof buffer, "input_offset=%020llu output_offset=%020llu%s\n",
                static_cast<unsigned long long>(state.input_offset),
                static_cast<unsigned long long>(state.output_offset),
                state.finished ? " finished" : "");
  return buffer;
}

Result<IdentifyState> parse_identify_state(std::string_view text, const std::string& path) {
  IdentifyState state;
  // Empty: killed before its first state; every record in the output is read back.
  if (text.empty()) return state;
  constexpr std::string_view kIn = "input_offset=", kOut = " output_offset=";
  auto fail = [&] {
    return make_error(ExitCode::kDataErr,
                      path +
                          ": not an anyscan-identify state (input_offset=N output_offset=N "
                          "[finished])");
  };
  if (text.substr(0, kIn.size()) != kIn) return fail();
  text.remove_prefix(kIn.size());
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), state.input_offset);
  if (ec != std::errc()) return fail();
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  if (text.substr(0, kOut.size()) != kOut) return fail();
  text.remove_prefix(kOut.size());
  auto [end2, ec2] = std::from_chars(text.data(), text.data() + text.size(), state.output_offset);
  if (ec2 != std::errc()) return fail();
  text.remove_prefix(static_cast<size_t>(end2 - text.data()));
  constexpr std::string_view kFinished = " finished";
  if (text.substr(0, kFinished.size()) == kFinished) {
    state.finished = true;
    text.remove_prefix(kFinished.size());
  }
  if (text != "\n" && !text.empty()) return fail();
  return state;
}

std::optional<std::pair<IpAddress, uint16_t>> record_target(std::string_view line) {
  auto parsed = JsonValue::parse(line);
  if (!parsed || !parsed->is_object()) return std::nullopt;
  const JsonValue* ip = parsed->find("ip");
  const JsonValue* port = parsed->find("port");
  if (ip == nullptr || port == nullptr) return std::nullopt;
  const auto address = parse_ip(ip->text());
  const auto p = port->as_u64();
  if (!address || !p || *p == 0 || *p > 65535) return std::nullopt;
  return std::make_pair(*address, static_cast<uint16_t>(*p));
}

}  // namespace anyscan
