#pragma once

#include <cstdint>

namespace anyscan {

// A writable frame buffer handed out by an engine's transmit queue (an AF_XDP UMEM frame,
// an AF_PACKET batch slot): a probe is written here in place and never copied.
struct FrameSlot {
  uint8_t* data;
  uint32_t length;
};

// Receive-side view of one frame, valid until the receive queue's release().
struct FrameView {
  const uint8_t* data;
  uint32_t length;
  int64_t received_ns = 0;  // kernel receive time (CLOCK_REALTIME), 0 if the engine has none
};

}  // namespace anyscan
