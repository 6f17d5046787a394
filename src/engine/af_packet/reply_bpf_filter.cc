#include "engine/af_packet/reply_bpf_filter.h"

#include <cstddef>
#include <cstdint>

#include "net/frame_layout.h"

namespace anyscan {
namespace {

// A tiny assembler: jumps name labels, resolved to relative offsets at the end.
class Assembler {
 public:
  using Label = uint32_t;
  static constexpr Label kNext = 0;

  Label new_label() { return static_cast<Label>(++labels_); }
  void bind(Label label) { bound_.push_back({label, code_.size()}); }
  void op(uint16_t code, uint32_t k) { code_.push_back({code, kNext, kNext, k}); }
  void jump(uint16_t code, uint32_t k, Label if_true, Label if_false) {
    code_.push_back({code, if_true, if_false, k});
  }
  // An unconditional jump (BPF_JA, whose offset is k).
  void go_to(Label label) { code_.push_back({BPF_JMP | BPF_JA, label, kNext, 0}); }

  std::vector<sock_filter> finish() const {
    std::vector<sock_filter> out;
    for (size_t i = 0; i < code_.size(); ++i) {
      const Insn& insn = code_[i];
      if (insn.code == (BPF_JMP | BPF_JA))
        out.push_back(sock_filter{insn.code, 0, 0, offset(insn.jt, i)});
      else
        out.push_back(sock_filter{insn.code, offset(insn.jt, i), offset(insn.jf, i), insn.k});
    }
    return out;
  }

 private:
  struct Insn {
    uint16_t code;
    Label jt, jf;
    uint32_t k;
  };
  uint8_t offset(Label label, size_t from) const {
    if (label == kNext) return 0;
    for (const auto& [name, at] : bound_)
      if (name == label) return static_cast<uint8_t>(at - from - 1);  // programs stay far below 255
    return 0;
  }

  std::vector<Insn> code_;
  std::vector<std::pair<Label, size_t>> bound_;
  size_t labels_ = 0;
};

// Where the IP header starts in what the filter sees: after the Ethernet header, or at 0 on
// a cooked socket (frame_layout's offsets, which count the Ethernet header, are moved by
// the difference).
struct Layout {
  uint32_t ip;
  uint32_t at(size_t frame_offset) const {
    return static_cast<uint32_t>(frame_offset - frame::kIp) + ip;
  }
};

void emit_rule(Assembler& a, const Layout& l, const ReplyFilterRule& rule,
               Assembler::Label accept) {
  const uint32_t ip = l.ip;
  const Assembler::Label next_rule = a.new_label();
  a.op(BPF_LD | BPF_B | BPF_ABS, l.at(frame::kIpProtocol));
  a.jump(BPF_JMP | BPF_JEQ | BPF_K, rule.ip_protocol, Assembler::kNext, next_rule);
  a.op(BPF_LDX | BPF_B | BPF_MSH, ip);  // X = IP header bytes (options included)
  if (rule.ip_protocol == frame::kProtoIcmp) {
    a.op(BPF_LD | BPF_B | BPF_IND, ip + frame::kIcmpType);
    a.jump(BPF_JMP | BPF_JGE | BPF_K, 32, next_rule, Assembler::kNext);
    a.op(BPF_MISC | BPF_TAX, 0);  // X = type
    a.op(BPF_LD | BPF_IMM, 1);
    a.op(BPF_ALU | BPF_LSH | BPF_X, 0);  // A = 1 << type
    a.jump(BPF_JMP | BPF_JSET | BPF_K, rule.icmp_types, accept, next_rule);
  } else {
    a.op(BPF_LD | BPF_H | BPF_IND, ip + frame::kTcpDstPort);  // UDP's is at the same offset
    a.jump(BPF_JMP | BPF_JGE | BPF_K, rule.port_first, Assembler::kNext, next_rule);
    a.jump(BPF_JMP | BPF_JGT | BPF_K, rule.port_last, next_rule, accept);
  }
  a.bind(next_rule);
}

// An IPv6 rule, for a packet without extension headers: the upper layer at a fixed offset.
void emit_rule6(Assembler& a, const Layout& l, const ReplyFilterRule& rule,
                Assembler::Label accept) {
  const uint32_t ip = l.ip;
  const uint32_t l4 = ip + frame::kIpv6HeaderBytes;
  const Assembler::Label next_rule = a.new_label();
  a.op(BPF_LD | BPF_B | BPF_ABS, ip + frame::kIpv6NextHeader);
  a.jump(BPF_JMP | BPF_JEQ | BPF_K, rule.ip_protocol, Assembler::kNext, next_rule);
  if (rule.ip_protocol == frame::kProtoIcmpv6) {
    // The type's bit (icmp6_type_index): 0-15 as is, 128-143 as 16-31, others none.
    const Assembler::Label indexed = a.new_label();
    a.op(BPF_LD | BPF_B | BPF_ABS, l4 + frame::kIcmpType);
    a.jump(BPF_JMP | BPF_JGE | BPF_K, 144, next_rule, Assembler::kNext);
    const Assembler::Label low = a.new_label();
    a.jump(BPF_JMP | BPF_JGE | BPF_K, 128, Assembler::kNext, low);
    a.op(BPF_ALU | BPF_SUB | BPF_K, 112);
    a.go_to(indexed);
    a.bind(low);
    a.jump(BPF_JMP | BPF_JGE | BPF_K, 16, next_rule, Assembler::kNext);
    a.bind(indexed);
    a.op(BPF_MISC | BPF_TAX, 0);
    a.op(BPF_LD | BPF_IMM, 1);
    a.op(BPF_ALU | BPF_LSH | BPF_X, 0);
    a.jump(BPF_JMP | BPF_JSET | BPF_K, rule.icmp_types, accept, next_rule);
  } else {
    a.op(BPF_LD | BPF_H | BPF_ABS, l4 + frame::kTcpDstPort);
    a.jump(BPF_JMP | BPF_JGE | BPF_K, rule.port_first, Assembler::kNext, next_rule);
    a.jump(BPF_JMP | BPF_JGT | BPF_K, rule.port_last, next_rule, accept);
  }
  a.bind(next_rule);
}

void emit_ipv6(Assembler& a, const Layout& l, const ReplyFilterSpec& spec, Assembler::Label accept,
               Assembler::Label drop) {
  const uint32_t ip = l.ip;
  // Our addresses: the first 96 bits equal, the last 32 in range (spec: within one /96).
  uint8_t first[16], last[16];
  spec.local6_first.to_bytes(first);
  spec.local6_last.to_bytes(last);
  const uint32_t dst = ip + frame::kIpv6Dst;
  for (uint32_t word = 0; word < 3; ++word) {
    a.op(BPF_LD | BPF_W | BPF_ABS, dst + 4 * word);
    a.jump(BPF_JMP | BPF_JEQ | BPF_K, load_be32(first + 4 * word), Assembler::kNext, drop);
  }
  a.op(BPF_LD | BPF_W | BPF_ABS, dst + 12);
  a.jump(BPF_JMP | BPF_JGE | BPF_K, load_be32(first + 12), Assembler::kNext, drop);
  a.jump(BPF_JMP | BPF_JGT | BPF_K, load_be32(last + 12), drop, Assembler::kNext);
  // Extension headers: admitted by address alone; user space walks the chain (and counts a
  // later fragment or a chain it cannot walk).
  a.op(BPF_LD | BPF_B | BPF_ABS, ip + frame::kIpv6NextHeader);
  for (uint8_t header : {frame::kProtoHopByHop, frame::kProtoRouting, frame::kProtoFragment,
                         frame::kProtoDestinationOptions, frame::kProtoAuthentication})
    a.jump(BPF_JMP | BPF_JEQ | BPF_K, header, accept, Assembler::kNext);
  for (const ReplyFilterRule& rule : spec.rules)
    if (rule.family == IpFamily::kIpv6) emit_rule6(a, l, rule, accept);
}

}  // namespace

std::vector<sock_filter> reply_bpf_filter(const ReplyFilterSpec& spec, uint32_t snap_bytes,
                                          bool cooked) {
  Assembler a;
  const Layout l{cooked ? 0u : static_cast<uint32_t>(frame::kIp)};
  const Assembler::Label accept = a.new_label(), drop = a.new_label();
  const Assembler::Label ipv6 = a.new_label();
  // The family: the EtherType, or on a cooked socket the packet's protocol as the kernel
  // set it (the same numbers).
  a.op(BPF_LD | BPF_H | BPF_ABS,
       cooked ? static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL) : uint32_t{frame::kEthType});
  a.jump(BPF_JMP | BPF_JEQ | BPF_K, frame::kEthTypeIpv4, Assembler::kNext, ipv6);
  if (spec.has_ipv4) {
    a.op(BPF_LD | BPF_W | BPF_ABS, l.at(frame::kIpDst));
    a.jump(BPF_JMP | BPF_JGE | BPF_K, spec.local_first.value, Assembler::kNext, drop);
    a.jump(BPF_JMP | BPF_JGT | BPF_K, spec.local_last.value, drop, Assembler::kNext);
    a.op(BPF_LD | BPF_H | BPF_ABS, l.at(frame::kIpFragment));
    a.jump(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, drop, Assembler::kNext);
    for (const ReplyFilterRule& rule : spec.rules)
      if (rule.family == IpFamily::kIpv4) emit_rule(a, l, rule, accept);
  }
  a.go_to(drop);
  a.bind(ipv6);
  if (spec.has_ipv6) {
    a.jump(BPF_JMP | BPF_JEQ | BPF_K, frame::kEthTypeIpv6, Assembler::kNext, drop);
    emit_ipv6(a, l, spec, accept, drop);
  }
  a.bind(drop);  // also where a frame that matched no rule ends up
  a.op(BPF_RET | BPF_K, 0);
  a.bind(accept);
  a.op(BPF_RET | BPF_K, snap_bytes);
  return a.finish();
}

}  // namespace anyscan
