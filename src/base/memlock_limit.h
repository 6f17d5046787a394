#pragma once

#include <cstdint>

namespace anyscan {

// RLIMIT_MEMLOCK soft limit in bytes (UINT64_MAX = unlimited, 0 if unreadable): what AF_XDP
// UMEM is charged against without CAP_IPC_LOCK.
uint64_t memlock_limit_bytes();

}  // namespace anyscan
