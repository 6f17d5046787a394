#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace anyscan {

struct RouteInfo {
  int ifindex = 0;
  std::optional<IpAddress> preferred_source;
  std::optional<IpAddress> gateway;  // nullopt: destination is on-link
};

struct InterfaceInfo {
  std::string name;
  int ifindex = 0;
  MacAddress mac;
  uint32_t mtu = 0;
  uint16_t link_type = 0;  // ARPHRD_* (ifi_type): 1 is Ethernet
  bool up = false;
  // Addresses of both families; IPv6 only of global scope and usable (not tentative, not
  // failed duplicate detection): what a scan can send from.
  std::vector<IpAddress> addresses;
  // Frames the interface (NIC ring overflow, missed, FIFO) or the stack dropped before any
  // socket saw them, since the interface came up (IFLA_STATS64).
  uint64_t rx_dropped = 0;
};

// An interface whose packets start at the IP header, with no link-layer header to write:
// WireGuard and tun (ARPHRD_NONE), ipip, ip6tnl, sit, raw-IP modems.
bool link_has_no_header(uint16_t link_type);

// Active queues of an interface (ETHTOOL_GCHANNELS: rx + combined, tx + combined), which
// is what AF_XDP binds to and RSS spreads over; netlink's IFLA_NUM_RX_QUEUES counts
// allocated ones. An interface whose driver has no channel query is an error (kUnavailable).
struct QueueCounts {
  uint32_t rx = 1;
  uint32_t tx = 1;
};
Result<QueueCounts> interface_queues(const std::string& interface);

// Read-only rtnetlink queries (route, neighbour, link, address tables) of the calling
// thread's network namespace. Needs no privileges.

class NetlinkClient {
 public:
  static Result<NetlinkClient> open();

  // The kernel's route decision for dst (either family), as `ip route get` prints it.
  Result<RouteInfo> route_to(IpAddress dst, int oif = 0);
  // The link-layer address of a neighbour in a usable state, or nullopt.
  Result<std::optional<MacAddress>> neighbour_mac(int ifindex, IpAddress address);
  // Asks the kernel to resolve a neighbour it has no entry for (RTM_NEWNEIGH with NTF_USE,
  // as `ip neigh replace ADDR dev DEV use`: ARP or neighbour solicitation by the kernel
  // itself). Needs CAP_NET_ADMIN; the answer lands in the table, neighbour_mac() reads it.
  Result<void> request_neighbour(int ifindex, IpAddress address);
  Result<InterfaceInfo> interface_by_name(const std::string& name);
  Result<InterfaceInfo> interface_by_index(int ifindex);
  // InterfaceInfo::rx_dropped of the link, from this socket alone (no name lookup), so it
  // works under the scan's system-call filter.
  Result<uint64_t> rx_dropped(int ifindex);

 private:
  explicit NetlinkClient(UniqueFd fd) : fd_(std::move(fd)) {}
  // Sends request and collects every answer message (until NLMSG_DONE for dumps).
  Result<std::vector<std::vector<uint8_t>>> transact(void* request, size_t bytes, bool dump);
  Result<InterfaceInfo> interface_query(int ifindex, const std::string& name);
  Result<void> link_query(int ifindex, const std::string& name, InterfaceInfo& info);

  UniqueFd fd_;
  uint32_t sequence_ = 1;
};

}  // namespace anyscan
