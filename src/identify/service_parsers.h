#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anyscan {

// What a server is, told from the bytes it sent (never from the port number).
enum class Service : uint8_t {
  kUnknown,  // nothing usable came back
  kBanner,   // bytes came back, but no known protocol's
  kHttp,
  kTls,
  kSsh,
  kFtp,
  kSmtp,
  kImap,
  kPop3,
  kRedis,
  kMysql,
  kPostgres,
  kMemcached,
  kMongodb,
};
std::string_view service_name(Service service);

// What the bytes answered: nothing (a banner the server sent first), or one of our probes.
enum class Prompt : uint8_t {
  kNone,          // server-first: sent before we said anything
  kTlsHello,      // a TLS ClientHello
  kHttpGet,       // GET / HTTP/1.1
  kVersion,       // "version\r\n" (memcached answers VERSION, redis -ERR)
  kPgSslRequest,  // PostgreSQL SSLRequest (8 bytes)
  kMongoHello,    // MongoDB OP_QUERY isMaster
};

// The service `data` (what the server sent after `prompt`) belongs to; kBanner when it is
// bytes of no protocol known here, kUnknown when empty.
Service identify_bytes(std::string_view data, Prompt prompt);

// Printable, bounded text of a server's bytes: ASCII 0x20-0x7e kept (backslash doubled),
// \r \n \t, any other byte \xHH; at most `max_bytes` of input.
std::string escape_banner(std::string_view data, size_t max_bytes = 512);

// An HTTP/1.x response (possibly cut short by the byte limit).
struct HttpFacts {
  std::string status_line;  // "HTTP/1.1 200 OK"
  int status_code = 0;
  std::string server;       // the Server header
  std::string title;        // <title> of the body, whitespace collapsed (first 256 bytes)
  std::string body_sha256;  // hex SHA-256 of the body read (Content-Length bytes when known)
  uint64_t body_bytes = 0;
  bool complete = false;  // headers and the whole body (by Content-Length) were read
};
// nullopt unless `data` starts with "HTTP/1." and a status code.
std::optional<HttpFacts> parse_http_response(std::string_view data);
// Whether `data` holds a whole response (headers, and the body its Content-Length says, or
// chunked to the last chunk); a response without a length ends when the server closes.
bool http_response_complete(std::string_view data);

// SSH: the identification line (RFC 4253 4.2) and the server's KEXINIT, when read.
struct SshFacts {
  std::string version;   // "2.0"
  std::string software;  // "OpenSSH_9.2p1"
  std::string comment;   // "Debian-2+deb12u3"
  bool kexinit = false;
  std::vector<std::string> kex_algorithms, host_key_algorithms, ciphers, macs, compression;
};
// nullopt unless `data` starts with an "SSH-" line (the server may send other lines first).
std::optional<SshFacts> parse_ssh(std::string_view data);
// The offset just past the identification line, or nullopt while it is incomplete.
std::optional<size_t> ssh_id_end(std::string_view data);
// Whether a whole KEXINIT packet follows the identification line.
bool ssh_kexinit_complete(std::string_view data);

// MySQL/MariaDB initial handshake (protocol 10).
struct MysqlFacts {
  uint8_t protocol = 0;
  std::string server_version;
  uint32_t connection_id = 0;
  bool tls = false;  // CLIENT_SSL in the capability flags
};
std::optional<MysqlFacts> parse_mysql_handshake(std::string_view data);

// A line-based reply is complete (ends with \n); SMTP/FTP multi-line replies end at the line
// whose code is followed by a space.
bool reply_lines_complete(std::string_view data, Service service);

// Lower-case hex of `bytes`.
std::string hex_lower(std::string_view bytes);
// Lower-case hex SHA-256.
std::string sha256_hex(std::string_view bytes);

}  // namespace anyscan
