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

  std::vector<sock_filter> finish() const {
    std::vector<sock_filter> out;
    for (size_t i = 0; i < code_.size(); ++i) {
      const Insn& insn = code_[i];
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

constexpr uint32_t kEthType = frame::kEthType;
constexpr uint32_t kIpDst = frame::kIpDst;
constexpr uint32_t kIpFragment = frame::kIpFragment;
constexpr uint32_t kIpProtocol = frame::kIpProtocol;
constexpr uint32_t kIp = frame::kIp;

void emit_rule(Assembler& a, const ReplyFilterRule& rule, Assembler::Label accept) {
  const Assembler::Label next_rule = a.new_label();
  a.op(BPF_LD | BPF_B | BPF_ABS, kIpProtocol);
  a.jump(BPF_JMP | BPF_JEQ | BPF_K, rule.ip_protocol, Assembler::kNext, next_rule);
  a.op(BPF_LDX | BPF_B | BPF_MSH, kIp);  // X = IP header bytes (options included)
  if (rule.ip_protocol == frame::kProtoIcmp) {
    a.op(BPF_LD | BPF_B | BPF_IND, kIp + frame::kIcmpType);
    a.jump(BPF_JMP | BPF_JGE | BPF_K, 32, next_rule, Assembler::kNext);
    a.op(BPF_MISC | BPF_TAX, 0);  // X = type
    a.op(BPF_LD | BPF_IMM, 1);
    a.op(BPF_ALU | BPF_LSH | BPF_X, 0);  // A = 1 << type
    a.jump(BPF_JMP | BPF_JSET | BPF_K, rule.icmp_types, accept, next_rule);
  } else {
    a.op(BPF_LD | BPF_H | BPF_IND, kIp + frame::kTcpDstPort);  // UDP's is at the same offset
    a.jump(BPF_JMP | BPF_JGE | BPF_K, rule.port_first, Assembler::kNext, next_rule);
    a.jump(BPF_JMP | BPF_JGT | BPF_K, rule.port_last, next_rule, accept);
  }
  a.bind(next_rule);
}

}  // namespace

std::vector<sock_filter> reply_bpf_filter(const ReplyFilterSpec& spec, uint32_t snap_bytes) {
  Assembler a;
  const Assembler::Label accept = a.new_label(), drop = a.new_label();
  a.op(BPF_LD | BPF_H | BPF_ABS, kEthType);
  a.jump(BPF_JMP | BPF_JEQ | BPF_K, frame::kEthTypeIpv4, Assembler::kNext, drop);
  a.op(BPF_LD | BPF_W | BPF_ABS, kIpDst);
  a.jump(BPF_JMP | BPF_JGE | BPF_K, spec.local_first.value, Assembler::kNext, drop);
  a.jump(BPF_JMP | BPF_JGT | BPF_K, spec.local_last.value, drop, Assembler::kNext);
  a.op(BPF_LD | BPF_H | BPF_ABS, kIpFragment);
  a.jump(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, drop, Assembler::kNext);
  for (const ReplyFilterRule& rule : spec.rules) emit_rule(a, rule, accept);
  a.bind(drop);  // also where a frame that matched no rule ends up
  a.op(BPF_RET | BPF_K, 0);
  a.bind(accept);
  a.op(BPF_RET | BPF_K, snap_bytes);
  return a.finish();
}

}  // namespace anyscan
