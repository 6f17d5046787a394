#pragma once

#include <cstdint>
#include <span>

#include "base/result.h"
#include "net/frame_buffer.h"

namespace anyscan {

struct SourceStats {
  uint64_t received = 0;  // frames handed to us
  uint64_t dropped = 0;   // frames the kernel dropped for want of ring space
};

// One receive queue. Frames stay valid until release().
class PacketSource {
 public:
  virtual ~PacketSource() = default;
  // Fills up to out.size() views, waiting at most timeout_ms for the first; 0 = none yet.
  virtual Result<size_t> receive(std::span<FrameView> out, int timeout_ms) = 0;
  // Returns the buffers of the last receive() to the kernel.
  virtual void release() = 0;
  // Safe to call from another thread while a receiver uses the source.
  virtual SourceStats stats() = 0;
};

}  // namespace anyscan
