#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace anyscan {

// A file's bytes as text, whatever it was stored as: plain, or xz or gzip compressed (as the
// IPv6 Hitlist Service publishes its lists), told apart by content (the format's magic
// bytes), not by name. Streamed: a piece in, the text it decodes out, in bounded memory
// (the decoders' own state: xz's is capped by kMaxXzMemoryBytes). Damaged or truncated
// compressed data is kDataErr naming the file and the format.
class TextDecoder {
 public:
  enum class Format { kPlain, kXz, kGzip };
  static constexpr uint64_t kMaxXzMemoryBytes = uint64_t{256} << 20;

  // `first` is the file's first bytes (at least 6, or all of a shorter file).
  static Format detect(std::string_view first);
  static Result<TextDecoder> make(Format format, std::string name);
  TextDecoder(TextDecoder&&) noexcept;
  ~TextDecoder();

  // Decodes `in`, calling `out(text)` for each piece of text (never longer than 64 KiB);
  // stops at the first error `out` returns.
  template <typename Out>
  Result<void> feed(std::string_view in, Out& out) {
    return feed_impl(
        in, [](void* f, std::string_view t) -> Result<void> { return (*static_cast<Out*>(f))(t); },
        &out);
  }
  // The end of the file: what the decoder still holds goes to `out`, and a compressed stream
  // must be complete.
  template <typename Out>
  Result<void> finish(Out& out) {
    return finish_impl(
        [](void* f, std::string_view t) -> Result<void> { return (*static_cast<Out*>(f))(t); },
        &out);
  }
  Format format() const { return format_; }

 private:
  struct State;
  TextDecoder(Format format, std::string name, std::unique_ptr<State> state);
  Result<void> feed_impl(std::string_view in, Result<void> (*call)(void*, std::string_view),
                         void* out);
  Result<void> finish_impl(Result<void> (*call)(void*, std::string_view), void* out);
  // xz: runs the decoder over what next_in holds with `action` (LZMA_RUN or LZMA_FINISH).
  Result<void> xz_code(int action, Result<void> (*call)(void*, std::string_view), void* out);

  Format format_;
  std::string name_;
  std::unique_ptr<State> state_;
};

}  // namespace anyscan
