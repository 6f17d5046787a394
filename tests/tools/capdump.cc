// Stand-in scanner for launcher tests: prints its arguments and the Cap*/NoNewPrivs lines
// of /proc/self/status, then exits 0 — or 69 when asked to fail the af_xdp engine
// (ANYSCAN_CAPDUMP_FAIL_AF_XDP=1 and --io-engine=af_xdp), like a failed AF_XDP setup.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

int main(int argc, char** argv) {
  bool af_xdp = false;
  std::printf("args:");
  for (int i = 1; i < argc; ++i) {
    std::printf(" %s", argv[i]);
    if (std::strcmp(argv[i], "--io-engine=af_xdp") == 0) af_xdp = true;
  }
  std::printf("\n");
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Cap", 0) == 0 || line.rfind("NoNewPrivs", 0) == 0 || line.rfind("Uid", 0) == 0)
      std::printf("%s\n", line.c_str());
  const char* fail = std::getenv("ANYSCAN_CAPDUMP_FAIL_AF_XDP");
  if (af_xdp && fail && std::strcmp(fail, "1") == 0) {
    std::fprintf(stderr, "capdump: pretending AF_XDP setup failed\n");
    return 69;
  }
  return 0;
}
