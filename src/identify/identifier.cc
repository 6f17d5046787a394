#include "identify/identifier.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "output/json_value.h"

namespace anyscan {

namespace {

uint64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

std::string rfc3339_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buffer[48];
  const size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03ldZ", ts.tv_nsec / 1000000);
  return buffer;
}

constexpr uint64_t kMs = 1000000;

// The steps of a target, in order; the dialog steps follow a server-first greeting.
enum class Step : uint8_t {
  kBanner,        // connected, waiting for the server to speak first
  kTlsHello,      // a ClientHello (on the banner's silent connection)
  kHttpsGet,      // GET / inside an established TLS session
  kHttpGet,       // a new connection: GET /
  kVersion,       // a new connection: "version\r\n"
  kPgSsl,         // a new connection: PostgreSQL SSLRequest
  kMongo,         // a new connection: MongoDB isMaster
  kSshKex,        // our identification sent, waiting for the server's KEXINIT
  kCapabilities,  // EHLO / CAPABILITY / CAPA sent
  kStartTls,      // STARTTLS / STLS / AUTH TLS sent
  kStartTlsHandshake,
};

// A MongoDB OP_QUERY of {isMaster: 1} on admin.$cmd (the handshake every server answers).
std::string mongo_is_master() {
  std::string doc;
  doc += '\x10';  // int32 element
  doc += "isMaster";
  doc += '\0';
  doc.append("\x01\x00\x00\x00", 4);
  doc += '\0';
  std::string bson;
  const uint32_t bson_length = static_cast<uint32_t>(doc.size() + 4);
  for (int i = 0; i < 4; ++i) bson += static_cast<char>(bson_length >> (8 * i));
  bson += doc;
  std::string body;
  body.append(4, '\0');  // flags
  body += "admin.$cmd";
  body += '\0';
  body.append(4, '\0');                // numberToSkip
  body.append("\xff\xff\xff\xff", 4);  // numberToReturn -1
  body += bson;
  std::string message;
  const uint32_t length = static_cast<uint32_t>(16 + body.size());
  auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) message += static_cast<char>(v >> (8 * i));
  };
  put32(length);
  put32(0x616e7973);  // requestID
  put32(0);           // responseTo
  put32(2004);        // OP_QUERY
  return message + body;
}

// The socket address of `ip` (or the family's any-address when null) and `port`.
socklen_t socket_address(bool v4, const IpAddress* ip, uint16_t port, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (v4) {
    auto* a = reinterpret_cast<sockaddr_in*>(&out);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (ip != nullptr) a->sin_addr.s_addr = htonl(ip->ipv4());
    return sizeof(sockaddr_in);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&out);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  if (ip != nullptr)
    for (int i = 0; i < 16; ++i)
      a->sin6_addr.s6_addr[i] = static_cast<uint8_t>(ip->value >> (8 * (15 - i)));
  return sizeof(sockaddr_in6);
}

}  // namespace

struct Identifier::Job {
  uint64_t id = 0;
  IdentifyTarget target;
  UniqueFd fd;
  Step step = Step::kBanner;
  bool connecting = false;
  bool connected_once = false;
  bool registered = false;
  bool holds_host = false;
  bool waiting = false;
  std::string in;   // this step's bytes
  std::string out;  // bytes still to send
  uint64_t step_deadline = 0, target_deadline = 0, started = 0;
  uint64_t read_total = 0;
  std::unique_ptr<TlsClient> tls;
  Service line_service = Service::kUnknown;  // the greeting's, during a dialog
  std::string greeting;                      // the raw greeting (kept for the record)
  ServiceRecord record;
  bool any_bytes = false;
  bool all_refused = true;
  uint32_t generation = 0;  // connections made: a handler that started a new one stops
};

std::string_view status_name(IdentifyStatus status) {
  switch (status) {
    case IdentifyStatus::kSuccess:
      return "success";
    case IdentifyStatus::kConnectionRefused:
      return "connection-refused";
    case IdentifyStatus::kConnectionTimeout:
      return "connection-timeout";
    case IdentifyStatus::kConnectionClosed:
      return "connection-closed";
    case IdentifyStatus::kIoTimeout:
      return "io-timeout";
    case IdentifyStatus::kProtocolError:
      return "protocol-error";
    case IdentifyStatus::kApplicationError:
      return "application-error";
    case IdentifyStatus::kUnknownError:
      return "unknown-error";
  }
  return "unknown-error";
}

Identifier::Identifier(const IdentifyLimits& limits, const TlsClientContext& tls)
    : limits_(limits), tls_(tls) {}

Identifier::~Identifier() = default;

Result<std::unique_ptr<Identifier>> Identifier::create(const IdentifyLimits& limits,
                                                       const TlsClientContext& tls) {
  std::unique_ptr<Identifier> identifier(new Identifier(limits, tls));
  identifier->epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!identifier->epoll_.valid())
    return make_error(ExitCode::kSoftware, errno_message("epoll_create1", errno));
  return identifier;
}

std::optional<IdentifyTarget> Identifier::oldest_in_flight() const {
  // Jobs are numbered in input order: the smallest id is the oldest.
  if (jobs_.empty()) return std::nullopt;
  return jobs_.begin()->second->target;
}

void Identifier::add(const IdentifyTarget& target) {
  auto job = std::make_unique<Job>();
  job->id = next_id_++;
  job->target = target;
  job->record.target = target;
  job->started = now_ns();
  job->target_deadline = job->started + limits_.target_timeout_ms * kMs;
  Job& ref = *job;
  jobs_.emplace(ref.id, std::move(job));
  hosts_[target.ip].jobs++;
  start_connection(ref, ref.started);
}

bool Identifier::host_ready(const Job& job, uint64_t now) const {
  auto it = hosts_.find(job.target.ip);
  if (it == hosts_.end()) return true;
  return it->second.active < limits_.per_host && now >= it->second.next_allowed_ns;
}

void Identifier::release_host(const Job& job) {
  auto it = hosts_.find(job.target.ip);
  if (it == hosts_.end()) return;
  if (job.holds_host && it->second.active > 0) --it->second.active;
}

// A non-blocking stream socket for the job's family, bound to one of our local ports.
Result<void> Identifier::open_socket(Job& job) {
  const bool v4 = job.target.ip.is_ipv4();
  job.fd.reset(::socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!job.fd.valid()) return make_error(ExitCode::kSoftware, errno_message("socket", errno));
  const int one = 1;
  ::setsockopt(job.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Closed with a RST, not left in TIME_WAIT: a scan makes many short connections.
  const linger no_linger{1, 0};
  ::setsockopt(job.fd.get(), SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger);
  if (limits_.local_port_first == 0) return {};
  // Our own local ports: tried in turn; one in use for this family is skipped.
  const uint32_t count = limits_.local_port_last - limits_.local_port_first + 1u;
  for (uint32_t tries = 0; tries < count; ++tries) {
    const auto port = static_cast<uint16_t>(limits_.local_port_first + next_local_port_++ % count);
    sockaddr_storage local{};
    const socklen_t local_length = socket_address(v4, nullptr, port, local);
    if (::bind(job.fd.get(), reinterpret_cast<sockaddr*>(&local), local_length) == 0) return {};
  }
  return make_error(ExitCode::kSoftware, "no free local port in --local-ports " +
                                             std::to_string(limits_.local_port_first) + "-" +
                                             std::to_string(limits_.local_port_last));
}

void Identifier::start_connection(Job& job, uint64_t now) {
  close_connection(job);
  if (now >= job.target_deadline) {
    finish(job, IdentifyStatus::kIoTimeout, "the target's time (--target-timeout) ran out");
    return;
  }
  if (!host_ready(job, now)) {
    if (!job.waiting) {
      job.waiting = true;
      waiting_.push_back(job.id);
    }
    return;
  }
  job.waiting = false;
  HostState& host = hosts_[job.target.ip];
  ++host.active;
  host.next_allowed_ns = now + limits_.host_interval_ms * kMs;
  job.holds_host = true;
  if (auto opened = open_socket(job); !opened) {
    finish(job, IdentifyStatus::kUnknownError, opened.error().message);
    return;
  }
  const bool v4 = job.target.ip.is_ipv4();
  sockaddr_storage address{};
  const socklen_t length = socket_address(v4, &job.target.ip, job.target.port, address);
  ++job.record.connections;
  ++job.generation;
  job.in.clear();
  job.out.clear();
  job.read_total = 0;
  job.tls.reset();
  const int rc = ::connect(job.fd.get(), reinterpret_cast<sockaddr*>(&address), length);
  if (rc != 0 && errno != EINPROGRESS) {
    const int error = errno;
    close_connection(job);
    if (error == ECONNREFUSED) {
      on_silence(job, now, true);
      return;
    }
    finish(job, IdentifyStatus::kUnknownError, errno_message("connect", error));
    return;
  }
  job.connecting = true;
  epoll_event event{};
  event.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
  event.data.u64 = job.id;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, job.fd.get(), &event);
  job.registered = true;
  job.step_deadline = std::min(job.target_deadline, now + limits_.connect_timeout_ms * kMs);
}

void Identifier::close_connection(Job& job) {
  if (job.fd.valid()) {
    if (job.registered) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, job.fd.get(), nullptr);
    job.fd.reset();
  }
  job.registered = false;
  job.connecting = false;
  if (job.holds_host) {
    release_host(job);
    job.holds_host = false;
  }
}

void Identifier::send(Job& job, const std::string& bytes) {
  job.out += bytes;
  while (!job.out.empty()) {
    const ssize_t n = ::send(job.fd.get(), job.out.data(), job.out.size(), MSG_NOSIGNAL);
    if (n <= 0) break;  // EAGAIN: the rest when writable
    job.out.erase(0, static_cast<size_t>(n));
  }
  epoll_event event{};
  event.events = EPOLLIN | EPOLLRDHUP | (job.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
  event.data.u64 = job.id;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, job.fd.get(), &event);
}

void Identifier::begin_step(Job& job, uint64_t now) {
  job.in.clear();
  job.step_deadline = std::min(job.target_deadline, now + limits_.read_timeout_ms * kMs);
  switch (job.step) {
    case Step::kBanner:
      return;  // listen first
    case Step::kTlsHello:
      start_tls(job, now);
      return;
    case Step::kHttpGet:
      send(job,
           "GET / HTTP/1.1\r\nHost: " + to_string(job.target.ip) +
               "\r\nUser-Agent: Mozilla/5.0 anyscan\r\nAccept: */*\r\nConnection: close\r\n\r\n");
      return;
    case Step::kVersion:
      send(job, "version\r\n");
      return;
    case Step::kPgSsl:
      send(job, std::string("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8));
      return;
    case Step::kMongo:
      send(job, mongo_is_master());
      return;
    default:
      return;
  }
}

void Identifier::start_tls(Job& job, uint64_t now) {
  job.tls = std::make_unique<TlsClient>(tls_, "", job.step != Step::kStartTlsHandshake);
  job.tls->advance("");
  job.in.clear();
  job.step_deadline = std::min(job.target_deadline, now + limits_.read_timeout_ms * kMs);
  send(job, job.tls->take_output());
}

void Identifier::on_writable(Job& job, uint64_t now) {
  if (job.connecting) {
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(job.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      close_connection(job);
      if (error != ECONNREFUSED) job.all_refused = false;
      on_silence(job, now, true);
      return;
    }
    job.connecting = false;
    job.connected_once = true;
    job.all_refused = false;
    begin_step(job, now);
    if (job.out.empty()) {
      epoll_event event{};
      event.events = EPOLLIN | EPOLLRDHUP;
      event.data.u64 = job.id;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, job.fd.get(), &event);
    }
    return;
  }
  send(job, "");
}

void Identifier::on_readable(Job& job, uint64_t now) {
  char buffer[16384];
  bool closed = false;
  bool got = false;
  while (job.fd.valid()) {
    const uint64_t room =
        limits_.max_bytes > job.read_total ? limits_.max_bytes - job.read_total : 0;
    if (room == 0) break;
    const ssize_t n = ::recv(job.fd.get(), buffer, std::min<uint64_t>(sizeof buffer, room), 0);
    if (n > 0) {
      job.read_total += static_cast<uint64_t>(n);
      got = true;
      job.any_bytes = true;
      if (job.tls) {
        const auto state = job.tls->advance(std::string_view(buffer, static_cast<size_t>(n)));
        if (state != TlsClient::State::kEstablished || job.step == Step::kStartTlsHandshake ||
            job.step == Step::kTlsHello)
          job.in.append(buffer, static_cast<size_t>(n));
        else
          job.in += job.tls->read();
        std::string more = job.tls->take_output();
        if (!more.empty()) send(job, more);
      } else {
        job.in.append(buffer, static_cast<size_t>(n));
      }
      continue;
    }
    if (n == 0)
      closed = true;
    else if (errno != EAGAIN && errno != EWOULDBLOCK)
      closed = true;
    break;
  }
  if (got) {
    // Silence is measured from the last byte: a trickle keeps a step alive, up to the
    // target's own deadline.
    job.step_deadline = std::min(job.target_deadline, now + limits_.read_timeout_ms * kMs);
    const uint64_t id = job.id;
    const uint32_t generation = job.generation;
    on_data(job, now);
    // Decided, or gone on to a new connection: this one's end is no longer news.
    if (jobs_.find(id) == jobs_.end() || job.generation != generation) return;
  }
  if (job.read_total >= limits_.max_bytes && job.fd.valid()) {
    // Enough: decide from what there is.
    on_silence(job, now, true);
    return;
  }
  if (closed && job.fd.valid()) on_silence(job, now, true);
}

// The greeting of a server-first protocol: decide, or begin its dialog.
void Identifier::banner_data(Job& job, uint64_t /*now*/) {
  ServiceRecord& r = job.record;
  const Service s = identify_bytes(job.in, Prompt::kNone);
  const bool line_protocol = s == Service::kSsh || s == Service::kSmtp || s == Service::kFtp ||
                             s == Service::kImap || s == Service::kPop3;
  if (line_protocol &&
      !(s == Service::kSsh ? ssh_id_end(job.in).has_value() : reply_lines_complete(job.in, s)))
    return;  // the greeting is not whole yet
  if (s == Service::kMysql) {
    r.mysql = parse_mysql_handshake(job.in);
    r.banner = escape_banner(job.in);
    r.service = s;
    finish(job, IdentifyStatus::kSuccess);
    return;
  }
  if (!line_protocol) return;  // a banner of no known protocol: read until silence
  r.banner = escape_banner(job.in);
  r.service = s;
  job.line_service = s;
  job.greeting = job.in;
  job.in.clear();
  switch (s) {
    case Service::kSsh:
      job.step = Step::kSshKex;
      send(job, "SSH-2.0-anyscan\r\n");
      if (ssh_kexinit_complete(job.greeting)) {
        r.ssh = parse_ssh(job.greeting);
        finish(job, IdentifyStatus::kSuccess);
      } else {
        job.in = job.greeting;  // the KEXINIT may follow in the same bytes
      }
      return;
    case Service::kSmtp:
      job.step = Step::kCapabilities;
      send(job, "EHLO anyscan.invalid\r\n");
      return;
    case Service::kImap:
      job.step = Step::kCapabilities;
      send(job, "a1 CAPABILITY\r\n");
      return;
    case Service::kPop3:
      job.step = Step::kCapabilities;
      send(job, "CAPA\r\n");
      return;
    case Service::kFtp:
      job.step = Step::kStartTls;
      send(job, "AUTH TLS\r\n");
      return;
    default:
      return;
  }
}

// The dialog after a greeting: the SSH key exchange, capabilities, STARTTLS.
void Identifier::dialog_data(Job& job, uint64_t now) {
  ServiceRecord& r = job.record;
  switch (job.step) {
    case Step::kSshKex:
      if (ssh_kexinit_complete(job.in)) {
        r.ssh = parse_ssh(job.in);
        finish(job, IdentifyStatus::kSuccess);
      }
      return;
    case Step::kCapabilities: {
      const std::string& d = job.in;
      bool complete = false;
      if (job.line_service == Service::kSmtp) complete = reply_lines_complete(d, Service::kSmtp);
      if (job.line_service == Service::kImap)
        complete = d.find("\na1 ") != std::string::npos || d.rfind("a1 ", 0) == 0;
      if (job.line_service == Service::kPop3)
        complete = d.find("\r\n.\r\n") != std::string::npos || d.rfind("-ERR", 0) == 0;
      if (!complete) return;
      std::string upper = d;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const bool offered = job.line_service == Service::kPop3
                               ? upper.find("STLS") != std::string::npos
                               : upper.find("STARTTLS") != std::string::npos;
      r.starttls_offered = offered;
      if (!offered) {
        finish(job, IdentifyStatus::kSuccess);
        return;
      }
      job.step = Step::kStartTls;
      job.in.clear();
      send(job, job.line_service == Service::kSmtp   ? "STARTTLS\r\n"
                : job.line_service == Service::kImap ? "a2 STARTTLS\r\n"
                                                     : "STLS\r\n");
      return;
    }
    case Step::kStartTls: {
      const std::string& d = job.in;
      if (d.find('\n') == std::string::npos) return;
      const bool go =
          (job.line_service == Service::kSmtp && d.rfind("220", 0) == 0) ||
          (job.line_service == Service::kFtp && d.rfind("234", 0) == 0) ||
          (job.line_service == Service::kImap && d.find("a2 OK") != std::string::npos) ||
          (job.line_service == Service::kPop3 && d.rfind("+OK", 0) == 0);
      if (job.line_service == Service::kFtp) r.starttls_offered = go;
      if (job.line_service == Service::kImap && d.find("a2 ") == std::string::npos) return;
      if (!go) {
        finish(job, IdentifyStatus::kSuccess);
        return;
      }
      job.step = Step::kStartTlsHandshake;
      start_tls(job, now);
      return;
    }
    default:
      return;
  }
}

// A TLS handshake in progress: a ClientHello's, or STARTTLS's.
void Identifier::tls_data(Job& job, uint64_t now) {
  ServiceRecord& r = job.record;
  const auto state = job.tls->advance("");
  std::string more = job.tls->take_output();
  if (!more.empty()) send(job, more);
  if (state == TlsClient::State::kHandshaking) return;
  if (state == TlsClient::State::kEstablished) {
    r.tls = job.tls->facts();
    if (job.step == Step::kStartTlsHandshake) {
      finish(job, IdentifyStatus::kSuccess);
      return;
    }
    r.service = Service::kTls;
    job.step = Step::kHttpsGet;
    job.in.clear();
    job.tls->write(
        "GET / HTTP/1.1\r\nHost: " + to_string(job.target.ip) +
        "\r\nUser-Agent: Mozilla/5.0 anyscan\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    send(job, job.tls->take_output());
    return;
  }
  // Not a handshake: a server that answered a ClientHello with something else.
  if (job.step == Step::kStartTlsHandshake) {
    finish(job, IdentifyStatus::kProtocolError, "STARTTLS: " + job.tls->error());
    return;
  }
  const std::string first = job.in.empty() ? job.tls->first_bytes() : job.in;
  const Service s = identify_bytes(first, Prompt::kTlsHello);
  if (s == Service::kTls) {
    r.service = Service::kTls;
    r.banner = escape_banner(first);
    finish(job, IdentifyStatus::kProtocolError, "TLS handshake: " + job.tls->error());
    return;
  }
  if (s == Service::kHttp) {
    // An HTTP server's answer to bytes it could not parse (400): ask it properly, on a
    // new connection, for the facts of its real page.
    job.tls.reset();
    job.step = Step::kHttpGet;
    start_connection(job, now);
    return;
  }
  if (s == Service::kBanner) {
    // Wait for the rest until silence or close, and judge it as an answer to a probe.
    job.tls.reset();
    job.step = Step::kHttpGet;
    job.in = first;
    on_data(job, now);
    return;
  }
  r.service = s;
  r.banner = escape_banner(first);
  finish(job, IdentifyStatus::kSuccess);
  return;
}

// The answer to a probe: HTTP (inside TLS or not), version, SSLRequest, isMaster.
void Identifier::probe_data(Job& job, uint64_t /*now*/) {
  ServiceRecord& r = job.record;
  switch (job.step) {
    case Step::kHttpsGet:
      if (http_response_complete(job.in)) {
        r.http = parse_http_response(job.in);
        finish(job, IdentifyStatus::kSuccess);
      }
      return;
    case Step::kHttpGet: {
      const Service s = identify_bytes(job.in, Prompt::kHttpGet);
      if (s == Service::kHttp) {
        if (http_response_complete(job.in)) {
          r.service = s;
          r.http = parse_http_response(job.in);
          r.banner = escape_banner(job.in.substr(0, job.in.find("\r\n")));
          finish(job, IdentifyStatus::kSuccess);
        }
        return;
      }
      if (s != Service::kBanner && job.in.find('\n') != std::string::npos) {
        r.service = s;
        r.banner = escape_banner(job.in);
        finish(job, IdentifyStatus::kSuccess);
      }
      return;  // bytes of no protocol: until silence
    }
    case Step::kVersion:
    case Step::kPgSsl:
    case Step::kMongo: {
      const Prompt prompt = job.step == Step::kVersion ? Prompt::kVersion
                            : job.step == Step::kPgSsl ? Prompt::kPgSslRequest
                                                       : Prompt::kMongoHello;
      const Service s = identify_bytes(job.in, prompt);
      if (s != Service::kBanner && s != Service::kUnknown) {
        r.service = s;
        r.banner = escape_banner(job.in);
        finish(job, IdentifyStatus::kSuccess);
      }
      return;
    }
    default:
      return;
  }
}

// Data arrived in the current step: decide, continue the dialog, or wait for more.
void Identifier::on_data(Job& job, uint64_t now) {
  switch (job.step) {
    case Step::kBanner:
      return banner_data(job, now);
    case Step::kSshKex:
    case Step::kCapabilities:
    case Step::kStartTls:
      return dialog_data(job, now);
    case Step::kStartTlsHandshake:
    case Step::kTlsHello:
      return tls_data(job, now);
    default:
      return probe_data(job, now);
  }
}

// The step ended without a decision: silence (read timeout), the server closed (or refused),
// or the byte limit. Decide from what there is, or go on to the next probe.
void Identifier::on_silence(Job& job, uint64_t now, bool closed) {
  ServiceRecord& r = job.record;
  switch (job.step) {
    case Step::kBanner:
      if (!job.in.empty()) {  // a banner, whole or not
        r.service = identify_bytes(job.in, Prompt::kNone);
        r.banner = escape_banner(job.in);
        if (r.service == Service::kMysql) r.mysql = parse_mysql_handshake(job.in);
        if (r.service == Service::kSsh) r.ssh = parse_ssh(job.in);
        finish(job, closed ? IdentifyStatus::kSuccess : IdentifyStatus::kIoTimeout,
               closed ? "" : "the banner did not end before the timeout");
        return;
      }
      if (!closed && job.fd.valid()) {  // silent: a client-first protocol; TLS on this one
        job.step = Step::kTlsHello;
        begin_step(job, now);
        return;
      }
      job.step = Step::kTlsHello;
      next_probe(job, now);
      return;
    case Step::kTlsHello:
      if (job.tls && !job.tls->first_bytes().empty()) {
        const uint64_t id = job.id;
        const uint32_t generation = job.generation;
        on_data(job, now);
        if (jobs_.find(id) == jobs_.end() || job.generation != generation ||
            job.step != Step::kTlsHello)
          return;
      }
      job.step = Step::kHttpGet;
      next_probe(job, now);
      return;
    case Step::kHttpsGet:
      if (!job.in.empty()) r.http = parse_http_response(job.in);
      finish(job, IdentifyStatus::kSuccess);
      return;
    case Step::kHttpGet:
      if (!job.in.empty()) {
        const Service s = identify_bytes(job.in, Prompt::kHttpGet);
        r.service = s;
        r.banner =
            escape_banner(s == Service::kHttp ? job.in.substr(0, job.in.find("\r\n")) : job.in);
        if (s == Service::kHttp) r.http = parse_http_response(job.in);
        finish(job, IdentifyStatus::kSuccess);
        return;
      }
      job.step = Step::kVersion;
      next_probe(job, now);
      return;
    case Step::kVersion:
    case Step::kPgSsl:
    case Step::kMongo:
      silence_after_probe(job, now, closed);
      return;
    case Step::kSshKex:
      r.ssh = parse_ssh(job.greeting + job.in);
      if (!r.ssh) r.ssh = parse_ssh(job.in);
      finish(job, IdentifyStatus::kSuccess);
      return;
    case Step::kCapabilities:
    case Step::kStartTls:
      finish(job, IdentifyStatus::kSuccess);
      return;
    case Step::kStartTlsHandshake:
      finish(job, closed ? IdentifyStatus::kProtocolError : IdentifyStatus::kIoTimeout,
             "STARTTLS handshake did not complete");
      return;
  }
}

// Silence after a client-first probe: what came back, or the next probe, or the end.
void Identifier::silence_after_probe(Job& job, uint64_t now, bool closed) {
  ServiceRecord& r = job.record;
  if (!job.in.empty()) {
    r.service = Service::kBanner;
    r.banner = escape_banner(job.in);
    finish(job, IdentifyStatus::kSuccess);
    return;
  }
  if (job.step == Step::kMongo) {
    finish(job,
           job.all_refused       ? IdentifyStatus::kConnectionRefused
           : !job.connected_once ? IdentifyStatus::kConnectionTimeout
           : closed              ? IdentifyStatus::kConnectionClosed
                                 : IdentifyStatus::kIoTimeout,
           "no probe was answered");
    return;
  }
  job.step = job.step == Step::kVersion ? Step::kPgSsl : Step::kMongo;
  next_probe(job, now);
  return;
}

// Next probe on a new connection (the previous one closed, refused or was used up).
void Identifier::next_probe(Job& job, uint64_t now) {
  if (!job.connected_once && job.record.connections >= 1) {
    // The first connection never completed: refused or timed out; no point in more.
    finish(
        job,
        job.all_refused ? IdentifyStatus::kConnectionRefused : IdentifyStatus::kConnectionTimeout,
        job.all_refused ? "connection refused" : "connect timed out");
    return;
  }
  start_connection(job, now);
}

void Identifier::finish(Job& job, IdentifyStatus status, const std::string& error) {
  close_connection(job);
  ServiceRecord& r = job.record;
  r.status = status;
  r.error = error;
  if (r.service == Service::kUnknown && job.any_bytes && !r.banner.empty())
    r.service = Service::kBanner;
  r.timestamp = rfc3339_now();
  r.duration_ms = (now_ns() - job.started) / kMs;
  if (done_ != nullptr) done_->push_back(std::move(r));
  auto host = hosts_.find(job.target.ip);
  if (host != hosts_.end() && --host->second.jobs == 0) hosts_.erase(host);
  if (job.waiting)
    waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), job.id), waiting_.end());
  jobs_.erase(job.id);  // `job` is gone
}

void Identifier::poll(int timeout_ms, std::vector<ServiceRecord>& done) {
  done_ = &done;
  // Wake for the nearest deadline.
  uint64_t now = now_ns();
  uint64_t nearest = now + static_cast<uint64_t>(timeout_ms) * kMs;
  for (const auto& [id, job] : jobs_)
    if (job->fd.valid()) nearest = std::min(nearest, job->step_deadline);
  if (!waiting_.empty()) nearest = std::min(nearest, now + 10 * kMs);
  const int wait_ms = nearest > now ? static_cast<int>((nearest - now + kMs - 1) / kMs) : 0;
  epoll_event events[256];
  const int n = ::epoll_wait(epoll_.get(), events, 256, wait_ms);
  now = now_ns();
  for (int i = 0; i < n; ++i) {
    // Copies: epoll_event is packed on x86-64, its fields are not aligned for a reference.
    const uint64_t id = events[i].data.u64;
    const uint32_t ready = events[i].events;
    auto it = jobs_.find(id);
    if (it == jobs_.end() || !it->second->fd.valid()) continue;
    Job& job = *it->second;
    if (ready & EPOLLOUT) {
      on_writable(job, now);
      if (jobs_.find(id) == jobs_.end() || !job.fd.valid()) continue;
    }
    if (ready & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      if (job.connecting) {
        on_writable(job, now);  // the error is the connect's
        continue;
      }
      on_readable(job, now);
    }
  }
  // Deadlines.
  std::vector<uint64_t> expired;
  for (const auto& [id, job] : jobs_)
    if (job->fd.valid() && job->step_deadline <= now) expired.push_back(id);
  for (uint64_t id : expired) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    Job& job = *it->second;
    if (now >= job.target_deadline) {
      if (!job.in.empty()) {
        on_silence(job, now, false);
      } else {
        finish(job,
               job.connecting ? IdentifyStatus::kConnectionTimeout : IdentifyStatus::kIoTimeout,
               "the target's time (--target-timeout) ran out");
      }
      continue;
    }
    if (job.connecting) {
      job.all_refused = false;
      close_connection(job);
      next_probe(job, now);
      continue;
    }
    on_silence(job, now, false);
  }
  // Jobs waiting for their host.
  for (size_t k = waiting_.size(); k > 0 && !waiting_.empty(); --k) {
    const uint64_t id = waiting_.front();
    waiting_.pop_front();
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    Job& job = *it->second;
    job.waiting = false;
    start_connection(job, now);  // back in the queue if still not ready
  }
  done_ = nullptr;
}

namespace {

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + json_quote(items[i]);
  return out + "]";
}

std::string tls_json(const TlsFacts& t) {
  std::string out = "{\"version\":" + json_quote(t.version) +
                    ",\"cipher\":" + json_quote(t.cipher) + ",\"alpn\":" + json_quote(t.alpn) +
                    ",\"ja3s\":" + json_quote(t.ja3s) +
                    ",\"ja3s_string\":" + json_quote(t.ja3s_string);
  if (t.certificate)
    out += ",\"certificate\":{\"subject\":" + json_quote(t.subject) +
           ",\"issuer\":" + json_quote(t.issuer) + ",\"sans\":" + json_list(t.sans) +
           ",\"not_before\":" + json_quote(t.not_before) +
           ",\"not_after\":" + json_quote(t.not_after) + ",\"serial\":" + json_quote(t.serial) +
           ",\"sha256\":" + json_quote(t.sha256_fingerprint) + "}";
  return out + "}";
}

std::string http_json(const HttpFacts& h) {
  return "{\"status_line\":" + json_quote(h.status_line) +
         ",\"status_code\":" + std::to_string(h.status_code) +
         ",\"server\":" + json_quote(h.server) + ",\"title\":" + json_quote(h.title) +
         ",\"body_sha256\":" + json_quote(h.body_sha256) +
         ",\"body_bytes\":" + std::to_string(h.body_bytes) +
         ",\"complete\":" + (h.complete ? "true" : "false") + "}";
}

}  // namespace

std::string service_record_json(const ServiceRecord& r) {
  const std::string module(r.service == Service::kUnknown ? "banner" : service_name(r.service));
  std::string result = "{\"banner\":" + json_quote(r.banner);
  if (r.http) result += ",\"http\":" + http_json(*r.http);
  if (r.tls)
    result +=
        std::string(r.service == Service::kTls ? ",\"tls\":" : ",\"starttls\":") + tls_json(*r.tls);
  if (r.service == Service::kSmtp || r.service == Service::kImap || r.service == Service::kPop3 ||
      r.service == Service::kFtp)
    result += std::string(",\"starttls_offered\":") + (r.starttls_offered ? "true" : "false");
  if (r.ssh) {
    result += ",\"server_id\":{\"version\":" + json_quote(r.ssh->version) +
              ",\"software\":" + json_quote(r.ssh->software) +
              ",\"comment\":" + json_quote(r.ssh->comment) + "}";
    if (r.ssh->kexinit)
      result += ",\"key_exchange\":{\"kex_algorithms\":" + json_list(r.ssh->kex_algorithms) +
                ",\"host_key_algorithms\":" + json_list(r.ssh->host_key_algorithms) +
                ",\"ciphers\":" + json_list(r.ssh->ciphers) +
                ",\"macs\":" + json_list(r.ssh->macs) +
                ",\"compression\":" + json_list(r.ssh->compression) + "}";
  }
  if (r.mysql)
    result += ",\"protocol_version\":" + std::to_string(r.mysql->protocol) +
              ",\"server_version\":" + json_quote(r.mysql->server_version) +
              ",\"connection_id\":" + std::to_string(r.mysql->connection_id) +
              ",\"tls_offered\":" + (r.mysql->tls ? "true" : "false");
  result += ",\"connections\":" + std::to_string(r.connections) +
            ",\"duration_ms\":" + std::to_string(r.duration_ms) + "}";
  std::string out = "{\"ip\":" + json_quote(to_string(r.target.ip)) +
                    ",\"port\":" + std::to_string(r.target.port) +
                    ",\"service\":" + json_quote(std::string(service_name(r.service))) +
                    ",\"data\":{" + json_quote(module) +
                    ":{\"status\":" + json_quote(std::string(status_name(r.status))) +
                    ",\"protocol\":" + json_quote(module) + ",\"result\":" + result +
                    ",\"timestamp\":" + json_quote(r.timestamp);
  if (!r.error.empty()) out += ",\"error\":" + json_quote(r.error);
  return out + "}}}\n";
}

}  // namespace anyscan
