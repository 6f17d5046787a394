// SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0)
// anyscan's XDP program: redirects to the AF_XDP socket of the receiving queue only the
// frames that can be replies to this scan (IPv4, not a later fragment, to one of our
// addresses, matching one of the probe module's rules: TCP/UDP to our source ports, or an
// ICMP type in the module's set) and passes everything else to the kernel, so the host's
// own traffic on the queue keeps flowing.
//
// Every matching frame is counted per receive queue, and so is every one that could not be
// handed to a socket (no socket bound on that queue): the scanner maps the counter array
// into its memory once and reads it there (no bpf() call, no capability).
//
// Written for the verifier as it runs without CAP_PERFMON, where variable-offset
// arithmetic on packet pointers is refused: frames with IP options (ihl != 5) are passed
// to the kernel, not parsed.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>

// libbpf's helpers need the kernel types above: a block of their own, after them.
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MAX_RULES 4
#define MAX_QUEUES 256

// Set by the scanner before loading (read-only data, so the verifier sees constants).
volatile const __u32 cfg_local_first = 0;  // host byte order
volatile const __u32 cfg_local_last = 0;
volatile const __u32 cfg_rule_count = 0;
volatile const __u8 cfg_rule_protocol[MAX_RULES] = {0};
volatile const __u16 cfg_rule_port_first[MAX_RULES] = {0};  // host byte order
volatile const __u16 cfg_rule_port_last[MAX_RULES] = {0};
volatile const __u32 cfg_rule_icmp_types[MAX_RULES] = {0};  // bit t: ICMP type t

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
  __u64 matched;     // frames that are candidate replies
  __u64 redirected;  // ... handed to the queue's socket
  __u64 no_socket;   // ... that found no socket on their queue (passed to the kernel)
  __u64 passed;      // frames to our address that match no rule (passed to the kernel)
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

static __always_inline int matches_rule(__u32 i, __u8 protocol, void* l4, void* data_end) {
  if (cfg_rule_protocol[i] != protocol) return 0;
  if (protocol == IPPROTO_ICMP) {
    struct icmp_header* icmp = l4;
    if ((void*)(icmp + 1) > data_end || icmp->type >= 32) return 0;
    if (!((cfg_rule_icmp_types[i] >> icmp->type) & 1)) return 0;
    if (cfg_rule_port_first[i] == 0) return 1;
    // An error quoting one of our datagrams: its source port is one of ours. (Another
    // scanner on this host, another shard with its own ports, gets its own errors.)
    struct iphdr* inner = (void*)(icmp + 1);
    if ((void*)(inner + 1) > data_end || inner->ihl != 5) return 0;
    struct l4_ports* quoted = (void*)(inner + 1);
    if ((void*)(quoted + 1) > data_end) return 0;
    __u16 port = bpf_ntohs(quoted->source);
    return port >= cfg_rule_port_first[i] && port <= cfg_rule_port_last[i];
  }
  struct l4_ports* ports = l4;
  if ((void*)(ports + 1) > data_end) return 0;
  __u16 port = bpf_ntohs(ports->dest);
  return port >= cfg_rule_port_first[i] && port <= cfg_rule_port_last[i];
}

SEC("xdp")
int anyscan_reply_filter(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr* ip = (void*)(eth + 1);
  if ((void*)(ip + 1) > data_end) return XDP_PASS;
  __u32 daddr = bpf_ntohl(ip->daddr);
  if (daddr < cfg_local_first || daddr > cfg_local_last || ip->ihl != 5 ||
      (ip->frag_off & bpf_htons(0x1fff)) != 0)
    return XDP_PASS;

  __u32 queue = ctx->rx_queue_index;
  __u32 slot = queue < MAX_QUEUES ? queue : MAX_QUEUES;
  struct queue_counters* counters = bpf_map_lookup_elem(&queue_counters, &slot);
  if (!counters) return XDP_PASS;  // cannot happen: slot < max_entries
  int matched = 0;
#pragma unroll
  for (__u32 i = 0; i < MAX_RULES; ++i)
    if (i < cfg_rule_count && !matched) matched = matches_rule(i, ip->protocol, ip + 1, data_end);
  if (!matched) {
    COUNT(counters->passed);
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
