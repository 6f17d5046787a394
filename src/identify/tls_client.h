#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace anyscan {

// What a TLS handshake told about the server.
struct TlsFacts {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
  std::string alpn;     // "http/1.1", "" when none was agreed
  // The leaf certificate (absent with an anonymous suite).
  bool certificate = false;
  std::string subject, issuer;        // RFC 2253 ("CN=host,O=Org")
  std::vector<std::string> sans;      // "DNS:name", "IP:198.18.0.2"
  std::string not_before, not_after;  // ISO 8601 UTC
  std::string serial;                 // hex
  std::string sha256_fingerprint;     // lower-case hex of the DER
  std::string ja3s;                   // MD5 hex of "version,cipher,ext-ext-..."
  std::string ja3s_string;
};

// The client side of TLS for identification: one context (OpenSSL's defaults plus every
// protocol version it has, no verification: we record the certificate, we do not trust it),
// made before the process confines itself.
class TlsClientContext {
 public:
  static Result<TlsClientContext> create();
  SSL_CTX* get() const { return ctx_.get(); }

 private:
  struct Free {
    void operator()(SSL_CTX* ctx) const;
  };
  std::unique_ptr<SSL_CTX, Free> ctx_;
};

// One handshake driven over memory: the caller moves bytes between it and the socket.
class TlsClient {
 public:
  enum class State { kHandshaking, kEstablished, kFailed };

  // `sni`: the server name to send ("" = none; an address is never sent). `alpn`: offer
  // h2 and http/1.1 (not inside STARTTLS: a mail server may refuse what it does not speak).
  TlsClient(const TlsClientContext& context, const std::string& sni, bool alpn = true);
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // Starts or continues the handshake with what the server sent (may be empty).
  State advance(std::string_view from_server);
  // Bytes to send to the server now.
  std::string take_output();
  // Application data: encrypts `plain` (once established); decrypts what came in.
  void write(std::string_view plain);
  std::string read();
  // Facts of an established session.
  TlsFacts facts() const;
  // OpenSSL's reason when kFailed.
  const std::string& error() const { return error_; }
  // The first bytes the server sent, whatever they were (to identify a non-TLS answer).
  const std::string& first_bytes() const { return first_bytes_; }

 private:
  SSL* ssl_ = nullptr;
  State state_ = State::kHandshaking;
  std::string error_;
  std::string first_bytes_;
  std::string server_hello_;  // the raw ServerHello message (for JA3S)
  friend struct TlsCallbacks;
};

// JA3S of a raw ServerHello handshake message (type 2, with its 4-byte header): the
// "version,cipher,extensions" string; "" when it cannot be parsed.
std::string ja3s_string(std::string_view server_hello);
std::string md5_hex(std::string_view bytes);

}  // namespace anyscan
