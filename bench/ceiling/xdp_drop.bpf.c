// The bench's stand-in for a remote target: the target veth drops every frame in its XDP
// hook (native mode), so the target namespace's kernel does no work that veth would charge
// to the sending CPU (see bench/README.md). Attached by bench/run.sh only.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>  // after linux/bpf.h: it uses its types

SEC("xdp")
int xdp_drop_all(struct xdp_md* ctx) {
  (void)ctx;
  return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
