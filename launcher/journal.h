#pragma once

#include <string>
#include <utility>
#include <vector>

namespace anyscan {

// One line on stderr ("anyscan-launcher: ...") and the same message to the journal with
// structured fields (e.g. ANYSCAN_ENGINE=af_xdp), so `journalctl ANYSCAN_ENGINE=af_packet`
// finds every fallback. priority: syslog level (3 error, 4 warning, 5 notice, 6 info).
void report(int priority, const std::string& message,
            const std::vector<std::pair<std::string, std::string>>& fields = {});

}  // namespace anyscan
