#include "launcher/journal.h"

#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <cstdio>

namespace anyscan {

void report(int priority, const std::string& message, const std::vector<std::pair<std::string, std::string>>& fields) {
  std::fprintf(stderr, "anyscan-launcher: %s\n", message.c_str());
  std::vector<std::string> items = {"MESSAGE=" + message, "PRIORITY=" + std::to_string(priority),
                                    "SYSLOG_IDENTIFIER=anyscan-launcher"};
  for (const auto& [key, value] : fields) items.push_back(key + "=" + value);
  std::vector<iovec> vectors;
  for (auto& item : items) vectors.push_back(iovec{item.data(), item.size()});
  // Fails quietly where there is no journal (containers without it, tests).
  sd_journal_sendv(vectors.data(), static_cast<int>(vectors.size()));
}

}  // namespace anyscan
