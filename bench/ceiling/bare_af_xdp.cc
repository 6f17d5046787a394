// The AF_XDP ceiling: one thread, one copy-mode XSK on queue 0 (what veth offers; anyscan's
// engine binds the same way), a UMEM of 2048 pre-built frames handed to the TX ring 64 at a
// time with one sendto() kick per batch, completions recycled, until FRAMES frames completed
// (of 4096 frames/256 per batch, 2048/64 and 2048/32, 2048/64 was fastest here: the kernel
// copies at most 32 descriptors per kick in copy mode). No per-probe work: anyscan's af_xdp
// engine is measured against this.
// Usage: bare_af_xdp IFNAME GATEWAY_MAC FRAMES [ipv6]
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "frames.h"

namespace {
constexpr uint32_t kFrameBytes = 2048;
constexpr uint32_t kFrames = 2048;
constexpr uint32_t kBatch = 64;
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 5 && std::strcmp(argv[4], "ipv6") == 0)) {
    std::fprintf(stderr, "usage: bare_af_xdp IFNAME GATEWAY_MAC FRAMES [ipv6]\n");
    return 64;
  }
  const auto gateway = anyscan::parse_mac(argv[2]);
  const uint64_t total = std::strtoull(argv[3], nullptr, 10);
  if (!gateway || ::if_nametoindex(argv[1]) == 0 || total == 0) {
    std::fprintf(stderr, "bare_af_xdp: bad interface, MAC or count\n");
    return 64;
  }
  const size_t bytes = size_t{kFrames} * kFrameBytes;
  void* area = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) return 71;
  const auto frames = anyscan::bench::syn_frames(64, anyscan::MacAddress{}, *gateway, argc == 5);
  const size_t frame_bytes = anyscan::bench::syn_frame_bytes(argc == 5);
  for (uint32_t i = 0; i < kFrames; ++i)
    std::memcpy(static_cast<uint8_t*>(area) + size_t{i} * kFrameBytes,
                frames.data() + (i % 64) * frame_bytes, frame_bytes);
  xsk_ring_prod fill{};
  xsk_ring_cons completion{};
  xsk_ring_prod tx{};
  xsk_umem* umem = nullptr;
  const xsk_umem_config umem_config{kFrames, kFrames, kFrameBytes, 0, 0};
  if (int err = xsk_umem__create(&umem, area, bytes, &fill, &completion, &umem_config); err) {
    std::fprintf(stderr, "bare_af_xdp: umem: %s\n", std::strerror(-err));
    return 69;
  }
  xsk_socket_config config{};
  config.rx_size = 0;
  config.tx_size = kFrames;
  config.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
  config.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
  xsk_socket* xsk = nullptr;
  if (int err = xsk_socket__create(&xsk, argv[1], 0, umem, nullptr, &tx, &config); err) {
    std::fprintf(stderr, "bare_af_xdp: socket: %s\n", std::strerror(-err));
    return 69;
  }
  std::vector<uint64_t> free_frames;
  for (uint32_t i = 0; i < kFrames; ++i) free_frames.push_back(uint64_t{i} * kFrameBytes);
  uint64_t queued = 0, completed = 0;
  while (completed < total) {
    const uint32_t want = static_cast<uint32_t>(
        std::min<uint64_t>({uint64_t{kBatch}, uint64_t{free_frames.size()}, total - queued}));
    uint32_t index = 0;
    if (want > 0 && xsk_ring_prod__reserve(&tx, want, &index) == want) {
      for (uint32_t i = 0; i < want; ++i) {
        xdp_desc* desc = xsk_ring_prod__tx_desc(&tx, index + i);
        desc->addr = free_frames.back();
        desc->len = static_cast<uint32_t>(frame_bytes);
        desc->options = 0;
        free_frames.pop_back();
      }
      xsk_ring_prod__submit(&tx, want);
      queued += want;
    }
    if (xsk_ring_prod__needs_wakeup(&tx))
      ::sendto(xsk_socket__fd(xsk), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    const uint32_t done = xsk_ring_cons__peek(&completion, kFrames, &index);
    for (uint32_t i = 0; i < done; ++i)
      free_frames.push_back(*xsk_ring_cons__comp_addr(&completion, index + i));
    xsk_ring_cons__release(&completion, done);
    completed += done;
  }
  std::printf("sent %llu\n", static_cast<unsigned long long>(completed));
  xsk_socket__delete(xsk);
  xsk_umem__delete(umem);
  return 0;
}
