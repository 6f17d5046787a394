#include "probe/udp_payloads.h"

#include <algorithm>

#include "base/env_file.h"
#include "base/parse_number.h"

namespace anyscan {

namespace {

// A payload file of 1 MiB is 700 payloads of the largest size: more is not a payload file.
constexpr size_t kMaxPayloadFileBytes = size_t{1} << 20;

std::vector<uint8_t> bytes_of(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

UdpPayload make(std::string name, std::vector<uint8_t> bytes, UdpEcho echo = UdpEcho::kNone,
                uint16_t offset = 0) {
  return UdpPayload{std::move(name), std::move(bytes), echo, offset, "built-in"};
}

// DNS: a query for version.bind TXT in class CHAOS (what resolvers and authoritative
// servers alike answer, or refuse, without recursion). The ID echoes.
UdpPayload dns_payload() {
  std::vector<uint8_t> b = {0, 0, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  for (uint8_t c : bytes_of("\x07version\x04"
                            "bind"))
    b.push_back(c);
  b.insert(b.end(), {0, 0, 16, 0, 3});  // root label, TXT, CH
  return make("dns", std::move(b), UdpEcho::kId16, 0);
}

// NTP version 4, client mode (RFC 5905): the server copies our transmit timestamp into
// its origin timestamp.
UdpPayload ntp_payload() {
  std::vector<uint8_t> b(48, 0);
  b[0] = 0x23;  // LI 0, VN 4, mode 3
  return make("ntp", std::move(b), UdpEcho::kNtpOrigin, 40);
}

// SNMP v2c GetRequest for sysDescr.0 (1.3.6.1.2.1.1.1.0), community "public". The
// request-id is a 4-byte INTEGER at offset 17.
UdpPayload snmp_payload() {
  std::vector<uint8_t> b = {0x30, 0x29, 0x02, 0x01, 0x01, 0x04, 0x06};
  for (uint8_t c : bytes_of("public")) b.push_back(c);
  b.insert(b.end(), {0xa0, 0x1c, 0x02, 0x04, 0x40, 0,    0,    0,  // GetRequest, request-id
                     0x02, 0x01, 0x00, 0x02, 0x01, 0x00,           // error-status, error-index
                     0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06,
                     0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00});
  return make("snmp", std::move(b), UdpEcho::kSnmpRequest, 17);
}

// NetBIOS name service: a node status (NBSTAT) query for "*" (RFC 1002 4.2.17).
UdpPayload netbios_payload() {
  std::vector<uint8_t> b = {0, 0, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x20, 'C', 'K'};
  b.insert(b.end(), 30, 'A');
  b.insert(b.end(), {0, 0, 0x21, 0, 1});
  return make("netbios", std::move(b), UdpEcho::kId16, 0);
}

// ONC RPC (RFC 5531) call of portmapper (100000) version 2, procedure 0 (NULL),
// AUTH_NULL credentials and verifier. The XID echoes.
UdpPayload portmap_payload() {
  std::vector<uint8_t> b(40, 0);
  const uint32_t words[10] = {0, 0, 2, 100000, 2, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < 10; ++i)
    for (size_t k = 0; k < 4; ++k) b[i * 4 + k] = static_cast<uint8_t>(words[i] >> (24 - 8 * k));
  return make("portmap", std::move(b), UdpEcho::kId32, 0);
}

UdpPayload ssdp_payload() {
  return make("ssdp", bytes_of("M-SEARCH * HTTP/1.1\r\n"
                               "HOST: 239.255.255.250:1900\r\n"
                               "MAN: \"ssdp:discover\"\r\n"
                               "MX: 1\r\n"
                               "ST: ssdp:all\r\n\r\n"));
}

// memcached's UDP frame header (request ID, sequence 0, 1 datagram, reserved) and the
// text command "version" (a short answer: no amplification).
UdpPayload memcached_payload() {
  std::vector<uint8_t> b = {0, 0, 0, 0, 0, 1, 0, 0};
  for (uint8_t c : bytes_of("version\r\n")) b.push_back(c);
  return make("memcached", std::move(b), UdpEcho::kId16, 0);
}

// CoAP (RFC 7252): a confirmable GET /.well-known/core; the ACK carries our message ID.
UdpPayload coap_payload() {
  std::vector<uint8_t> b = {0x40, 0x01, 0, 0, 0xbb};
  for (uint8_t c : bytes_of(".well-known")) b.push_back(c);
  b.push_back(0x04);
  for (uint8_t c : bytes_of("core")) b.push_back(c);
  return make("coap", std::move(b), UdpEcho::kId16, 2);
}

UdpPayload sip_payload() {
  return make("sip",
              bytes_of("OPTIONS sip:anyscan.invalid SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP anyscan.invalid:5060;branch=z9hG4bK-anyscan;rport\r\n"
                       "Max-Forwards: 70\r\n"
                       "From: <sip:anyscan@anyscan.invalid>;tag=anyscan\r\n"
                       "To: <sip:anyscan.invalid>\r\n"
                       "Call-ID: anyscan@anyscan.invalid\r\n"
                       "CSeq: 1 OPTIONS\r\n"
                       "Accept: application/sdp\r\n"
                       "Content-Length: 0\r\n\r\n"));
}

struct Builtin {
  uint16_t port;
  UdpPayload payload;
};

const std::vector<Builtin>& builtins() {
  static const std::vector<Builtin> table = {
      {53, dns_payload()},      {111, portmap_payload()}, {123, ntp_payload()},
      {137, netbios_payload()}, {161, snmp_payload()},    {1900, ssdp_payload()},
      {5060, sip_payload()},    {5683, coap_payload()},   {11211, memcached_payload()},
  };
  return table;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::vector<uint8_t>> parse_hex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return make_error(ExitCode::kUsage, "hex: needs an even number of digits");
  std::vector<uint8_t> out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0)
      return make_error(ExitCode::kUsage,
                        "hex: '" + std::string(hex.substr(i, 2)) + "' is not a hex byte");
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return out;
}

Result<std::vector<uint8_t>> unescape(std::string_view text) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(static_cast<uint8_t>(text[i]));
      continue;
    }
    if (++i == text.size()) return make_error(ExitCode::kUsage, "text: ends in a lone '\\'");
    static constexpr std::string_view kFrom = "rnt\\", kTo = "\r\n\t\\";
    if (const size_t e = kFrom.find(text[i]); e != std::string_view::npos) {
      out.push_back(static_cast<uint8_t>(kTo[e]));
      continue;
    }
    if (text[i] != 'x')
      return make_error(ExitCode::kUsage, std::string("text: unknown escape '\\") + text[i] +
                                              "' (known: \\r \\n \\t \\\\ \\xHH)");
    const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) return make_error(ExitCode::kUsage, "text: \\x needs two hex digits");
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

// A file's bytes, at most `max_bytes`; a directory, a FIFO or a larger file is kDataErr.
Result<std::string> read_file_at_most(const std::string& path, size_t max_bytes) {
  auto text = read_small_file(path, max_bytes);
  if (!text && text.error().code == ExitCode::kConfig)
    return make_error(ExitCode::kDataErr, text.error().message);
  return text;
}

}  // namespace

UdpPayloadTable::UdpPayloadTable()
    : payloads_{UdpPayload{"empty", {}, UdpEcho::kNone, 0, "built-in"}}, by_port_(65536, 0) {}

UdpPayloadTable UdpPayloadTable::builtin() {
  UdpPayloadTable table;
  for (const Builtin& b : builtins()) table.assign(b.port, b.port, b.payload);
  return table;
}

UdpPayloadTable UdpPayloadTable::single(UdpPayload payload) {
  UdpPayloadTable table;
  table.payloads_[0] = std::move(payload);
  return table;
}

const UdpPayload* UdpPayloadTable::builtin_named(std::string_view name) {
  for (const Builtin& b : builtins())
    if (b.payload.name == name) return &b.payload;
  return nullptr;
}

size_t UdpPayloadTable::largest_bytes() const {
  size_t largest = 0;
  for (const UdpPayload& p : payloads_) largest = std::max(largest, p.bytes.size());
  return largest;
}

std::vector<const UdpPayload*> UdpPayloadTable::assign(uint16_t first, uint16_t last,
                                                       UdpPayload payload) {
  std::vector<uint16_t> replaced;
  for (uint32_t port = first; port <= last; ++port) {
    const uint16_t old = by_port_[port];
    if (old != 0 && std::find(replaced.begin(), replaced.end(), old) == replaced.end())
      replaced.push_back(old);
  }
  payloads_.push_back(std::move(payload));
  const auto index = static_cast<uint16_t>(payloads_.size() - 1);
  for (uint32_t port = first; port <= last; ++port) by_port_[port] = index;
  std::vector<const UdpPayload*> out;
  for (uint16_t i : replaced) out.push_back(&payloads_[i]);
  return out;
}

Result<UdpPayload> parse_udp_payload(std::string_view spec, bool in_payload_file) {
  const size_t colon = spec.find(':');
  const std::string_view kind = spec.substr(0, colon);
  const std::string_view value = colon == std::string_view::npos ? "" : spec.substr(colon + 1);
  UdpPayload payload;
  payload.name = std::string(kind);
  if (colon == std::string_view::npos) {
    return make_error(ExitCode::kUsage,
                      std::string("expected text:STRING, hex:BYTES or file:PATH") +
                          (in_payload_file ? " or builtin:NAME" : ""));
  } else if (kind == "text") {
    if (in_payload_file) {
      auto bytes = unescape(value);
      if (!bytes) return tl::unexpected(bytes.error());
      payload.bytes = std::move(*bytes);
    } else {
      payload.bytes = bytes_of(value);
    }
  } else if (kind == "hex") {
    auto bytes = parse_hex(value);
    if (!bytes) return tl::unexpected(bytes.error());
    payload.bytes = std::move(*bytes);
  } else if (kind == "file") {
    if (value.empty()) return make_error(ExitCode::kUsage, "file: needs a path");
    auto bytes = read_file_at_most(std::string(value), kMaxUdpPayloadBytes);
    if (!bytes) return tl::unexpected(bytes.error());
    payload.bytes = bytes_of(*bytes);
  } else if (kind == "builtin" && in_payload_file) {
    const UdpPayload* known = UdpPayloadTable::builtin_named(value);
    if (known == nullptr) {
      std::string names;
      for (const Builtin& b : builtins()) names += (names.empty() ? "" : ", ") + b.payload.name;
      return make_error(ExitCode::kUsage, "builtin:" + std::string(value.substr(0, 40)) +
                                              ": no such built-in payload (known: " + names + ")");
    }
    payload = *known;
  } else {
    return make_error(ExitCode::kUsage, "unknown payload kind '" + std::string(kind.substr(0, 40)) +
                                            "' (known: text, hex, file" +
                                            (in_payload_file ? ", builtin)" : ")"));
  }
  if (payload.bytes.size() > kMaxUdpPayloadBytes)
    return make_error(ExitCode::kUsage, "payload of " + std::to_string(payload.bytes.size()) +
                                            " bytes or more is above the " +
                                            std::to_string(kMaxUdpPayloadBytes) +
                                            "-byte limit (one 1500-byte MTU frame)");
  return payload;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

Result<std::pair<uint16_t, uint16_t>> parse_port_range(std::string_view text) {
  const size_t dash = text.find('-');
  const auto first = parse_decimal(text.substr(0, dash), 65535);
  const auto last =
      dash == std::string_view::npos ? first : parse_decimal(text.substr(dash + 1), 65535);
  if (!first || !last || *first == 0 || *first > *last)
    return make_error(ExitCode::kDataErr, "'" + std::string(text.substr(0, 20)) +
                                              "' is not a port or port range in 1-65535");
  return std::pair<uint16_t, uint16_t>{static_cast<uint16_t>(*first), static_cast<uint16_t>(*last)};
}

}  // namespace

Result<void> apply_udp_payload_file(std::string_view text, const std::string& source,
                                    UdpPayloadTable& table, std::vector<std::string>* notices) {
  if (text.find('\0') != std::string_view::npos)
    return make_error(ExitCode::kDataErr, source + ": holds a NUL byte (not a text file)");
  std::vector<uint32_t> from_line(65536, 0);  // which line of this file set each port
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    const std::string where = source + ":" + std::to_string(line_number);
    if (line.empty() || line.front() == '#') continue;
    const size_t space = line.find_first_of(" \t");
    if (space == std::string_view::npos)
      return make_error(ExitCode::kDataErr, where + ": expected 'PORT[-PORT] PAYLOAD'");
    auto ports = parse_port_range(line.substr(0, space));
    if (!ports) return make_error(ExitCode::kDataErr, where + ": " + ports.error().message);
    auto payload = parse_udp_payload(trim(line.substr(space)), true);
    if (!payload) {
      const ExitCode code =
          payload.error().code == ExitCode::kUsage ? ExitCode::kDataErr : payload.error().code;
      return make_error(code, where + ": " + payload.error().message);
    }
    for (uint32_t p = ports->first; p <= ports->second; ++p)
      if (from_line[p] != 0)
        return make_error(ExitCode::kDataErr, where + ": port " + std::to_string(p) +
                                                  " already has a payload from " + source + ":" +
                                                  std::to_string(from_line[p]));
    for (uint32_t p = ports->first; p <= ports->second; ++p)
      from_line[p] = static_cast<uint32_t>(line_number);
    payload->origin = where;
    const std::string name = payload->name;
    for (const UdpPayload* old : table.assign(ports->first, ports->second, std::move(*payload)))
      if (notices != nullptr)
        notices->push_back(where + ": " + name + " payload overrides the " + old->name +
                           " payload from " + old->origin);
  }
  return {};
}

Result<UdpPayloadTable> load_udp_payloads(const std::string& probe_args,
                                          const std::string& payload_file,
                                          std::vector<std::string>* notices) {
  UdpPayloadTable table = UdpPayloadTable::builtin();
  if (!probe_args.empty()) {
    auto payload = parse_udp_payload(probe_args, false);
    if (!payload)
      return make_error(payload.error().code, "--probe-args: " + payload.error().message);
    payload->origin = "--probe-args";
    table = UdpPayloadTable::single(std::move(*payload));
  }
  if (payload_file.empty()) return table;
  auto text = read_file_at_most(payload_file, kMaxPayloadFileBytes);
  if (!text) return make_error(text.error().code, "--probe-payloads: " + text.error().message);
  auto applied = apply_udp_payload_file(*text, payload_file, table, notices);
  if (!applied) return tl::unexpected(applied.error());
  return table;
}

std::string describe_udp_payload(const UdpPayload& p) {
  static const char* const kEcho[] = {"", ", echoes a 16-bit ID", ", echoes a 32-bit XID",
                                      ", echoes the 64-bit transmit timestamp",
                                      ", echoes the request-id"};
  return p.name + " (" + std::to_string(p.bytes.size()) + " bytes" +
         kEcho[static_cast<int>(p.echo)] + ") from " + p.origin;
}

}  // namespace anyscan
