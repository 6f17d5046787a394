// anyscan-identify: the service on every open port a scan found (anyscan-identify(1)).
#include <cstdio>

#include "base/log.h"
#include "base/sanitizer_options.h"  // once per program
#include "identify/identify_job.h"
#include "identify/identify_run.h"

int main(int argc, char** argv) {
  anyscan::set_log_program("anyscan-identify");
  auto command = anyscan::parse_identify_args(argc, argv);
  if (!command) {
    anyscan::logf(anyscan::LogLevel::kError, "%s", command.error().message.c_str());
    return static_cast<int>(command.error().code);
  }
  if (command->help) {
    std::fputs(anyscan::identify_usage().c_str(), stdout);
    return 0;
  }
  if (command->version) {
    std::printf("anyscan-identify %s\n", ANYSCAN_VERSION);
    return 0;
  }
  const anyscan::IdentifyConfig& config = command->config;
  auto done = config.run_directory.empty() ? anyscan::run_identify(config)
                                           : anyscan::run_identify_job(config);
  if (!done) {
    anyscan::logf(anyscan::LogLevel::kError, "%s", done.error().message.c_str());
    return static_cast<int>(done.error().code);
  }
  return 0;
}
