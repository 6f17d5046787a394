#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/mapped_memory.h"
#include "base/relaxed_counter.h"
#include "base/result.h"
#include "engine/af_xdp/umem_plan.h"
#include "engine/packet_sink.h"
#include "engine/packet_source.h"

struct xsk_umem;
struct xsk_socket;

namespace anyscan {

struct XskBind {
  std::string interface;
  uint32_t queue_id = 0;
  bool transmits = false;  // also a TX ring and frames for probes
  bool zerocopy = false;
  const UmemPlan* plan = nullptr;
};

// Counters of one queue, each written by one thread (sender or receiver) and readable
// from any while the scan runs.
struct XskQueueCounters {
  RelaxedCounter sent, completed, tx_ring_full, rx_received, fill_ring_short;
};

// One AF_XDP socket on one (interface, queue) with its own UMEM: receive frames all go to
// the fill ring at bind; a transmitting queue also has a TX ring and frames for probes.
// Owns, in acquisition order, the UMEM memory, the registered UMEM and the socket.
class XskQueue {
 public:
  // Binds the socket; EBUSY while a just-closed socket releases the queue is retried.
  // Errors carry the errno in Error::message and set *bind_errno for the bind ladder.
  static Result<std::unique_ptr<XskQueue>> open(const XskBind& bind, int* bind_errno);
  ~XskQueue();  // defined where Rings, Sink and Source are complete
  XskQueue(const XskQueue&) = delete;
  XskQueue& operator=(const XskQueue&) = delete;

  Result<void> insert_into(int xsk_map_fd);

  uint32_t queue_id() const { return queue_id_; }
  bool transmits() const { return sink_ != nullptr; }
  PacketSink& sink();
  PacketSource& source();
  const XskQueueCounters& counters() const { return counters_; }
  // The kernel's XDP_STATISTICS of the socket (getsockopt on our own fd: no capability).
  struct KernelStats {
    uint64_t rx_dropped = 0, rx_invalid = 0, tx_invalid = 0, rx_ring_full = 0, fill_ring_empty = 0,
             tx_ring_empty = 0;
  };
  KernelStats kernel_stats() const;

  class Rings;  // the libxdp ring structs, private to the .cc
  class Sink;
  class Source;

 private:
  XskQueue() = default;

  struct UmemDeleter {
    void operator()(xsk_umem* umem) const;
  };
  struct SocketDeleter {
    void operator()(xsk_socket* socket) const;
  };
  int fd() const;
  uint8_t* frame(uint64_t address) const;
  Result<void> create_umem();
  Result<void> create_socket(const XskBind& bind, int* bind_errno);

  uint32_t queue_id_ = 0;
  std::string interface_;
  uint32_t rx_frames_ = 0, tx_frames_ = 0, frame_bytes_ = 0;
  XskQueueCounters counters_;
  // Acquisition order; destruction runs backwards (socket before the UMEM it uses).
  MappedMemory area_;
  std::unique_ptr<Rings> rings_;
  std::unique_ptr<xsk_umem, UmemDeleter> umem_;
  std::unique_ptr<xsk_socket, SocketDeleter> socket_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<Source> source_;
};

}  // namespace anyscan
