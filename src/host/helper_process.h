#pragma once

#include <cstddef>

namespace anyscan {

// The scan's helpers (store/metrics_file.h, store/opt_out_helper.h) are children forked at
// setup, before any thread, that do the file work a confined scan may not (its system-call
// filter has no open, rename or unlink) and nothing else. They talk to the scan over a Unix
// socket pair.

// Makes the calling child a helper: `socket` becomes fd 3 and every other descriptor above
// stderr is closed; the terminal's signals are ignored (a Ctrl-C or a hangup reaches the
// whole process group; the scan decides when it ends), no new privileges, no capability
// (its user stays the one the scan started as). Returns 3.
int become_helper(int socket);

// read(2) exactly `bytes` (false at the end of the stream or on an error).
bool read_exact(int fd, void* into, size_t bytes);
// write(2) all of it; to a socket (`socket`), send(2) without SIGPIPE.
bool write_exact(int fd, const void* from, size_t bytes, bool socket = false);

}  // namespace anyscan
