#pragma once

#include <linux/filter.h>

#include <vector>

#include "net/reply_filter_spec.h"

namespace anyscan {

// Classic BPF program for a packet socket that accepts only what the spec admits (IPv4, to
// one of our addresses, not a later fragment, matching one rule), capturing at most
// snap_bytes. `cooked`: for a SOCK_DGRAM socket, whose packets start at the IP header (the
// family then comes from the kernel's protocol, SKF_AD_PROTOCOL). Pure, so tests can run it
// in an interpreter.
std::vector<sock_filter> reply_bpf_filter(const ReplyFilterSpec& spec, uint32_t snap_bytes,
                                          bool cooked = false);

}  // namespace anyscan
