#include "identify/service_parsers.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>

namespace anyscan {

namespace {

bool starts_with(std::string_view data, std::string_view prefix) {
  return data.substr(0, prefix.size()) == prefix;
}

bool starts_with_nocase(std::string_view data, std::string_view prefix) {
  if (data.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(data[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

bool contains_nocase(std::string_view data, std::string_view needle) {
  if (needle.empty()) return true;
  for (size_t i = 0; i + needle.size() <= data.size(); ++i)
    if (starts_with_nocase(data.substr(i), needle)) return true;
  return false;
}

std::string_view first_line(std::string_view data) {
  const size_t end = data.find('\n');
  std::string_view line = data.substr(0, end);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// "220 ", "220-": a three-digit reply code.
bool reply_code(std::string_view line, char first_digit) {
  return line.size() >= 4 && line[0] == first_digit &&
         std::isdigit(static_cast<unsigned char>(line[1])) &&
         std::isdigit(static_cast<unsigned char>(line[2])) && (line[3] == ' ' || line[3] == '-');
}

uint32_t le24(std::string_view d, size_t at) {
  return static_cast<uint8_t>(d[at]) | static_cast<uint8_t>(d[at + 1]) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(d[at + 2])) << 16;
}

uint32_t le32(std::string_view d, size_t at) {
  return le24(d, at) | static_cast<uint32_t>(static_cast<uint8_t>(d[at + 3])) << 24;
}

uint32_t be32(std::string_view d, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(d[at])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(d[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(d[at + 2])) << 8 |
         static_cast<uint8_t>(d[at + 3]);
}

// A server-first greeting of a line-based protocol, by its first line.
Service identify_greeting(std::string_view data) {
  const std::string_view line = first_line(data);
  if (starts_with(line, "SSH-")) return Service::kSsh;
  if (starts_with(line, "* OK") || starts_with(line, "* PREAUTH")) return Service::kImap;
  if (starts_with(line, "+OK")) return Service::kPop3;
  if (reply_code(line, '2') && starts_with(line, "220")) {
    // SMTP (RFC 5321 says "220 domain ESMTP ..."; most say SMTP or ESMTP) or FTP.
    if (contains_nocase(line, "SMTP") || contains_nocase(line, "mail")) return Service::kSmtp;
    if (contains_nocase(line, "FTP")) return Service::kFtp;
    return Service::kFtp;  // vsftpd's and many others' plain "220 (vsFTPd 3.0.3)"
  }
  if (reply_code(line, '4') || reply_code(line, '5')) {  // "421 too many", "554 no service"
    if (contains_nocase(line, "SMTP") || contains_nocase(line, "mail")) return Service::kSmtp;
    if (contains_nocase(line, "FTP")) return Service::kFtp;
  }
  if (parse_mysql_handshake(data)) return Service::kMysql;
  // MySQL refusing a host: an error packet (0xff) with code 1130 ("Host ... is not allowed").
  if (data.size() >= 7 && static_cast<uint8_t>(data[4]) == 0xff &&
      le24(data, 0) + 4 <= data.size() + 0 && data[3] == 0)
    return Service::kMysql;
  return Service::kUnknown;
}

}  // namespace

std::string_view service_name(Service service) {
  switch (service) {
    case Service::kUnknown:
      return "unknown";
    case Service::kBanner:
      return "banner";
    case Service::kHttp:
      return "http";
    case Service::kTls:
      return "tls";
    case Service::kSsh:
      return "ssh";
    case Service::kFtp:
      return "ftp";
    case Service::kSmtp:
      return "smtp";
    case Service::kImap:
      return "imap";
    case Service::kPop3:
      return "pop3";
    case Service::kRedis:
      return "redis";
    case Service::kMysql:
      return "mysql";
    case Service::kPostgres:
      return "postgres";
    case Service::kMemcached:
      return "memcached";
    case Service::kMongodb:
      return "mongodb";
  }
  return "unknown";
}

Service identify_bytes(std::string_view data, Prompt prompt) {
  if (data.empty()) return Service::kUnknown;
  if (prompt == Prompt::kNone) {
    const Service greeting = identify_greeting(data);
    return greeting == Service::kUnknown ? Service::kBanner : greeting;
  }
  // Whatever the prompt, some answers say who it is.
  if (starts_with(data, "HTTP/1.") || starts_with(data, "HTTP/2")) return Service::kHttp;
  // TLS records: handshake (22) or alert (21), version 3.x.
  if (data.size() >= 3 && (data[0] == 0x16 || data[0] == 0x15) && data[1] == 0x03 &&
      static_cast<uint8_t>(data[2]) <= 0x04)
    return Service::kTls;
  const std::string_view line = first_line(data);
  // Redis answers what it does not know with -ERR (or -NOAUTH/-DENIED when protected).
  if (starts_with(line, "-ERR") || starts_with(line, "-NOAUTH") || starts_with(line, "-DENIED") ||
      starts_with(line, "+PONG") || starts_with(line, "-WRONGPASS"))
    return Service::kRedis;
  if (starts_with(line, "VERSION ")) return Service::kMemcached;
  // memcached's answer to a command it does not know, and to a malformed one.
  if (line == "ERROR" || starts_with(line, "CLIENT_ERROR") || starts_with(line, "SERVER_ERROR"))
    return Service::kMemcached;
  if (prompt == Prompt::kPgSslRequest && data.size() == 1 && (data[0] == 'S' || data[0] == 'N'))
    return Service::kPostgres;
  // PostgreSQL's ErrorResponse ('E', length, 'S'everity ...) to a request it cannot take.
  if (data.size() >= 6 && data[0] == 'E' && be32(data, 1) >= 4 && be32(data, 1) < 0x10000 &&
      (data[5] == 'S' || data[5] == 'V'))
    return Service::kPostgres;
  // MongoDB OP_REPLY (1) or OP_MSG (2013) to our request id.
  if (prompt == Prompt::kMongoHello && data.size() >= 16) {
    const uint32_t opcode = le32(data, 12);
    if ((opcode == 1 || opcode == 2013) && le32(data, 0) >= 16) return Service::kMongodb;
  }
  const Service greeting = identify_greeting(data);
  if (greeting != Service::kUnknown) return greeting;
  return Service::kBanner;
}

std::string escape_banner(std::string_view data, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const size_t n = std::min(data.size(), max_bytes);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {

// The header block's end (just past the blank line), or npos.
size_t headers_end(std::string_view data) {
  const size_t crlf = data.find("\r\n\r\n");
  const size_t lf = data.find("\n\n");
  if (crlf == std::string_view::npos && lf == std::string_view::npos) return std::string_view::npos;
  if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf < lf))
    return crlf + 4;
  return lf + 2;
}

// The value of header `name` in the block (case-insensitive), trimmed.
std::optional<std::string_view> header(std::string_view headers, std::string_view name) {
  size_t at = 0;
  while (at < headers.size()) {
    size_t end = headers.find('\n', at);
    if (end == std::string_view::npos) end = headers.size();
    std::string_view line = headers.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > name.size() && line[name.size()] == ':' && starts_with_nocase(line, name)) {
      std::string_view value = line.substr(name.size() + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      return value;
    }
    at = end + 1;
  }
  return std::nullopt;
}

std::optional<uint64_t> content_length(std::string_view headers) {
  auto value = header(headers, "Content-Length");
  if (!value) return std::nullopt;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || end != value->data() + value->size()) return std::nullopt;
  return n;
}

// A chunked body's decoded bytes, and whether the last chunk was seen.
std::pair<std::string, bool> dechunk(std::string_view body) {
  std::string out;
  size_t at = 0;
  while (at < body.size()) {
    const size_t eol = body.find("\r\n", at);
    if (eol == std::string_view::npos) return {out, false};
    uint64_t size = 0;
    const std::string_view digits = body.substr(at, eol - at);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
    if (ec != std::errc() || end == digits.data()) return {out, false};
    if (size == 0) return {out, true};
    at = eol + 2;
    if (size > body.size() - at) {
      out.append(body.substr(at));
      return {out, false};
    }
    out.append(body.substr(at, size));
    at += size + 2;
  }
  return {out, false};
}

std::string title_of(std::string_view body) {
  size_t open = std::string_view::npos;
  for (size_t i = 0; i + 7 <= body.size(); ++i)
    if (starts_with_nocase(body.substr(i), "<title")) {
      open = body.find('>', i);
      break;
    }
  if (open == std::string_view::npos) return "";
  size_t close = std::string_view::npos;
  for (size_t i = open + 1; i + 8 <= body.size(); ++i)
    if (starts_with_nocase(body.substr(i), "</title")) {
      close = i;
      break;
    }
  std::string_view text =
      body.substr(open + 1, (close == std::string_view::npos ? body.size() : close) - open - 1);
  std::string out;
  bool space = false;
  for (char c : text.substr(0, 256)) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

bool http_response_complete(std::string_view data) {
  const size_t end = headers_end(data);
  if (end == std::string_view::npos) return false;
  const std::string_view headers = data.substr(0, end);
  const std::string_view status = first_line(data);
  // 1xx, 204 and 304 have no body.
  if (status.size() >= 12 &&
      (status[9] == '1' || status.substr(9, 3) == "204" || status.substr(9, 3) == "304"))
    return true;
  if (auto te = header(headers, "Transfer-Encoding"); te && contains_nocase(*te, "chunked"))
    return dechunk(data.substr(end)).second;
  if (auto length = content_length(headers)) return data.size() - end >= *length;
  return false;  // until the server closes
}

std::optional<HttpFacts> parse_http_response(std::string_view data) {
  const std::string_view status = first_line(data);
  if (!starts_with(status, "HTTP/1.") || status.size() < 12 || status[8] != ' ')
    return std::nullopt;
  int code = 0;
  auto [end, ec] = std::from_chars(status.data() + 9, status.data() + 12, code);
  if (ec != std::errc() || end != status.data() + 12 || code < 100 || code > 999)
    return std::nullopt;
  HttpFacts facts;
  facts.status_line = escape_banner(status, 256);
  facts.status_code = code;
  const size_t body_at = headers_end(data);
  const std::string_view headers =
      data.substr(0, body_at == std::string_view::npos ? data.size() : body_at);
  if (auto server = header(headers, "Server")) facts.server = escape_banner(*server, 256);
  if (body_at == std::string_view::npos) return facts;
  std::string_view raw = data.substr(body_at);
  std::string decoded;
  facts.complete = http_response_complete(data);
  if (auto te = header(headers, "Transfer-Encoding"); te && contains_nocase(*te, "chunked")) {
    decoded = dechunk(raw).first;
    raw = decoded;
  } else if (auto length = content_length(headers); length && *length < raw.size()) {
    raw = raw.substr(0, *length);
  }
  facts.body_bytes = raw.size();
  facts.body_sha256 = sha256_hex(raw);
  facts.title = escape_banner(title_of(raw), 256);
  return facts;
}

std::optional<size_t> ssh_id_end(std::string_view data) {
  // RFC 4253 4.2: the server may send other lines before "SSH-"; each ends with LF.
  size_t at = 0;
  while (at < data.size()) {
    const size_t eol = data.find('\n', at);
    if (eol == std::string_view::npos) return std::nullopt;
    if (starts_with(data.substr(at), "SSH-")) return eol + 1;
    at = eol + 1;
  }
  return std::nullopt;
}

namespace {

// An SSH name-list (uint32 length, comma-separated names) at `at`; advances it.
std::optional<std::vector<std::string>> name_list(std::string_view packet, size_t& at) {
  if (packet.size() - at < 4) return std::nullopt;
  const uint32_t n = be32(packet, at);
  at += 4;
  if (n > packet.size() - at) return std::nullopt;
  std::vector<std::string> names;
  std::string_view list = packet.substr(at, n);
  at += n;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    names.push_back(escape_banner(list.substr(0, comma), 128));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
    if (names.size() >= 64) break;
  }
  return names;
}

}  // namespace

bool ssh_kexinit_complete(std::string_view data) {
  const auto id = ssh_id_end(data);
  if (!id) return false;
  const std::string_view rest = data.substr(*id);
  if (rest.size() < 4) return false;
  const uint32_t length = be32(rest, 0);
  return length <= 35000 && rest.size() - 4 >= length;
}

std::optional<SshFacts> parse_ssh(std::string_view data) {
  const auto id_end = ssh_id_end(data);
  std::string_view line;
  if (id_end) {
    const size_t start = data.rfind("SSH-", *id_end - 1);
    line = first_line(data.substr(start));
  } else if (starts_with(data, "SSH-")) {
    line = first_line(data);  // cut short: what there is
  } else {
    return std::nullopt;
  }
  SshFacts facts;
  // SSH-protoversion-softwareversion SP comments
  std::string_view rest = line.substr(4);
  const size_t dash = rest.find('-');
  facts.version = escape_banner(rest.substr(0, dash), 64);
  if (dash != std::string_view::npos) {
    rest.remove_prefix(dash + 1);
    const size_t space = rest.find(' ');
    facts.software = escape_banner(rest.substr(0, space), 128);
    if (space != std::string_view::npos) facts.comment = escape_banner(rest.substr(space + 1), 128);
  }
  if (!id_end || !ssh_kexinit_complete(data)) return facts;
  const std::string_view packet = data.substr(*id_end);
  const uint32_t length = be32(packet, 0);
  if (length < 1 + 1 + 16) return facts;
  const auto padding = static_cast<uint8_t>(packet[4]);
  if (static_cast<uint8_t>(packet[5]) != 20 || padding >= length) return facts;  // SSH_MSG_KEXINIT
  const std::string_view payload = packet.substr(5, length - 1 - padding);
  size_t at = 1 + 16;  // message number, cookie
  std::vector<std::string>* lists[] = {&facts.kex_algorithms, &facts.host_key_algorithms,
                                       &facts.ciphers,        nullptr,
                                       &facts.macs,           nullptr,
                                       &facts.compression};
  for (auto* list : lists) {
    auto names = name_list(payload, at);
    if (!names) return facts;
    if (list != nullptr) *list = std::move(*names);
  }
  facts.kexinit = true;
  return facts;
}

std::optional<MysqlFacts> parse_mysql_handshake(std::string_view data) {
  // 3-byte length, sequence 0, protocol 10, NUL-terminated version, 4-byte connection id.
  if (data.size() < 5 + 1 + 4) return std::nullopt;
  const uint32_t length = le24(data, 0);
  if (data[3] != 0 || data[4] != 10 || length < 1 + 1 + 4 || length > 1024) return std::nullopt;
  const std::string_view packet = data.substr(4, std::min<size_t>(length, data.size() - 4));
  const size_t nul = packet.find('\0', 1);
  if (nul == std::string_view::npos || nul < 2 || packet.size() < nul + 1 + 4) return std::nullopt;
  const std::string_view version = packet.substr(1, nul - 1);
  for (char c : version)
    if (c < 0x20 || c > 0x7e) return std::nullopt;
  MysqlFacts facts;
  facts.protocol = 10;
  facts.server_version = std::string(version);
  facts.connection_id = le32(packet, nul + 1);
  // auth-plugin-data-part-1 (8), filler (1), capability flags (lower 2 bytes).
  const size_t caps = nul + 1 + 4 + 8 + 1;
  if (packet.size() >= caps + 2)
    facts.tls =
        (static_cast<uint8_t>(packet[caps + 1]) << 8 | static_cast<uint8_t>(packet[caps])) & 0x0800;
  return facts;
}

bool reply_lines_complete(std::string_view data, Service service) {
  if (data.empty() || data.back() != '\n') return false;
  if (service != Service::kSmtp && service != Service::kFtp) return true;
  // The last line must be "NNN " (not "NNN-"), RFC 5321 4.2.1 / RFC 959 4.2.
  std::string_view body = data.substr(0, data.size() - 1);
  const size_t start = body.rfind('\n');
  const std::string_view last = body.substr(start == std::string_view::npos ? 0 : start + 1);
  return last.size() >= 4 && last[3] == ' ';
}

std::string hex_lower(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    out += kHex[static_cast<uint8_t>(c) >> 4];
    out += kHex[static_cast<uint8_t>(c) & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, 32> digest{};
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &n, EVP_sha256(), nullptr);
  return hex_lower(std::string_view(reinterpret_cast<const char*>(digest.data()), n));
}

}  // namespace anyscan
