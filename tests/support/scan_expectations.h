#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace anyscan::testing_support {

// What a scan of a NetnsPair's targets must report, shared by the privileged suites.

// `count` distinct ports in 1..30000, from `seed`.
std::vector<uint16_t> random_ports(size_t count, uint32_t seed);
// "22,80,443" for -p.
std::string port_list(const std::vector<uint16_t>& ports);
// A random third of (address, port) pairs, from `seed` (printed on failure to reproduce).
std::map<std::string, std::set<uint16_t>> random_open_set(const std::vector<std::string>& addresses,
                                                          const std::vector<uint16_t>& ports,
                                                          uint32_t seed);
// "saddr,sport,classification,success" rows: synack for the open set, rst for the rest.
std::set<std::string> expected_rows(const std::vector<std::string>& addresses,
                                    const std::map<std::string, std::set<uint16_t>>& open,
                                    const std::vector<uint16_t>& ports);
// A number in the metadata ("sent" -> counts.sent), UINT64_MAX if absent.
uint64_t metadata_count(const std::string& metadata, const std::string& key);

}  // namespace anyscan::testing_support
