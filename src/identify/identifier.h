#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "identify/service_parsers.h"
#include "identify/tls_client.h"
#include "net/ip_address.h"

namespace anyscan {

// One open port to identify, and where its line starts in the input (for resume).
struct IdentifyTarget {
  IpAddress ip;
  uint16_t port = 0;
  uint64_t input_offset = 0;
  uint64_t output_offset = 0;  // the output's size when it was taken (for resume)
};

// Every bound of the stage (anyscan-identify(1)).
struct IdentifyLimits {
  uint32_t concurrency = 1000;         // targets in flight
  uint32_t connect_timeout_ms = 3000;  // per connection attempt
  uint32_t read_timeout_ms = 2000;     // silence that ends a step (the banner wait, a probe)
  uint32_t target_timeout_ms = 20000;  // all of a target's connections together
  uint32_t max_bytes = 65536;          // read per connection
  uint32_t per_host = 4;               // connections at once to one address
  uint32_t host_interval_ms = 0;       // at least this long between two connections to one address
  // Local ports the stage's connections use (bound explicitly): never the scanner's source
  // ports, so its XDP program or its reply filter cannot take these replies. 0: the kernel's.
  uint16_t local_port_first = 0, local_port_last = 0;
};

// zgrab2's scan statuses.
enum class IdentifyStatus : uint8_t {
  kSuccess,
  kConnectionRefused,
  kConnectionTimeout,
  kConnectionClosed,
  kIoTimeout,
  kProtocolError,
  kApplicationError,
  kUnknownError,
};
std::string_view status_name(IdentifyStatus status);

// What one target turned out to be.
struct ServiceRecord {
  IdentifyTarget target;
  Service service = Service::kUnknown;
  IdentifyStatus status = IdentifyStatus::kUnknownError;
  std::string error;
  std::string banner;  // escaped, bounded: the first bytes the server sent
  std::optional<HttpFacts> http;
  std::optional<TlsFacts> tls;  // a TLS service, or STARTTLS on a line protocol
  bool starttls_offered = false;
  std::optional<SshFacts> ssh;
  std::optional<MysqlFacts> mysql;
  std::string timestamp;  // RFC 3339, when it was decided
  uint32_t connections = 0;
  uint64_t duration_ms = 0;
};

// zgrab2's JSON line: {"ip", "port", "service", "data": {MODULE: {status, protocol, result,
// timestamp, error}}} (the module named after the service; "banner" for unknown).
std::string service_record_json(const ServiceRecord& record);

// The stage itself: non-blocking kernel TCP connections on one epoll set, each target taken
// through LZR's order — wait for a banner; then TLS; then HTTP; then the other client-first
// probes — on new connections only when the server closed or stayed silent, with STARTTLS
// where a line protocol offers it. Single-threaded; run one per thread for more.
class Identifier {
 public:
  static Result<std::unique_ptr<Identifier>> create(const IdentifyLimits& limits,
                                                    const TlsClientContext& tls);
  ~Identifier();

  bool full() const { return jobs_.size() >= limits_.concurrency; }
  size_t in_flight() const { return jobs_.size(); }
  void add(const IdentifyTarget& target);
  // Handles what is ready within `timeout_ms`; decided targets are appended to `done`.
  void poll(int timeout_ms, std::vector<ServiceRecord>& done);
  // The target in flight with the smallest input offset (nullopt when none is).
  std::optional<IdentifyTarget> oldest_in_flight() const;

  struct Job;

 private:
  Identifier(const IdentifyLimits& limits, const TlsClientContext& tls);
  void start_connection(Job& job, uint64_t now);
  void begin_step(Job& job, uint64_t now);
  void on_writable(Job& job, uint64_t now);
  void on_readable(Job& job, uint64_t now);
  void on_data(Job& job, uint64_t now);
  void banner_data(Job& job, uint64_t now);
  void dialog_data(Job& job, uint64_t now);
  void tls_data(Job& job, uint64_t now);
  void probe_data(Job& job, uint64_t now);
  void silence_after_probe(Job& job, uint64_t now, bool closed);
  Result<void> open_socket(Job& job);
  void on_silence(Job& job, uint64_t now, bool closed);
  void next_probe(Job& job, uint64_t now);
  void send(Job& job, const std::string& bytes);
  void start_tls(Job& job, uint64_t now);
  void finish(Job& job, IdentifyStatus status, const std::string& error = "");
  void close_connection(Job& job);
  bool host_ready(const Job& job, uint64_t now) const;
  void release_host(const Job& job);

  IdentifyLimits limits_;
  const TlsClientContext& tls_;
  UniqueFd epoll_;
  std::map<uint64_t, std::unique_ptr<Job>> jobs_;  // by job id
  std::deque<uint64_t> waiting_;                   // jobs waiting for their host
  struct HostState {
    uint32_t active = 0;
    uint32_t jobs = 0;
    uint64_t next_allowed_ns = 0;
  };
  std::map<IpAddress, HostState> hosts_;
  std::vector<ServiceRecord>* done_ = nullptr;
  uint64_t next_id_ = 1;
  uint32_t next_local_port_ = 0;
};

// The default local ports of the stage: above the scanner's default source ports
// (32768-61000) and so outside them.
inline constexpr uint16_t kIdentifyPortFirst = 61001, kIdentifyPortLast = 65535;

}  // namespace anyscan
