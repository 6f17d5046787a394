#include "host/netlink_client.h"

#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace anyscan {
namespace {

template <class Payload>
struct Request {
  nlmsghdr header;
  Payload payload;
  char attributes[64];
};

void add_attribute(nlmsghdr* header, uint16_t type, const void* data, size_t bytes) {
  auto* attribute =
      reinterpret_cast<rtattr*>(reinterpret_cast<char*>(header) + NLMSG_ALIGN(header->nlmsg_len));
  attribute->rta_type = type;
  attribute->rta_len = static_cast<unsigned short>(RTA_LENGTH(bytes));
  std::memcpy(RTA_DATA(attribute), data, bytes);
  header->nlmsg_len = NLMSG_ALIGN(header->nlmsg_len) + RTA_ALIGN(attribute->rta_len);
}

// NLMSG_OK without its signed/unsigned comparison.
bool message_ok(const nlmsghdr* msg, int remaining) {
  return remaining >= static_cast<int>(sizeof(nlmsghdr)) && msg->nlmsg_len >= sizeof(nlmsghdr) &&
         msg->nlmsg_len <= static_cast<unsigned>(remaining);
}

uint32_t attribute_be32(const rtattr* attribute) {
  uint32_t value;
  std::memcpy(&value, RTA_DATA(attribute), 4);
  return ntohl(value);
}

}  // namespace

Result<QueueCounts> interface_queues(const std::string& interface) {
  if (interface.size() >= IFNAMSIZ)
    return make_error(ExitCode::kUsage, "interface name too long: " + interface);
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid())
    return make_error(ExitCode::kUnavailable, errno_message("socket for ETHTOOL_GCHANNELS", errno));
  ethtool_channels channels{};
  channels.cmd = ETHTOOL_GCHANNELS;
  ifreq request{};
  std::memcpy(request.ifr_name, interface.c_str(), interface.size());
  request.ifr_data = reinterpret_cast<char*>(&channels);
  if (::ioctl(fd.get(), SIOCETHTOOL, &request) != 0)
    return make_error(
        ExitCode::kUnavailable,
        errno_message("reading the queue count of " + interface + " (ETHTOOL_GCHANNELS)", errno));
  QueueCounts counts;
  counts.rx = std::max(1u, channels.rx_count + channels.combined_count);
  counts.tx = std::max(1u, channels.tx_count + channels.combined_count);
  return counts;
}

Result<NetlinkClient> NetlinkClient::open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid())
    return make_error(ExitCode::kUnavailable, errno_message("opening rtnetlink socket", errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
    return make_error(ExitCode::kUnavailable, errno_message("binding rtnetlink socket", errno));
  return NetlinkClient(std::move(fd));
}

Result<std::vector<std::vector<uint8_t>>> NetlinkClient::transact(void* request, size_t bytes,
                                                                  bool dump) {
  auto* header = static_cast<nlmsghdr*>(request);
  header->nlmsg_seq = sequence_++;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_.get(), request, bytes, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) <
      0)
    return make_error(ExitCode::kUnavailable, errno_message("rtnetlink request", errno));
  std::vector<std::vector<uint8_t>> answers;
  std::vector<uint8_t> buffer(1 << 16);
  while (true) {
    const ssize_t received = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
    if (received < 0) {
      if (errno == EINTR) continue;
      return make_error(ExitCode::kUnavailable, errno_message("rtnetlink answer", errno));
    }
    int remaining = static_cast<int>(received);
    for (auto* msg = reinterpret_cast<nlmsghdr*>(buffer.data()); message_ok(msg, remaining);
         msg = NLMSG_NEXT(msg, remaining)) {
      if (msg->nlmsg_seq != header->nlmsg_seq) continue;
      if (msg->nlmsg_type == NLMSG_DONE) return answers;
      if (msg->nlmsg_type == NLMSG_ERROR) {
        const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(msg));
        if (error->error == 0) return answers;
        return make_error(ExitCode::kUnavailable, errno_message("rtnetlink", -error->error));
      }
      const auto* bytes_begin = reinterpret_cast<const uint8_t*>(msg);
      answers.emplace_back(bytes_begin, bytes_begin + msg->nlmsg_len);
      if (!dump) return answers;
    }
  }
}

namespace {

int family_of(IpAddress address) { return address.is_ipv4() ? AF_INET : AF_INET6; }

// The address as the kernel carries it: 4 or 16 bytes, network order.
size_t address_bytes(IpAddress address, uint8_t* out) {
  if (address.is_ipv4()) {
    const uint32_t be = htonl(address.ipv4());
    std::memcpy(out, &be, 4);
    return 4;
  }
  address.to_bytes(out);
  return 16;
}

std::optional<IpAddress> attribute_address(const rtattr* a) {
  if (RTA_PAYLOAD(a) == 4) return IpAddress::v4(attribute_be32(a));
  if (RTA_PAYLOAD(a) == 16)
    return IpAddress::from_bytes(static_cast<const uint8_t*>(RTA_DATA(const_cast<rtattr*>(a))));
  return std::nullopt;
}

}  // namespace

Result<RouteInfo> NetlinkClient::route_to(IpAddress dst, int oif) {
  Request<rtmsg> request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  request.header.nlmsg_type = RTM_GETROUTE;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.payload.rtm_family = static_cast<unsigned char>(family_of(dst));
  uint8_t destination[16];
  const size_t bytes = address_bytes(dst, destination);
  request.payload.rtm_dst_len = static_cast<unsigned char>(bytes * 8);
  add_attribute(&request.header, RTA_DST, destination, bytes);
  if (oif != 0) add_attribute(&request.header, RTA_OIF, &oif, 4);
  auto answers = transact(&request, request.header.nlmsg_len, false);
  if (!answers) return tl::unexpected(with_context(answers.error(), "route to " + to_string(dst)));
  if (answers->empty()) return make_error(ExitCode::kUnavailable, "no route to " + to_string(dst));
  const auto* msg = reinterpret_cast<const nlmsghdr*>(answers->front().data());
  const auto* route = static_cast<const rtmsg*>(NLMSG_DATA(msg));
  RouteInfo info;
  int length = static_cast<int>(RTM_PAYLOAD(msg));
  for (auto* a = RTM_RTA(route); RTA_OK(a, length); a = RTA_NEXT(a, length)) {
    if (a->rta_type == RTA_OIF) std::memcpy(&info.ifindex, RTA_DATA(a), 4);
    if (a->rta_type == RTA_PREFSRC) info.preferred_source = attribute_address(a);
    if (a->rta_type == RTA_GATEWAY) info.gateway = attribute_address(a);
  }
  if (route->rtm_type != RTN_UNICAST || info.ifindex == 0)
    return make_error(ExitCode::kUnavailable, "no unicast route to " + to_string(dst));
  return info;
}

Result<std::optional<MacAddress>> NetlinkClient::neighbour_mac(int ifindex, IpAddress address) {
  Request<ndmsg> request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(ndmsg));
  request.header.nlmsg_type = RTM_GETNEIGH;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.payload.ndm_family = static_cast<unsigned char>(family_of(address));
  auto answers = transact(&request, request.header.nlmsg_len, true);
  if (!answers) return tl::unexpected(with_context(answers.error(), "neighbour table"));
  constexpr uint16_t kUsable =
      NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
  for (const auto& answer : *answers) {
    const auto* msg = reinterpret_cast<const nlmsghdr*>(answer.data());
    const auto* neighbour = static_cast<const ndmsg*>(NLMSG_DATA(msg));
    if (neighbour->ndm_ifindex != ifindex || (neighbour->ndm_state & kUsable) == 0) continue;
    int length = static_cast<int>(msg->nlmsg_len - NLMSG_LENGTH(sizeof(ndmsg)));
    std::optional<IpAddress> destination;
    std::optional<MacAddress> mac;
    for (auto* a = reinterpret_cast<rtattr*>(const_cast<ndmsg*>(neighbour) + 1); RTA_OK(a, length);
         a = RTA_NEXT(a, length)) {
      if (a->rta_type == NDA_DST) destination = attribute_address(a);
      if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
        MacAddress m;
        std::memcpy(m.bytes.data(), RTA_DATA(a), 6);
        mac = m;
      }
    }
    if (destination == address && mac && !mac->is_zero()) return mac;
  }
  return std::optional<MacAddress>{};
}

Result<void> NetlinkClient::request_neighbour(int ifindex, IpAddress address) {
  Request<ndmsg> request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(ndmsg));
  request.header.nlmsg_type = RTM_NEWNEIGH;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
  request.payload.ndm_family = static_cast<unsigned char>(family_of(address));
  request.payload.ndm_ifindex = ifindex;
  request.payload.ndm_state = NUD_NONE;
  request.payload.ndm_flags = NTF_USE;
  uint8_t destination[16];
  add_attribute(&request.header, NDA_DST, destination, address_bytes(address, destination));
  auto answers = transact(&request, request.header.nlmsg_len, false);
  if (!answers)
    return tl::unexpected(with_context(answers.error(), "resolving " + to_string(address)));
  return {};
}

Result<InterfaceInfo> NetlinkClient::interface_by_name(const std::string& name) {
  if (name.empty() || name.size() >= IF_NAMESIZE)
    return make_error(ExitCode::kUsage, "bad interface name '" + name + "'");
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) return make_error(ExitCode::kUnavailable, "interface '" + name + "' not found");
  return interface_query(static_cast<int>(index), name);
}

Result<InterfaceInfo> NetlinkClient::interface_by_index(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (::if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr)
    return make_error(ExitCode::kUnavailable,
                      "interface index " + std::to_string(ifindex) + " not found");
  return interface_query(ifindex, name);
}

Result<uint64_t> NetlinkClient::rx_dropped(int ifindex) {
  InterfaceInfo info;
  if (auto link = link_query(ifindex, "index " + std::to_string(ifindex), info); !link)
    return tl::unexpected(link.error());
  return info.rx_dropped;
}

Result<void> NetlinkClient::link_query(int ifindex, const std::string& name, InterfaceInfo& info) {
  Request<ifinfomsg> request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.payload.ifi_family = AF_UNSPEC;
  request.payload.ifi_index = ifindex;
  auto answers = transact(&request, request.header.nlmsg_len, false);
  if (!answers) return tl::unexpected(with_context(answers.error(), "interface " + name));
  if (answers->empty())
    return make_error(ExitCode::kUnavailable, "interface " + name + ": no link information");
  const auto* msg = reinterpret_cast<const nlmsghdr*>(answers->front().data());
  const auto* link = static_cast<const ifinfomsg*>(NLMSG_DATA(msg));
  info.up = (link->ifi_flags & IFF_UP) != 0;
  info.link_type = link->ifi_type;
  int length = static_cast<int>(IFLA_PAYLOAD(msg));
  for (auto* a = IFLA_RTA(link); RTA_OK(a, length); a = RTA_NEXT(a, length)) {
    if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == 6)
      std::memcpy(info.mac.bytes.data(), RTA_DATA(a), 6);
    if (a->rta_type == IFLA_MTU) std::memcpy(&info.mtu, RTA_DATA(a), 4);
    if (a->rta_type == IFLA_STATS64 && RTA_PAYLOAD(a) >= sizeof(rtnl_link_stats64)) {
      rtnl_link_stats64 stats{};
      std::memcpy(&stats, RTA_DATA(a), sizeof stats);
      info.rx_dropped =
          stats.rx_dropped + stats.rx_missed_errors + stats.rx_fifo_errors + stats.rx_over_errors;
    }
  }
  return {};
}

Result<InterfaceInfo> NetlinkClient::interface_query(int ifindex, const std::string& name) {
  InterfaceInfo info;
  info.name = name;
  info.ifindex = ifindex;
  if (auto link = link_query(ifindex, name, info); !link) return tl::unexpected(link.error());
  {
    Request<ifaddrmsg> request{};
    request.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
    request.header.nlmsg_type = RTM_GETADDR;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.payload.ifa_family = AF_UNSPEC;
    auto answers = transact(&request, request.header.nlmsg_len, true);
    if (!answers) return tl::unexpected(with_context(answers.error(), "addresses of " + name));
    for (const auto& answer : *answers) {
      const auto* msg = reinterpret_cast<const nlmsghdr*>(answer.data());
      const auto* address = static_cast<const ifaddrmsg*>(NLMSG_DATA(msg));
      if (static_cast<int>(address->ifa_index) != ifindex) continue;
      int length = static_cast<int>(IFA_PAYLOAD(msg));
      if (address->ifa_family == AF_INET) {
        for (auto* a = IFA_RTA(address); RTA_OK(a, length); a = RTA_NEXT(a, length))
          if (a->rta_type == IFA_LOCAL && RTA_PAYLOAD(a) == 4)
            info.addresses.push_back(IpAddress::v4(attribute_be32(a)));
      } else if (address->ifa_family == AF_INET6 && address->ifa_scope == RT_SCOPE_UNIVERSE &&
                 (address->ifa_flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) == 0) {
        for (auto* a = IFA_RTA(address); RTA_OK(a, length); a = RTA_NEXT(a, length))
          if (a->rta_type == IFA_ADDRESS && RTA_PAYLOAD(a) == 16)
            info.addresses.push_back(*attribute_address(a));
      }
    }
  }
  return info;
}

bool link_has_no_header(uint16_t link_type) {
  switch (link_type) {
    case ARPHRD_NONE:     // WireGuard, tun
    case ARPHRD_TUNNEL:   // ipip
    case ARPHRD_TUNNEL6:  // ip6tnl
    case ARPHRD_SIT:
    case ARPHRD_RAWIP:  // rmnet and other cellular modems
      return true;
    default:
      return false;
  }
}

}  // namespace anyscan
