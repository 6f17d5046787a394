#include "engine/af_packet/reply_bpf_filter.h"

namespace anyscan {

std::vector<sock_filter> reply_bpf_filter(const ReplyFilter& filter, uint32_t snap_bytes) {
  // Jumps are written to symbolic labels and resolved at the end.
  constexpr uint8_t kNext = 0, kDrop = 254, kAccept = 255;
  struct Insn { uint16_t code; uint8_t jt, jf; uint32_t k; };
  std::vector<Insn> p = {
      {BPF_LD | BPF_H | BPF_ABS, kNext, kNext, 12},                // ethertype
      {BPF_JMP | BPF_JEQ | BPF_K, kNext, kDrop, 0x0800},
      {BPF_LD | BPF_W | BPF_ABS, kNext, kNext, 30},                // IPv4 daddr
      {BPF_JMP | BPF_JEQ | BPF_K, kNext, kDrop, filter.local_ip.value},
      {BPF_LD | BPF_H | BPF_ABS, kNext, kNext, 20},                // flags + fragment offset
      {BPF_JMP | BPF_JSET | BPF_K, kDrop, kNext, 0x1fff},
      {BPF_LD | BPF_B | BPF_ABS, kNext, kNext, 23},                // protocol
  };
  if (filter.ip_protocol == 6 || filter.ip_protocol == 17) {
    p.push_back({BPF_JMP | BPF_JEQ | BPF_K, kNext, kDrop, filter.ip_protocol});
    p.push_back({BPF_LDX | BPF_B | BPF_MSH, kNext, kNext, 14});    // X = IP header bytes
    p.push_back({BPF_LD | BPF_H | BPF_IND, kNext, kNext, 14 + 2}); // destination port
    p.push_back({BPF_JMP | BPF_JGE | BPF_K, kNext, kDrop, filter.port_first});
    p.push_back({BPF_JMP | BPF_JGT | BPF_K, kDrop, kAccept, filter.port_last});
  } else {
    p.push_back({BPF_JMP | BPF_JEQ | BPF_K, kAccept, kDrop, filter.ip_protocol});
  }
  const size_t accept_at = p.size();
  const size_t drop_at = p.size() + 1;
  std::vector<sock_filter> out;
  for (size_t i = 0; i < p.size(); ++i) {
    auto resolve = [&](uint8_t label) -> uint8_t {
      if (label == kDrop) return static_cast<uint8_t>(drop_at - i - 1);
      if (label == kAccept) return static_cast<uint8_t>(accept_at - i - 1);
      return 0;
    };
    out.push_back(sock_filter{p[i].code, resolve(p[i].jt), resolve(p[i].jf), p[i].k});
  }
  out.push_back(sock_filter{BPF_RET | BPF_K, 0, 0, snap_bytes});
  out.push_back(sock_filter{BPF_RET | BPF_K, 0, 0, 0});
  return out;
}

}  // namespace anyscan
