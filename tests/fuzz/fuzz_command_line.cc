// A whole command line and a configuration file, as a user (or a job file) gives them:
// the bytes before the first "\n--\n" are the -C file's contents, the rest is argv split at
// NUL bytes. Parsing, the file's keys and the cross-option checks must end in a config or
// one error with a sysexits code and a message, never a crash; and the config file's errors
// name the file and line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cli/scan_options.h"
#include "output/output_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find("\n--\n");
  const std::string_view file = split == std::string_view::npos ? "" : input.substr(0, split);
  std::string_view rest = split == std::string_view::npos ? input : input.substr(split + 4);

  anyscan::ScanConfig from_file;
  auto applied = anyscan::apply_config_file(from_file, file, "job.conf");
  if (!applied) {
    const auto& e = applied.error();
    if (e.message.rfind("job.conf:", 0) != 0 || e.code != anyscan::ExitCode::kConfig) std::abort();
  } else {
    (void)anyscan::validate_config(from_file);
  }

  std::vector<std::string> words = {"anyscan"};
  while (!rest.empty() && words.size() < 64) {
    const size_t nul = rest.find('\0');
    words.emplace_back(rest.substr(0, nul));
    rest.remove_prefix(nul == std::string_view::npos ? rest.size() : nul + 1);
  }
  // -C FILE reads a file (/dev/stdin would wait for ever): the file's contents are fuzzed
  // above instead. getopt takes "--con" for --config, and -C inside "-qC".
  for (const auto& w : words)
    if (w.rfind("--con", 0) == 0 ||
        (w.size() > 1 && w[0] == '-' && w[1] != '-' && w.find('C') != std::string::npos))
      return 0;
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  auto config = anyscan::parse_command_line(static_cast<int>(words.size()), argv.data());
  if (!config) {
    const int code = static_cast<int>(config.error().code);
    if (config.error().message.empty() || code < 64 || code > 78) std::abort();
    return 0;
  }
  auto valid = anyscan::validate_config(*config);
  if (!valid && valid.error().message.empty()) std::abort();
  // A filter the parser took must evaluate on any record.
  if (!config->output_filter.empty()) {
    auto filter = anyscan::OutputFilter::parse(config->output_filter);
    if (!filter) std::abort();
    anyscan::ResultRecord record;
    (void)filter->matches(record);
  }
  return 0;
}
