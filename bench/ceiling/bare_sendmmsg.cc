// The AF_PACKET ceiling: one thread re-sending 64 pre-built frames per sendmmsg() on a
// packet socket bound like anyscan's (protocol 0, PACKET_QDISC_BYPASS), until FRAMES frames
// have gone. No permutation, no cookie, no checksum, no receive path: what the kernel's send
// path allows one thread on this machine, which anyscan's af_packet engine is measured
// against. Usage: bare_sendmmsg IFNAME GATEWAY_MAC FRAMES [ipv6]
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "frames.h"

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 5 && std::strcmp(argv[4], "ipv6") == 0)) {
    std::fprintf(stderr, "usage: bare_sendmmsg IFNAME GATEWAY_MAC FRAMES [ipv6]\n");
    return 64;
  }
  const auto gateway = anyscan::parse_mac(argv[2]);
  const unsigned ifindex = ::if_nametoindex(argv[1]);
  const uint64_t total = std::strtoull(argv[3], nullptr, 10);
  if (!gateway || ifindex == 0 || total == 0) {
    std::fprintf(stderr, "bare_sendmmsg: bad interface, MAC or count\n");
    return 64;
  }
  const int fd = ::socket(AF_PACKET, SOCK_RAW, 0);
  const int one = 1;
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_ifindex = static_cast<int>(ifindex);
  if (fd < 0 || ::setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::perror("bare_sendmmsg: socket");
    return 69;
  }
  constexpr size_t kBatch = 64;
  const auto frames =
      anyscan::bench::syn_frames(kBatch, anyscan::MacAddress{}, *gateway, argc == 5);
  const size_t frame_bytes = anyscan::bench::syn_frame_bytes(argc == 5);
  std::vector<iovec> iov(kBatch);
  std::vector<mmsghdr> messages(kBatch);
  for (size_t i = 0; i < kBatch; ++i) {
    iov[i] = iovec{const_cast<uint8_t*>(frames.data() + i * frame_bytes), frame_bytes};
    std::memset(&messages[i], 0, sizeof messages[i]);
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  uint64_t sent = 0;
  while (sent < total) {
    const unsigned want = static_cast<unsigned>(std::min<uint64_t>(kBatch, total - sent));
    const int n = ::sendmmsg(fd, messages.data(), want, 0);
    if (n > 0) {
      sent += static_cast<uint64_t>(n);
    } else if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
      std::perror("bare_sendmmsg: sendmmsg");
      return 74;
    }
  }
  std::printf("sent %llu\n", static_cast<unsigned long long>(sent));
  return 0;
}
