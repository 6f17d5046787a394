#include "target/text_decoder.h"

#include <lzma.h>
#include <zlib.h>

#include <vector>

namespace anyscan {

struct TextDecoder::State {
  lzma_stream xz = LZMA_STREAM_INIT;
  z_stream gz{};
  bool gz_open = false;
  bool ended = false;  // the compressed stream's end was seen
  std::vector<char> buffer = std::vector<char>(64 * 1024);
  ~State() {
    lzma_end(&xz);
    if (gz_open) inflateEnd(&gz);
  }
};

TextDecoder::Format TextDecoder::detect(std::string_view first) {
  static constexpr char kXz[] = {'\xfd', '7', 'z', 'X', 'Z', '\0'};
  if (first.size() >= 6 && first.substr(0, 6) == std::string_view(kXz, 6)) return Format::kXz;
  if (first.size() >= 2 && first[0] == '\x1f' && first[1] == '\x8b') return Format::kGzip;
  return Format::kPlain;
}

TextDecoder::TextDecoder(Format format, std::string name, std::unique_ptr<State> state)
    : format_(format), name_(std::move(name)), state_(std::move(state)) {}
TextDecoder::TextDecoder(TextDecoder&&) noexcept = default;
TextDecoder::~TextDecoder() = default;

Result<TextDecoder> TextDecoder::make(Format format, std::string name) {
  auto state = std::make_unique<State>();
  if (format == Format::kXz &&
      lzma_stream_decoder(&state->xz, kMaxXzMemoryBytes, LZMA_CONCATENATED) != LZMA_OK)
    return make_error(ExitCode::kSoftware, name + ": cannot start an xz decoder");
  if (format == Format::kGzip) {
    // 16 + MAX_WBITS: gzip framing; concatenated members are restarted in feed_impl.
    if (inflateInit2(&state->gz, 16 + MAX_WBITS) != Z_OK)
      return make_error(ExitCode::kSoftware, name + ": cannot start a gzip decoder");
    state->gz_open = true;
  }
  return TextDecoder(format, std::move(name), std::move(state));
}

Result<void> TextDecoder::feed_impl(std::string_view in,
                                    Result<void> (*call)(void*, std::string_view), void* out) {
  State& s = *state_;
  if (format_ == Format::kPlain) return call(out, in);
  if (format_ == Format::kXz) {
    s.xz.next_in = reinterpret_cast<const uint8_t*>(in.data());
    s.xz.avail_in = in.size();
    return xz_code(LZMA_RUN, call, out);
  }
  s.gz.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.gz.avail_in = static_cast<uInt>(in.size());
  for (bool full = true; s.gz.avail_in > 0 || (full && !s.ended);) {
    if (s.ended) {  // another gzip member follows (as `cat a.gz b.gz` makes)
      if (inflateReset(&s.gz) != Z_OK)
        return make_error(ExitCode::kDataErr, name_ + ": damaged gzip data");
      s.ended = false;
    }
    s.gz.next_out = reinterpret_cast<Bytef*>(s.buffer.data());
    s.gz.avail_out = static_cast<uInt>(s.buffer.size());
    const int ret = inflate(&s.gz, Z_NO_FLUSH);
    const size_t produced = s.buffer.size() - s.gz.avail_out;
    full = s.gz.avail_out == 0;
    if (produced > 0)
      if (auto r = call(out, std::string_view(s.buffer.data(), produced)); !r) return r;
    if (ret == Z_BUF_ERROR && produced == 0) break;  // no progress possible: needs more input
    if (ret == Z_STREAM_END) {
      s.ended = true;
    } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
      return make_error(ExitCode::kDataErr, name_ + ": damaged gzip data (" +
                                                (s.gz.msg ? s.gz.msg : "zlib error") + ")");
    }
  }
  return {};
}

Result<void> TextDecoder::xz_code(int action, Result<void> (*call)(void*, std::string_view),
                                  void* out) {
  State& s = *state_;
  // Until the input is used up and the output buffer was not filled (nothing pending); with
  // LZMA_FINISH until the stream's end (LZMA_CONCATENATED reports it only then).
  for (bool full = true; (s.xz.avail_in > 0 || full || action == LZMA_FINISH) && !s.ended;) {
    s.xz.next_out = reinterpret_cast<uint8_t*>(s.buffer.data());
    s.xz.avail_out = s.buffer.size();
    const lzma_ret ret = lzma_code(&s.xz, static_cast<lzma_action>(action));
    const size_t produced = s.buffer.size() - s.xz.avail_out;
    full = s.xz.avail_out == 0;
    if (produced > 0)
      if (auto r = call(out, std::string_view(s.buffer.data(), produced)); !r) return r;
    if (ret == LZMA_STREAM_END) {
      s.ended = true;
    } else if (ret == LZMA_BUF_ERROR && produced == 0) {
      if (action == LZMA_FINISH)
        return make_error(ExitCode::kDataErr, name_ + ": truncated xz data");
      break;  // needs more input
    } else if (ret == LZMA_MEMLIMIT_ERROR) {
      return make_error(ExitCode::kDataErr, name_ + ": xz data needs more than 256 MiB to decode");
    } else if (ret != LZMA_OK && ret != LZMA_BUF_ERROR) {
      return make_error(ExitCode::kDataErr,
                        name_ + ": damaged xz data (liblzma error " + std::to_string(ret) + ")");
    }
  }
  return {};
}

Result<void> TextDecoder::finish_impl(Result<void> (*call)(void*, std::string_view), void* out) {
  if (format_ == Format::kXz) {
    state_->xz.next_in = nullptr;
    state_->xz.avail_in = 0;
    if (auto r = xz_code(LZMA_FINISH, call, out); !r) return r;
  }
  if (format_ == Format::kPlain || state_->ended) return {};
  return make_error(ExitCode::kDataErr,
                    name_ + ": truncated " + (format_ == Format::kXz ? "xz" : "gzip") + " data");
}

}  // namespace anyscan
