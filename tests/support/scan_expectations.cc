#include "support/scan_expectations.h"

#include <random>

namespace anyscan::testing_support {

std::vector<uint16_t> random_ports(size_t count, uint32_t seed) {
  std::mt19937 random(seed);
  std::set<uint16_t> ports;
  while (ports.size() < count) ports.insert(static_cast<uint16_t>(1 + random() % 30000));
  return {ports.begin(), ports.end()};
}

std::string port_list(const std::vector<uint16_t>& ports) {
  std::string text;
  for (uint16_t p : ports) text += (text.empty() ? "" : ",") + std::to_string(p);
  return text;
}

std::map<std::string, std::set<uint16_t>> random_open_set(const std::vector<std::string>& addresses,
                                                          const std::vector<uint16_t>& ports,
                                                          uint32_t seed) {
  std::mt19937 random(seed);
  std::map<std::string, std::set<uint16_t>> open;
  for (const auto& address : addresses)
    for (uint16_t port : ports)
      if (random() % 3 == 0) open[address].insert(port);
  return open;
}

std::set<std::string> expected_rows(const std::vector<std::string>& addresses,
                                    const std::map<std::string, std::set<uint16_t>>& open,
                                    const std::vector<uint16_t>& ports) {
  std::set<std::string> rows;
  for (const auto& address : addresses)
    for (uint16_t port : ports) {
      auto it = open.find(address);
      const bool is_open = it != open.end() && it->second.count(port);
      rows.insert(address + "," + std::to_string(port) + (is_open ? ",synack,1" : ",rst,0"));
    }
  return rows;
}

uint64_t metadata_count(const std::string& metadata, const std::string& key) {
  const size_t at = metadata.find("\"" + key + "\":");
  if (at == std::string::npos) return UINT64_MAX;
  return std::stoull(metadata.substr(at + key.size() + 3));
}

}  // namespace anyscan::testing_support
