#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.h"
#include "net/frame_buffer.h"

namespace anyscan {

struct SendReport {
  size_t sent = 0;
  size_t failed = 0;  // given up after the retries
};

// One transmit queue. Frames are written in place into buffers the sink owns (the AF_XDP
// UMEM, the AF_PACKET batch), so a probe is built once and never copied.
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  // Up to max_frames writable slots of at least frame_capacity() bytes; empty when the
  // queue is full right now (the caller retries after submit/poll).
  virtual std::span<FrameSlot> reserve(size_t max_frames) = 0;
  // Transmits the first count slots of the last reserve(), in order. A hard failure (the
  // interface went away) is an error; transient ones are retried, then counted.
  virtual Result<SendReport> submit(size_t count) = 0;
  virtual size_t frame_capacity() const = 0;
  // Returns once every submitted frame has left (or timeout_ms passed): a ring-based sink
  // may still hold frames after submit(). Counts what was still queued as failed.
  virtual Result<SendReport> flush(int timeout_ms) {
    (void)timeout_ms;
    return SendReport{};
  }
};

}  // namespace anyscan
