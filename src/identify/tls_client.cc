#include "identify/tls_client.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>

#include "identify/service_parsers.h"

namespace anyscan {

namespace {

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "handshake failed";
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

std::string name_text(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n > 0 ? n : 0));
  BIO_free(bio);
  return escape_banner(out, 1024);
}

std::string time_text(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return "";
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::vector<std::string> sans_of(X509* cert) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && out.size() < 256; ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const auto* s = name->d.dNSName;
      out.push_back(
          "DNS:" +
          escape_banner(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                         static_cast<size_t>(ASN1_STRING_length(s))),
                        256));
    } else if (name->type == GEN_IPADD) {
      const auto* s = name->d.iPAddress;
      const unsigned char* b = ASN1_STRING_get0_data(s);
      char text[64] = "";
      if (ASN1_STRING_length(s) == 4) {
        std::snprintf(text, sizeof text, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
      } else if (ASN1_STRING_length(s) == 16) {
        // Full form, as openssl x509 -text prints it.
        std::string t;
        for (int k = 0; k < 16; k += 2) {
          char part[8];
          std::snprintf(part, sizeof part, "%s%X", k ? ":" : "", (b[k] << 8) | b[k + 1]);
          t += part;
        }
        std::snprintf(text, sizeof text, "%s", t.c_str());
      }
      out.push_back(std::string("IP:") + text);
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace

// The message callback: keeps the ServerHello and the first bytes from the server.
struct TlsCallbacks {
  static void message(int write_p, int /*version*/, int content_type, const void* buf, size_t len,
                      SSL* ssl, void* /*arg*/) {
    auto* client = static_cast<TlsClient*>(SSL_get_app_data(ssl));
    if (client == nullptr || write_p != 0 || content_type != SSL3_RT_HANDSHAKE || len < 4) return;
    const auto* bytes = static_cast<const char*>(buf);
    if (bytes[0] == 2 && client->server_hello_.empty())  // ServerHello
      client->server_hello_.assign(bytes, std::min<size_t>(len, 4096));
  }
};

void TlsClientContext::Free::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }

Result<TlsClientContext> TlsClientContext::create() {
  TlsClientContext context;
  context.ctx_.reset(SSL_CTX_new(TLS_client_method()));
  if (!context.ctx_) return make_error(ExitCode::kSoftware, "TLS: " + openssl_error());
  SSL_CTX* ctx = context.ctx_.get();
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  // Old servers too: what they offer is what we record.
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT | SSL_OP_IGNORE_UNEXPECTED_EOF);
  static constexpr unsigned char kAlpn[] = "\x02h2\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn - 1);
  SSL_CTX_set_msg_callback(ctx, &TlsCallbacks::message);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  return context;
}

TlsClient::TlsClient(const TlsClientContext& context, const std::string& sni, bool alpn) {
  ssl_ = SSL_new(context.get());
  if (ssl_ == nullptr) {
    state_ = State::kFailed;
    error_ = openssl_error();
    return;
  }
  SSL_set_app_data(ssl_, this);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, in, out);
  SSL_set_connect_state(ssl_);
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl_, sni.c_str());
  if (!alpn) SSL_set_alpn_protos(ssl_, nullptr, 0);
}

TlsClient::~TlsClient() { SSL_free(ssl_); }

TlsClient::State TlsClient::advance(std::string_view from_server) {
  if (state_ == State::kFailed || ssl_ == nullptr) return State::kFailed;
  if (!from_server.empty()) {
    if (first_bytes_.size() < 512)
      first_bytes_.append(from_server.substr(0, 512 - first_bytes_.size()));
    BIO_write(SSL_get_rbio(ssl_), from_server.data(), static_cast<int>(from_server.size()));
  }
  if (state_ == State::kEstablished) return state_;
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    state_ = State::kEstablished;
    return state_;
  }
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return state_;
  state_ = State::kFailed;
  error_ = openssl_error();
  return state_;
}

std::string TlsClient::take_output() {
  std::string out;
  if (ssl_ == nullptr) return out;
  BIO* bio = SSL_get_wbio(ssl_);
  char buffer[16384];
  int n;
  while ((n = BIO_read(bio, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<size_t>(n));
  return out;
}

void TlsClient::write(std::string_view plain) {
  if (state_ != State::kEstablished) return;
  SSL_write(ssl_, plain.data(), static_cast<int>(plain.size()));
}

std::string TlsClient::read() {
  std::string out;
  if (state_ != State::kEstablished) return out;
  char buffer[16384];
  int n;
  while ((n = SSL_read(ssl_, buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<size_t>(n));
  ERR_clear_error();
  return out;
}

TlsFacts TlsClient::facts() const {
  TlsFacts facts;
  if (state_ != State::kEstablished) return facts;
  facts.version = SSL_get_version(ssl_);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_))
    facts.cipher = SSL_CIPHER_get_name(cipher);
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_length);
  if (alpn != nullptr)
    facts.alpn =
        escape_banner(std::string_view(reinterpret_cast<const char*>(alpn), alpn_length), 64);
  facts.ja3s_string = ja3s_string(server_hello_);
  if (!facts.ja3s_string.empty()) facts.ja3s = md5_hex(facts.ja3s_string);
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return facts;
  facts.certificate = true;
  facts.subject = name_text(X509_get_subject_name(cert));
  facts.issuer = name_text(X509_get_issuer_name(cert));
  facts.sans = sans_of(cert);
  facts.not_before = time_text(X509_get0_notBefore(cert));
  facts.not_after = time_text(X509_get0_notAfter(cert));
  if (const ASN1_INTEGER* serial = X509_get0_serialNumber(cert)) {
    if (BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr)) {
      if (char* hex = BN_bn2hex(bn)) {
        facts.serial = hex;
        OPENSSL_free(hex);
      }
      BN_free(bn);
    }
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), digest.data(), &n) == 1)
    facts.sha256_fingerprint =
        hex_lower(std::string_view(reinterpret_cast<const char*>(digest.data()), n));
  X509_free(cert);
  return facts;
}

std::string ja3s_string(std::string_view hello) {
  // type(1) length(3) version(2) random(32) session_id(1+n) cipher(2) compression(1)
  // [extensions length(2) { type(2) length(2) data }]
  auto u8 = [&](size_t at) { return static_cast<unsigned>(static_cast<uint8_t>(hello[at])); };
  auto u16 = [&](size_t at) { return u8(at) << 8 | u8(at + 1); };
  if (hello.size() < 4 + 2 + 32 + 1 || u8(0) != 2) return "";
  size_t at = 4;
  const unsigned version = u16(at);
  at += 2 + 32;
  const size_t session = u8(at);
  at += 1 + session;
  if (hello.size() < at + 3) return "";
  const unsigned cipher = u16(at);
  at += 3;
  std::string extensions;
  if (hello.size() >= at + 2) {
    const size_t end = std::min(hello.size(), at + 2 + u16(at));
    at += 2;
    while (at + 4 <= end) {
      extensions += (extensions.empty() ? "" : "-") + std::to_string(u16(at));
      at += 4 + u16(at + 2);
    }
  }
  return std::to_string(version) + "," + std::to_string(cipher) + "," + extensions;
}

std::string md5_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &n, EVP_md5(), nullptr);
  return hex_lower(std::string_view(reinterpret_cast<const char*>(digest.data()), n));
}

}  // namespace anyscan
