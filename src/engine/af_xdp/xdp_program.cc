#include "engine/af_xdp/xdp_program.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "base/log.h"
#include "net/frame_layout.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "engine/af_xdp/reply_filter.skel.h"
#pragma GCC diagnostic pop

namespace anyscan {
namespace {

// libbpf reports the kernel's netlink extended ack as "Kernel error message: ...": while
// set, the print callback keeps the last such line here.
thread_local std::string* g_kernel_message = nullptr;

int print_to_log(enum libbpf_print_level level, const char* format, va_list args) {
  // Whole messages: a verifier log runs to many kilobytes and says why a load failed.
  va_list copy;
  va_copy(copy, args);
  const int wanted = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string text(static_cast<size_t>(std::max(wanted, 0)) + 1, '\0');
  std::vsnprintf(text.data(), text.size(), format, args);
  text.resize(static_cast<size_t>(std::max(wanted, 0)));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const char* buffer = text.c_str();
  const size_t n = text.size();
  constexpr std::string_view kPrefix = "Kernel error message: ";
  if (g_kernel_message != nullptr) {
    const std::string_view line(buffer, n);
    if (const size_t at = line.find(kPrefix); at != std::string_view::npos)
      *g_kernel_message = std::string(line.substr(at + kPrefix.size()));
  }
  if (log_enabled(level == LIBBPF_WARN ? LogLevel::kDebug : LogLevel::kTrace))
    log_message(LogLevel::kDebug, std::string("libbpf: ") + buffer);
  return 0;
}

int print_libxdp(enum libxdp_print_level level, const char* format, va_list args) {
  return print_to_log(static_cast<libbpf_print_level>(level), format, args);
}

tl::unexpected<Error> fail(const std::string& step, int err, const std::string& hint) {
  return make_error(ExitCode::kUnavailable, "AF_XDP: " + step + ": " + std::strerror(err) +
                                                (hint.empty() ? "" : " (" + hint + ")"));
}

// bpf_link_create carries no extended ack; a netlink attach of the same program in the
// same mode does, and fails the same way (then nothing is attached). If it succeeds after
// all, it is undone at once: the scan only ever runs on the bpf_link.
std::string kernel_explanation(int ifindex, int program_fd, uint32_t xdp_flags) {
  std::string message;
  g_kernel_message = &message;
  const int err =
      bpf_xdp_attach(ifindex, program_fd, xdp_flags | XDP_FLAGS_UPDATE_IF_NOEXIST, nullptr);
  g_kernel_message = nullptr;
  if (err == 0) bpf_xdp_detach(ifindex, xdp_flags, nullptr);
  return message;
}

}  // namespace

void route_libbpf_messages_to_log() {
  libbpf_set_print(print_to_log);
  libxdp_set_print(print_libxdp);
}

void XdpProgram::SkeletonDeleter::operator()(reply_filter* skeleton) const {
  reply_filter__destroy(skeleton);
}

XdpProgram::XdpProgram(std::unique_ptr<reply_filter, SkeletonDeleter> skeleton,
                       MappedMemory counters)
    : skeleton_(std::move(skeleton)), counters_(std::move(counters)) {}
XdpProgram::XdpProgram(XdpProgram&&) noexcept = default;
XdpProgram::~XdpProgram() = default;  // members go in reverse order: link, counters, skeleton

Result<XdpProgram> XdpProgram::load(const ReplyFilterSpec& spec) {
  if (spec.rules.empty() || spec.rules.size() > ReplyFilterSpec::kMaxRules)
    return make_error(ExitCode::kSoftware, "AF_XDP: the probe module's reply filter has " +
                                               std::to_string(spec.rules.size()) + " rules (1-" +
                                               std::to_string(ReplyFilterSpec::kMaxRules) +
                                               " fit the XDP program)");
  std::unique_ptr<reply_filter, SkeletonDeleter> skeleton(reply_filter__open());
  if (!skeleton) return fail("opening the embedded XDP program", errno, "");
  auto* config = skeleton->rodata;
  config->cfg_has_ipv4 = spec.has_ipv4 ? 1 : 0;
  config->cfg_local_first = spec.local_first.value;
  config->cfg_local_last = spec.local_last.value;
  config->cfg_has_ipv6 = spec.has_ipv6 ? 1 : 0;
  uint8_t first6[16], last6[16];
  spec.local6_first.to_bytes(first6);
  spec.local6_last.to_bytes(last6);
  for (size_t word = 0; word < 3; ++word)
    config->cfg_local6_prefix[word] = load_be32(first6 + 4 * word);
  config->cfg_local6_low_first = load_be32(first6 + 12);
  config->cfg_local6_low_last = load_be32(last6 + 12);
  config->cfg_rule_count = static_cast<uint32_t>(spec.rules.size());
  for (size_t i = 0; i < spec.rules.size(); ++i) {
    config->cfg_rule_family[i] = static_cast<uint8_t>(spec.rules[i].family);
    config->cfg_rule_protocol[i] = spec.rules[i].ip_protocol;
    config->cfg_rule_port_first[i] = spec.rules[i].port_first;
    config->cfg_rule_port_last[i] = spec.rules[i].port_last;
    config->cfg_rule_icmp_types[i] = spec.rules[i].icmp_types;
  }
  if (int err = reply_filter__load(skeleton.get()); err != 0)
    return fail("loading the XDP program", -err, "needs CAP_BPF and CAP_NET_ADMIN");
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t bytes = (sizeof(XdpQueueCounters) * (kMaxQueues + 1) + page - 1) / page * page;
  void* counters =
      ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, bpf_map__fd(skeleton->maps.queue_counters), 0);
  if (counters == MAP_FAILED) return fail("mapping the XDP program's counters", errno, "");
  return XdpProgram(std::move(skeleton), MappedMemory(counters, bytes));
}

Result<void> XdpProgram::attach(int ifindex, const std::string& interface, uint32_t xdp_flags,
                                const char* mode_name) {
  if (attached_flags_ == xdp_flags) return {};
  detach();
  const int program_fd = bpf_program__fd(skeleton_->progs.anyscan_reply_filter);
  bpf_link_create_opts options{};  // LIBBPF_OPTS is a C99 compound literal
  options.sz = sizeof options;
  options.flags = xdp_flags;
  const int link = bpf_link_create(program_fd, ifindex, BPF_XDP, &options);
  if (link < 0) {
    const int err = errno;
    const std::string kernel = kernel_explanation(ifindex, program_fd, xdp_flags);
    return make_error(ExitCode::kUnavailable, "attaching the XDP program to " + interface + " (" +
                                                  mode_name + "): " + std::strerror(err) +
                                                  (kernel.empty() ? "" : " - kernel: " + kernel) +
                                                  " (needs CAP_NET_ADMIN and CAP_BPF)");
  }
  link_.reset(link);
  attached_flags_ = xdp_flags;
  return {};
}

void XdpProgram::detach() {
  link_.reset();
  attached_flags_ = 0;
}

int XdpProgram::xsk_map_fd() const { return bpf_map__fd(skeleton_->maps.xsks_map); }

XdpQueueCounters XdpProgram::queue_counters(uint32_t queue) const {
  // The map's values are laid out as XdpQueueCounters (five u64, as in the .bpf.c).
  constexpr size_t kWords = 5;
  static_assert(sizeof(XdpQueueCounters) == kWords * sizeof(uint64_t));
  const auto* all = static_cast<const uint64_t*>(counters_.get());
  const uint64_t* c = all + kWords * size_t{queue < kMaxQueues ? queue : kMaxQueues};
  auto load = [](const uint64_t& v) { return __atomic_load_n(&v, __ATOMIC_RELAXED); };
  return XdpQueueCounters{load(c[0]), load(c[1]), load(c[2]), load(c[3]), load(c[4])};
}

}  // namespace anyscan
