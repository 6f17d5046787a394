#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/mapped_memory.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "net/reply_filter_spec.h"

struct reply_filter;  // the bpftool skeleton (generated, included only by the .cc)

namespace anyscan {

// What the XDP program counted on one receive queue (see reply_filter.bpf.c).
struct XdpQueueCounters {
  uint64_t matched = 0;      // candidate replies
  uint64_t redirected = 0;   // handed to the queue's AF_XDP socket
  uint64_t no_socket = 0;    // found no socket on their queue: lost to the scan
  uint64_t passed = 0;       // to our address but no reply shape: left to the kernel
  uint64_t host_socket = 0;  // a host socket's (or a SYN without ACK): left to the kernel
};

// The embedded reply filter, configured from a ReplyFilterSpec, loaded, and attached to an
// interface through a bpf_link (the kernel detaches it when the link fd closes, also when
// the process dies). Move-only owner of the skeleton and the link.
class XdpProgram {
 public:
  static constexpr uint32_t kMaxQueues = 256;  // the XSK map's size (MAX_QUEUES in the .bpf.c)

  // Opens and loads the program for `spec` (needs CAP_BPF; CAP_NET_ADMIN to attach).
  static Result<XdpProgram> load(const ReplyFilterSpec& spec);
  XdpProgram(XdpProgram&&) noexcept;
  XdpProgram& operator=(XdpProgram&&) = delete;  // would free the skeleton before the link
  ~XdpProgram();

  // Attaches in the mode of xdp_flags (XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE), replacing
  // an attachment of this program in another mode. On failure the message carries the
  // kernel's own explanation where it gives one (e.g. a driver's channel or MTU limit).
  Result<void> attach(int ifindex, const std::string& interface, uint32_t xdp_flags,
                      const char* mode_name);
  void detach();
  uint32_t attached_flags() const { return attached_flags_; }

  int xsk_map_fd() const;
  // Read from the counter map, mapped into this process at load: no bpf() call.
  XdpQueueCounters queue_counters(uint32_t queue) const;

 private:
  struct SkeletonDeleter {
    void operator()(reply_filter* skeleton) const;
  };
  XdpProgram(std::unique_ptr<reply_filter, SkeletonDeleter> skeleton, MappedMemory counters);

  // Declaration order is teardown order reversed: the link closes before the program goes.
  std::unique_ptr<reply_filter, SkeletonDeleter> skeleton_;
  MappedMemory counters_;  // the queue_counters map, BPF_F_MMAPABLE
  UniqueFd link_;
  uint32_t attached_flags_ = 0;
};

// Routes libbpf's and libxdp's messages into the project's log (debug level).
void route_libbpf_messages_to_log();

}  // namespace anyscan
