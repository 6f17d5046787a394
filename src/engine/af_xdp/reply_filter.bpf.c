// SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0)
// anyscan's XDP program: redirects to the AF_XDP socket of the receiving queue only the
// frames that can be replies to this scan (IPv4, not a later fragment, or IPv6, to one of
// our addresses, matching one of the probe module's rules for that family: TCP/UDP to our
// source ports, or an ICMP/ICMPv6 type in the module's set) and passes everything else to
// the kernel, so the host's own traffic on the queue keeps flowing: neighbour discovery,
// router advertisements and MLD are ICMPv6 types no module asks for.
//
// Every matching frame is counted per receive queue, and so is every one that could not be
// handed to a socket (no socket bound on that queue): the scanner maps the counter array
// into its memory once and reads it there (no bpf() call, no capability).
//
// Written for the verifier as it runs without CAP_PERFMON, where variable-offset
// arithmetic on packet pointers is refused: frames with IP options (ihl != 5) are passed
// to the kernel, not parsed; an IPv6 frame to one of our addresses whose next header is a
// hop-by-hop, routing, destination-options or AH header is redirected by its address alone
// (the scanner walks the chain and validates), a fragment header goes to the kernel.
//
// The host's own connections keep their packets: the scanner's source ports overlap the
// kernel's ephemeral range (32768-60999 by default), so a TCP segment or UDP datagram to
// one of them may belong to a connection of the host (an SSH session, a DNS lookup, a
// server on such a port). Before a TCP or UDP frame is redirected the kernel's socket
// tables are asked (bpf_skc_lookup_tcp / bpf_sk_lookup_udp); a socket that owns it, other
// than a TCP listener, gets it (counted as host_socket). A SYN without ACK is never a
// reply: it always goes to the kernel (a new connection to a host server on such a port).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>

// libbpf's helpers need the kernel types above: a block of their own, after them.
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MAX_RULES 8
#define MAX_QUEUES 256

// Set by the scanner before loading (read-only data, so the verifier sees constants).
volatile const __u32 cfg_has_ipv4 = 0;
volatile const __u32 cfg_local_first = 0;  // host byte order
volatile const __u32 cfg_local_last = 0;
// Our IPv6 addresses: the first 96 bits (three words, host byte order) and a range of the
// last 32 (the scanner keeps its IPv6 sources within one /96).
volatile const __u32 cfg_has_ipv6 = 0;
volatile const __u32 cfg_local6_prefix[3] = {0};
volatile const __u32 cfg_local6_low_first = 0;
volatile const __u32 cfg_local6_low_last = 0;
volatile const __u32 cfg_rule_count = 0;
volatile const __u8 cfg_rule_family[MAX_RULES] = {0};  // 4 or 6
volatile const __u8 cfg_rule_protocol[MAX_RULES] = {0};
volatile const __u16 cfg_rule_port_first[MAX_RULES] = {0};  // host byte order
volatile const __u16 cfg_rule_port_last[MAX_RULES] = {0};
// bit t: ICMP type t; ICMPv6: types 0-15 as bits 0-15, 128-143 as bits 16-31
volatile const __u32 cfg_rule_icmp_types[MAX_RULES] = {0};

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, MAX_QUEUES);
  __type(key, __u32);
  __type(value, __u32);
} xsks_map SEC(".maps");

// Per receive queue; entry MAX_QUEUES collects queues beyond the map. Updated atomically:
// in skb mode two CPUs can run the program for one queue. A map lookup rather than an
// indexed global array: the verifier without CAP_PERFMON refuses the variable offset.
// BPF_F_MMAPABLE: the scanner maps it once and reads it without bpf() calls.
struct queue_counters {
  __u64 matched;      // frames that are candidate replies
  __u64 redirected;   // ... handed to the queue's socket
  __u64 no_socket;    // ... that found no socket on their queue (passed to the kernel)
  __u64 passed;       // frames to our address that match no rule (passed to the kernel)
  __u64 host_socket;  // candidate frames a kernel socket owns (passed to the kernel)
};
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, MAX_QUEUES + 1);
  __uint(map_flags, BPF_F_MMAPABLE);
  __type(key, __u32);
  __type(value, struct queue_counters);
} queue_counters SEC(".maps");

// <linux/tcp.h>/<linux/icmp.h> drag in libc headers: the bytes we look at, declared here.
struct l4_ports {
  __u16 source;
  __u16 dest;
};
struct tcp_flags_word {  // the TCP header's first 16 bytes: ports, seq, ack, offset, flags
  __u16 source;
  __u16 dest;
  __u32 seq;
  __u32 ack;
  __u8 offset;
  __u8 flags;
};
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10
#define TCP_STATE_LISTEN 10  // BPF_TCP_LISTEN

struct icmp_header {
  __u8 type;
  __u8 code;
  __u16 checksum;
  __u32 rest;
};

// Adds 1 to one counter. The empty asm makes the field's address opaque in each branch, so
// the compiler cannot merge two such adds into one with a computed offset: the verifier
// without CAP_PERFMON refuses pointer arithmetic whose offset depends on the path.
#define COUNT(field)                   \
  do {                                 \
    __u64* counter_ = &(field);        \
    asm volatile("" : "+r"(counter_)); \
    __sync_fetch_and_add(counter_, 1); \
  } while (0)

// The IPv6 fixed header (RFC 8200 section 3), without <linux/ipv6.h>'s libc includes.
struct ipv6_header {
  __u32 version_class_flow;
  __u16 payload_length;
  __u8 next_header;
  __u8 hop_limit;
  __u32 saddr[4];
  __u32 daddr[4];
};

// The datagram an ICMP(v6) error quotes left from one of rule i's ports (our source ports).
static __always_inline int quoted_port_is_ours(__u32 i, void* quoted_l4, void* data_end) {
  struct l4_ports* quoted = quoted_l4;
  if ((void*)(quoted + 1) > data_end) return 0;
  __u16 port = bpf_ntohs(quoted->source);
  return port >= cfg_rule_port_first[i] && port <= cfg_rule_port_last[i];
}

static __always_inline int matches_rule6(__u32 i, __u8 protocol, void* l4, void* data_end) {
  if (cfg_rule_family[i] != 6 || cfg_rule_protocol[i] != protocol) return 0;
  if (protocol == 58) {  // ICMPv6
    struct icmp_header* icmp = l4;
    if ((void*)(icmp + 1) > data_end) return 0;
    __u8 type = icmp->type;
    __u32 bit;
    if (type < 16)
      bit = type;
    else if (type >= 128 && type < 144)
      bit = type - 112;
    else
      return 0;
    if (!((cfg_rule_icmp_types[i] >> bit) & 1)) return 0;
    if (cfg_rule_port_first[i] == 0) return 1;
    // An error quoting one of our UDP datagrams: the quoted IPv6 header (no extension
    // headers: ours have none) says UDP, and its source port is one of ours.
    struct ipv6_header* inner = (void*)(icmp + 1);
    if ((void*)(inner + 1) > data_end || inner->next_header != IPPROTO_UDP) return 0;
    return quoted_port_is_ours(i, inner + 1, data_end);
  }
  struct l4_ports* ports = l4;
  if ((void*)(ports + 1) > data_end) return 0;
  __u16 port = bpf_ntohs(ports->dest);
  return port >= cfg_rule_port_first[i] && port <= cfg_rule_port_last[i];
}

static __always_inline int matches_rule(__u32 i, __u8 protocol, void* l4, void* data_end) {
  if (cfg_rule_family[i] != 4 || cfg_rule_protocol[i] != protocol) return 0;
  if (protocol == IPPROTO_ICMP) {
    struct icmp_header* icmp = l4;
    if ((void*)(icmp + 1) > data_end || icmp->type >= 32) return 0;
    if (!((cfg_rule_icmp_types[i] >> icmp->type) & 1)) return 0;
    if (cfg_rule_port_first[i] == 0) return 1;
    // An error quoting one of our datagrams: its source port is one of ours. (Another
    // scanner on this host, another shard with its own ports, gets its own errors.)
    struct iphdr* inner = (void*)(icmp + 1);
    if ((void*)(inner + 1) > data_end || inner->ihl != 5) return 0;
    return quoted_port_is_ours(i, inner + 1, data_end);
  }
  struct l4_ports* ports = l4;
  if ((void*)(ports + 1) > data_end) return 0;
  __u16 port = bpf_ntohs(ports->dest);
  return port >= cfg_rule_port_first[i] && port <= cfg_rule_port_last[i];
}

// Whether a kernel socket of this network namespace owns the TCP segment or UDP datagram
// `l4` of a frame from `saddr:sport` to `daddr:dport` (tuple filled by the caller): a
// connection of the host's, or a bound UDP socket; not a TCP listener (a SYN-ACK to a
// listener's port is a reply to our probe).
static __always_inline int host_owns(struct xdp_md* ctx, struct bpf_sock_tuple* tuple, __u32 size,
                                     __u8 protocol) {
  struct bpf_sock* sk;
  if (protocol == IPPROTO_TCP)
    sk = (struct bpf_sock*)bpf_skc_lookup_tcp(ctx, tuple, size, BPF_F_CURRENT_NETNS, 0);
  else
    sk = bpf_sk_lookup_udp(ctx, tuple, size, BPF_F_CURRENT_NETNS, 0);
  if (!sk) return 0;
  int owned = protocol != IPPROTO_TCP || sk->state != TCP_STATE_LISTEN;
  bpf_sk_release(sk);
  return owned;
}

// 1 when the matched TCP/UDP frame is not the scan's: a SYN without ACK, or a host socket's.
static __always_inline int not_ours(struct xdp_md* ctx, struct bpf_sock_tuple* tuple, __u32 size,
                                    __u8 protocol, void* l4, void* data_end) {
  if (protocol == IPPROTO_TCP) {
    struct tcp_flags_word* tcp = l4;
    if ((void*)(tcp + 1) > data_end) return 0;
    if ((tcp->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN) return 1;
  } else if (protocol != IPPROTO_UDP) {
    return 0;
  }
  return host_owns(ctx, tuple, size, protocol);
}

// What the frame is to this scan: 0 pass, 1 a candidate reply, 2 to our address but no
// rule matched (counted as passed), 3 a candidate a host socket owns (passed).
static __always_inline int classify_ipv4(struct xdp_md* ctx, struct ethhdr* eth, void* data_end) {
  struct iphdr* ip = (void*)(eth + 1);
  if (!cfg_has_ipv4 || (void*)(ip + 1) > data_end) return 0;
  __u32 daddr = bpf_ntohl(ip->daddr);
  if (daddr < cfg_local_first || daddr > cfg_local_last || ip->ihl != 5 ||
      (ip->frag_off & bpf_htons(0x1fff)) != 0)
    return 0;
  int matched = 0;
#pragma unroll
  for (__u32 i = 0; i < MAX_RULES; ++i)
    if (i < cfg_rule_count && !matched) matched = matches_rule(i, ip->protocol, ip + 1, data_end);
  if (!matched) return 2;
  struct l4_ports* ports = (void*)(ip + 1);
  if ((void*)(ports + 1) > data_end) return 1;
  struct bpf_sock_tuple tuple = {};
  tuple.ipv4.saddr = ip->saddr;
  tuple.ipv4.daddr = ip->daddr;
  tuple.ipv4.sport = ports->source;
  tuple.ipv4.dport = ports->dest;
  return not_ours(ctx, &tuple, sizeof tuple.ipv4, ip->protocol, ip + 1, data_end) ? 3 : 1;
}

static __always_inline int classify_ipv6(struct xdp_md* ctx, struct ethhdr* eth, void* data_end) {
  struct ipv6_header* ip = (void*)(eth + 1);
  if (!cfg_has_ipv6 || (void*)(ip + 1) > data_end) return 0;
  if (bpf_ntohl(ip->daddr[0]) != cfg_local6_prefix[0] ||
      bpf_ntohl(ip->daddr[1]) != cfg_local6_prefix[1] ||
      bpf_ntohl(ip->daddr[2]) != cfg_local6_prefix[2])
    return 0;
  __u32 low = bpf_ntohl(ip->daddr[3]);
  if (low < cfg_local6_low_first || low > cfg_local6_low_last) return 0;
  __u8 next = ip->next_header;
  if (next == 44) return 0;  // a fragment: the kernel reassembles
  if (next == 0 || next == 43 || next == 60 || next == 51) return 1;  // user space walks
  int matched = 0;
#pragma unroll
  for (__u32 i = 0; i < MAX_RULES; ++i)
    if (i < cfg_rule_count && !matched) matched = matches_rule6(i, next, ip + 1, data_end);
  if (!matched) return 2;
  struct l4_ports* ports = (void*)(ip + 1);
  if ((void*)(ports + 1) > data_end) return 1;
  struct bpf_sock_tuple tuple = {};
#pragma unroll
  for (int w = 0; w < 4; ++w) {
    tuple.ipv6.saddr[w] = ip->saddr[w];
    tuple.ipv6.daddr[w] = ip->daddr[w];
  }
  tuple.ipv6.sport = ports->source;
  tuple.ipv6.dport = ports->dest;
  return not_ours(ctx, &tuple, sizeof tuple.ipv6, next, ip + 1, data_end) ? 3 : 1;
}

SEC("xdp")
int anyscan_reply_filter(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end) return XDP_PASS;
  int verdict = 0;
  if (eth->h_proto == bpf_htons(ETH_P_IP))
    verdict = classify_ipv4(ctx, eth, data_end);
  else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
    verdict = classify_ipv6(ctx, eth, data_end);
  if (verdict == 0) return XDP_PASS;

  __u32 queue = ctx->rx_queue_index;
  __u32 slot = queue < MAX_QUEUES ? queue : MAX_QUEUES;
  struct queue_counters* counters = bpf_map_lookup_elem(&queue_counters, &slot);
  if (!counters) return XDP_PASS;  // cannot happen: slot < max_entries
  if (verdict == 2) {
    COUNT(counters->passed);
    return XDP_PASS;
  }
  if (verdict == 3) {
    COUNT(counters->host_socket);
    return XDP_PASS;
  }
  COUNT(counters->matched);
  // XDP_PASS as the fallback: with no socket on this queue the frame goes to the kernel
  // (which answers a SYN-ACK with a RST), and the scanner reports the count as lost.
  if (bpf_redirect_map(&xsks_map, queue, XDP_PASS) == XDP_REDIRECT) {
    COUNT(counters->redirected);
    return XDP_REDIRECT;
  }
  COUNT(counters->no_socket);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
