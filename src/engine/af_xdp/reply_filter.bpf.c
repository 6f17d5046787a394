// SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0)
// anyscan's XDP program: redirects to the AF_XDP socket of the receiving queue only the
// frames that can be replies to this scan (IPv4 to our address; for TCP a destination port
// in our source-port range; for ICMP echo replies and unreachables) and passes everything
// else to the kernel, so the host's own traffic on the queue keeps flowing.
//
// Written for the verifier without CAP_PERFMON (AF_XDP-NOTES.md): no variable-offset
// packet pointer arithmetic, so frames with IP options are passed, not parsed.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// Set by the scanner before loading (read-only data, so the verifier sees constants).
volatile const __u32 cfg_local_ip = 0;    // network byte order
volatile const __u16 cfg_port_first = 0;  // host byte order
volatile const __u16 cfg_port_last = 0;
volatile const __u8 cfg_protocol = IPPROTO_TCP;

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, __u32);
} xsks_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} verdicts SEC(".maps");  // [0] redirected, [1] passed (only frames to our address)

static __always_inline void count(__u32 which) {
  __u64 *counter = bpf_map_lookup_elem(&verdicts, &which);
  if (counter) *counter += 1;
}

// <linux/icmp.h> drags in libc headers: the 8 bytes we look at, declared here.
struct icmp_header {
  __u8 type;
  __u8 code;
  __u16 checksum;
  __u32 rest;
};
#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3

SEC("xdp")
int anyscan_reply_filter(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return XDP_PASS;
  if (ip->daddr != cfg_local_ip || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x1fff)) != 0) return XDP_PASS;
  if (ip->protocol != cfg_protocol) {
    count(1);
    return XDP_PASS;
  }
  if (cfg_protocol == IPPROTO_TCP) {
    struct tcphdr *tcp = (void *)(ip + 1);
    if ((void *)(tcp + 1) > data_end) return XDP_PASS;
    __u16 port = bpf_ntohs(tcp->dest);
    if (port < cfg_port_first || port > cfg_port_last) {
      count(1);
      return XDP_PASS;
    }
  } else {
    struct icmp_header *icmp = (void *)(ip + 1);
    if ((void *)(icmp + 1) > data_end) return XDP_PASS;
    if (icmp->type != ICMP_ECHOREPLY && icmp->type != ICMP_DEST_UNREACH) {
      count(1);
      return XDP_PASS;
    }
  }
  count(0);
  return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
