// Any bytes as a server's answer to anyscan-identify: every identification parser (the
// service verdict after each prompt, HTTP, SSH with KEXINIT, MySQL, reply completeness, the
// banner escape, JA3S), the TLS client fed them as a server's records, and the stage's own
// inputs (a results line of each kind, its resume state, a record read back). Nothing may
// read past the data, loop without end or abort; escaped text stays printable.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "identify/identifier.h"
#include "identify/open_ports.h"
#include "identify/service_parsers.h"
#include "identify/tls_client.h"

using namespace anyscan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  for (Prompt prompt : {Prompt::kNone, Prompt::kTlsHello, Prompt::kHttpGet, Prompt::kVersion,
                        Prompt::kPgSslRequest, Prompt::kMongoHello})
    (void)identify_bytes(data, prompt);
  for (char c : escape_banner(data))
    if (c < 0x20 || c > 0x7e) std::abort();
  if (auto http = parse_http_response(data))
    for (char c : http->title)
      if (c < 0x20 || c > 0x7e) std::abort();
  (void)http_response_complete(data);
  (void)parse_ssh(data);
  (void)ssh_kexinit_complete(data);
  (void)parse_mysql_handshake(data);
  for (Service s : {Service::kSmtp, Service::kFtp, Service::kImap})
    (void)reply_lines_complete(data, s);
  (void)ja3s_string(data);
  (void)parse_identify_state(data, "fuzz");
  (void)record_target(data);
  OpenPortParser csv;
  if (csv.header(data.substr(0, data.find('\n')), "fuzz"))
    (void)csv.parse(
        data.substr(data.find('\n') == std::string_view::npos ? data.size() : data.find('\n') + 1),
        "fuzz", 2);
  OpenPortParser json;
  json.set_json(true);
  (void)json.parse(data, "fuzz", 1);
  // The bytes as a TLS server's, in two pieces.
  static const auto context = TlsClientContext::create();
  if (!context) std::abort();
  TlsClient client(*context, "");
  client.advance("");
  (void)client.take_output();
  const size_t half = size / 2;
  if (client.advance(data.substr(0, half)) != TlsClient::State::kFailed)
    client.advance(data.substr(half));
  (void)client.take_output();
  (void)client.facts();
  return 0;
}
