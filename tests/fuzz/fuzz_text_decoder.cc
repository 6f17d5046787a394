// Any bytes as a target file would be read: detected (plain, xz, gzip) and decoded in
// pieces of the input's choosing, never past the input, with bounded memory; the same text
// whatever the pieces; then what the text holds parsed as a list of prefixes.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "target/target_parser.h"
#include "target/text_decoder.h"

namespace {

// The text `data` decodes to in pieces of `piece` bytes, or "" and false on an error.
std::pair<std::string, bool> decode(std::string_view data, size_t piece) {
  auto decoder = anyscan::TextDecoder::make(anyscan::TextDecoder::detect(data), "fuzz");
  if (!decoder) std::abort();
  std::string text;
  auto out = [&text](std::string_view t) -> anyscan::Result<void> {
    if (t.size() > 64 * 1024) std::abort();  // pieces of at most the buffer
    text.append(t);
    if (text.size() > (size_t{64} << 20))
      return anyscan::make_error(anyscan::ExitCode::kDataErr, "big");
    return {};
  };
  for (size_t at = 0; at < data.size(); at += piece)
    if (!decoder->feed(data.substr(at, piece), out)) return {"", false};
  if (!decoder->finish(out)) return {"", false};
  return {text, true};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const size_t piece = in.ConsumeIntegralInRange<size_t>(1, 4096);
  const std::string bytes = in.ConsumeRemainingBytesAsString();
  const auto whole = decode(bytes, bytes.size() + 1);
  const auto pieces = decode(bytes, piece);
  if (whole.second != pieces.second || whole.first != pieces.first) std::abort();
  if (whole.second) {
    anyscan::TargetListReader reader("fuzz");
    reader.keep_entries();
    if (reader.feed(whole.first)) (void)reader.entries();
  }
  return 0;
}
