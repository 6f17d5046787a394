#include "base/xdp_features.h"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

namespace anyscan {

namespace {

// include/uapi/linux/netdev.h (6.3+)
constexpr uint8_t kNetdevCmdDevGet = 1;
constexpr uint16_t kNetdevAttrIfindex = 1;
constexpr uint16_t kNetdevAttrXdpFeatures = 3;
constexpr uint16_t kNetdevAttrXdpZcMaxSegs = 4;
constexpr const char* kFamilyName = "netdev";

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

template <typename T>
T load(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

// Calls fn(type, payload) for each attribute of `bytes`; false when one does not fit.
template <typename Fn>
bool for_each_attribute(std::span<const uint8_t> bytes, Fn fn) {
  size_t at = 0;
  while (at + sizeof(nlattr) <= bytes.size()) {
    const auto attr = load<nlattr>(bytes.data() + at);
    if (attr.nla_len < sizeof(nlattr) || attr.nla_len > bytes.size() - at) return false;
    fn(static_cast<uint16_t>(attr.nla_type & NLA_TYPE_MASK),
       bytes.subspan(at + NLA_HDRLEN, attr.nla_len - NLA_HDRLEN));
    at += align4(attr.nla_len);
  }
  return true;
}

// Calls fn(header, payload after the genl header) for each message; NLMSG_ERROR with an
// errno and NLMSG_DONE are handled here (*done). Errors name what is wrong.
template <typename Fn>
Result<void> for_each_message(std::span<const uint8_t> bytes, bool* done, int* error_number,
                              Fn fn) {
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < sizeof(nlmsghdr))
      return make_error(ExitCode::kSoftware, "netlink: a truncated message header");
    const auto header = load<nlmsghdr>(bytes.data() + at);
    if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > bytes.size() - at)
      return make_error(ExitCode::kSoftware, "netlink: a message longer than the reply");
    const std::span<const uint8_t> body =
        bytes.subspan(at + NLMSG_HDRLEN, header.nlmsg_len - NLMSG_HDRLEN);
    at += align4(header.nlmsg_len);
    if (header.nlmsg_type == NLMSG_DONE) {
      if (done != nullptr) *done = true;
      continue;
    }
    if (header.nlmsg_type == NLMSG_ERROR) {
      if (body.size() < sizeof(int32_t))
        return make_error(ExitCode::kSoftware, "netlink: a truncated error");
      const int32_t error = load<int32_t>(body.data());
      if (error == 0) continue;  // an acknowledgement
      if (error_number != nullptr) *error_number = -error;
      return make_error(ExitCode::kUnavailable, errno_message("netlink netdev", -error));
    }
    if (body.size() < GENL_HDRLEN)
      return make_error(ExitCode::kSoftware, "netlink: a message without its genl header");
    if (auto handled = fn(header, body.subspan(GENL_HDRLEN)); !handled) return handled;
  }
  return {};
}

struct Socket {
  UniqueFd fd;
  uint32_t seq = 1;
};

Result<Socket> open_socket() {
  Socket s;
  s.fd.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
  if (!s.fd.valid())
    return make_error(ExitCode::kUnavailable, errno_message("netlink generic socket", errno));
  const timeval timeout{2, 0};
  ::setsockopt(s.fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return s;
}

// One request: header, genl header, attributes (already encoded).
Result<void> send_request(Socket& s, uint16_t type, uint16_t flags, uint8_t cmd,
                          const std::vector<uint8_t>& attributes) {
  std::vector<uint8_t> message(NLMSG_HDRLEN + GENL_HDRLEN + attributes.size());
  nlmsghdr header{};
  header.nlmsg_len = static_cast<uint32_t>(message.size());
  header.nlmsg_type = type;
  header.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  header.nlmsg_seq = s.seq++;
  genlmsghdr genl{};
  genl.cmd = cmd;
  genl.version = 1;
  std::memcpy(message.data(), &header, sizeof header);
  std::memcpy(message.data() + NLMSG_HDRLEN, &genl, sizeof genl);
  if (!attributes.empty())  // a dump has none (and memcpy from no buffer is undefined)
    std::memcpy(message.data() + NLMSG_HDRLEN + GENL_HDRLEN, attributes.data(), attributes.size());
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(s.fd.get(), message.data(), message.size(), 0,
               reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) < 0)
    return make_error(ExitCode::kUnavailable, errno_message("netlink send", errno));
  return {};
}

Result<std::vector<uint8_t>> receive(Socket& s) {
  std::vector<uint8_t> buffer(64 * 1024);
  ssize_t n;
  do {
    n = ::recv(s.fd.get(), buffer.data(), buffer.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return make_error(ExitCode::kUnavailable, errno_message("netlink receive", errno));
  buffer.resize(static_cast<size_t>(n));
  return buffer;
}

std::vector<uint8_t> attribute(uint16_t type, const void* data, size_t size) {
  std::vector<uint8_t> out(align4(NLA_HDRLEN + size), 0);
  const nlattr attr{static_cast<uint16_t>(NLA_HDRLEN + size), type};
  std::memcpy(out.data(), &attr, sizeof attr);
  std::memcpy(out.data() + NLA_HDRLEN, data, size);
  return out;
}

Result<std::optional<uint16_t>> netdev_family(Socket& s,
                                              std::vector<std::vector<uint8_t>>* raw = nullptr) {
  if (auto sent =
          send_request(s, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY,
                       attribute(CTRL_ATTR_FAMILY_NAME, kFamilyName, std::strlen(kFamilyName) + 1));
      !sent)
    return tl::unexpected(sent.error());
  auto reply = receive(s);
  if (!reply) return tl::unexpected(reply.error());
  if (raw != nullptr) raw->push_back(*reply);
  return parse_family_reply(*reply);
}

}  // namespace

std::string xdp_feature_names(uint64_t features) {
  static const char* const kNames[] = {"basic",      "redirect", "ndo-xmit",   "xsk-zerocopy",
                                       "hw-offload", "rx-sg",    "ndo-xmit-sg"};
  if (features == 0) return "none";
  std::string out;
  for (int bit = 0; bit < 64; ++bit) {
    if ((features & (uint64_t{1} << bit)) == 0) continue;
    if (!out.empty()) out += ',';
    out += bit < 7 ? kNames[bit] : "bit" + std::to_string(bit);
  }
  return out;
}

Result<std::optional<uint16_t>> parse_family_reply(std::span<const uint8_t> bytes) {
  std::optional<uint16_t> id;
  bool done = false;
  int error_number = 0;
  auto walked = for_each_message(
      bytes, &done, &error_number,
      [&](const nlmsghdr&, std::span<const uint8_t> body) -> Result<void> {
        if (!for_each_attribute(body, [&](uint16_t type, std::span<const uint8_t> value) {
              if (type == CTRL_ATTR_FAMILY_ID && value.size() >= sizeof(uint16_t))
                id = load<uint16_t>(value.data());
            }))
          return make_error(ExitCode::kSoftware, "netlink: an attribute longer than its message");
        return Result<void>{};
      });
  if (!walked) {
    if (error_number == ENOENT)
      return std::optional<uint16_t>();  // no netdev family: a kernel before 6.3
    return tl::unexpected(walked.error());
  }
  if (!id) return make_error(ExitCode::kSoftware, "netlink: the controller named no family id");
  return id;
}

Result<std::vector<InterfaceXdp>> parse_dev_replies(std::span<const uint8_t> bytes, uint16_t family,
                                                    bool* done) {
  std::vector<InterfaceXdp> out;
  auto walked = for_each_message(
      bytes, done, nullptr,
      [&](const nlmsghdr& header, std::span<const uint8_t> body) -> Result<void> {
        if (header.nlmsg_type != family) return Result<void>{};  // not a netdev message
        InterfaceXdp dev;
        bool ifindex = false;
        if (!for_each_attribute(body, [&](uint16_t type, std::span<const uint8_t> value) {
              if (type == kNetdevAttrIfindex && value.size() >= 4) {
                dev.ifindex = static_cast<int>(load<uint32_t>(value.data()));
                ifindex = true;
              } else if (type == kNetdevAttrXdpFeatures && value.size() >= 8) {
                dev.features = load<uint64_t>(value.data());
              } else if (type == kNetdevAttrXdpZcMaxSegs && value.size() >= 4) {
                dev.zc_max_segs = load<uint32_t>(value.data());
              }
            }))
          return make_error(ExitCode::kSoftware, "netlink: an attribute longer than its message");
        if (!ifindex) return make_error(ExitCode::kSoftware, "netlink: a device without ifindex");
        out.push_back(dev);
        return Result<void>{};
      });
  if (!walked) return tl::unexpected(walked.error());
  return out;
}

Result<std::optional<std::vector<InterfaceXdp>>> read_xdp_features(
    std::vector<std::vector<uint8_t>>* raw) {
  auto s = open_socket();
  if (!s) return tl::unexpected(s.error());
  auto family = netdev_family(*s, raw);
  if (!family) return tl::unexpected(family.error());
  if (!*family) return std::optional<std::vector<InterfaceXdp>>();
  if (auto sent = send_request(*s, **family, NLM_F_DUMP, kNetdevCmdDevGet, {}); !sent)
    return tl::unexpected(sent.error());
  std::vector<InterfaceXdp> all;
  bool done = false;
  while (!done) {
    auto reply = receive(*s);
    if (!reply) return tl::unexpected(reply.error());
    if (raw != nullptr) raw->push_back(*reply);
    auto devices = parse_dev_replies(*reply, **family, &done);
    if (!devices) return tl::unexpected(devices.error());
    all.insert(all.end(), devices->begin(), devices->end());
  }
  return std::optional<std::vector<InterfaceXdp>>(std::move(all));
}

Result<std::optional<InterfaceXdp>> read_xdp_features(int ifindex) {
  auto s = open_socket();
  if (!s) return tl::unexpected(s.error());
  auto family = netdev_family(*s);
  if (!family) return tl::unexpected(family.error());
  if (!*family) return std::optional<InterfaceXdp>();
  const uint32_t index = static_cast<uint32_t>(ifindex);
  if (auto sent = send_request(*s, **family, 0, kNetdevCmdDevGet,
                               attribute(kNetdevAttrIfindex, &index, sizeof index));
      !sent)
    return tl::unexpected(sent.error());
  auto reply = receive(*s);
  if (!reply) return tl::unexpected(reply.error());
  auto devices = parse_dev_replies(*reply, **family, nullptr);
  if (!devices) return tl::unexpected(devices.error());
  for (const InterfaceXdp& d : *devices)
    if (d.ifindex == ifindex) return std::optional<InterfaceXdp>(d);
  return make_error(ExitCode::kSoftware,
                    "netlink netdev: no answer for interface " + std::to_string(ifindex));
}

}  // namespace anyscan
