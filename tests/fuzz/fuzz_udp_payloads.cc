// The UDP payload file (--probe-payloads) and payload specs (--probe-args): any text must
// give a table or a one-line error naming the line, never a crash. Inputs naming a file
// (file:) are skipped: they would read whatever the path names on this machine.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "probe/udp_payloads.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find("file:") != std::string::npos) return 0;
  anyscan::UdpPayloadTable table = anyscan::UdpPayloadTable::builtin();
  std::vector<std::string> notices;
  auto applied = anyscan::apply_udp_payload_file(text, "fuzz.conf", table, &notices);
  if (!applied) {
    const std::string& message = applied.error().message;
    if (message.rfind("fuzz.conf", 0) != 0 || message.find('\n') != std::string::npos)
      std::abort();  // every error names the file (and line), on one line
  }
  if (table.largest_bytes() > anyscan::kMaxUdpPayloadBytes) std::abort();
  for (bool in_file : {false, true}) {
    auto payload = anyscan::parse_udp_payload(text, in_file);
    if (payload && payload->bytes.size() > anyscan::kMaxUdpPayloadBytes) std::abort();
  }
  return 0;
}
