#pragma once

#include <linux/filter.h>

#include <vector>

#include "engine/io_engine.h"

namespace anyscan {

// Classic BPF program for a packet socket that accepts only what ReplyFilter allows
// (IPv4, to local_ip, not a later fragment, protocol, and for TCP the destination port in
// [port_first, port_last]), capturing at most snap_bytes. Pure, so tests can run it.
std::vector<sock_filter> reply_bpf_filter(const ReplyFilter& filter, uint32_t snap_bytes);

}  // namespace anyscan
