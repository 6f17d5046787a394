// Service identification on a veth pair between two test-made namespaces (198.18.0.0/15
// only): real Debian servers in the target namespace (tests/support/identify_servers.sh),
// each on its usual and on an unexpected port, found by a scan and identified while the scan
// runs, on both engines; certificate facts equal to what `openssl x509` prints; hostile
// servers (a tarpit, a trickler, a flood, one that closes at once) each get their status
// within the bounds; and 10,000 open ports identified by a deliberately slow stage that is
// killed and resumed: exactly one record for each.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "output/json_value.h"
#include "support/pair_scan_test.h"
#include "support/scan_expectations.h"
#include "support/test_shell.h"

namespace anyscan::testing_support {
namespace {

// The records of an identification output, by port (address ignored: one target address).
struct Records {
  std::multimap<std::pair<std::string, uint16_t>, JsonValue> all;
  const JsonValue* find(const std::string& ip, uint16_t port) const {
    auto it = all.find({ip, port});
    return it == all.end() ? nullptr : &it->second;
  }
};

Records read_records(const std::string& path) {
  Records records;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto value = JsonValue::parse(line);
    EXPECT_TRUE(value) << line;
    if (!value) continue;
    const JsonValue* ip = value->find("ip");
    const JsonValue* port = value->find("port");
    if (ip == nullptr || port == nullptr) {
      ADD_FAILURE() << line;
      continue;
    }
    records.all.emplace(std::make_pair(ip->text(), static_cast<uint16_t>(*port->as_u64())),
                        std::move(*value));
  }
  return records;
}

// data.MODULE of a record, and its result.
const JsonValue* module_of(const JsonValue& record) {
  const JsonValue* data = record.find("data");
  if (data == nullptr || data->members().size() != 1) return nullptr;
  return &data->members().begin()->second;
}

std::string text_at(const JsonValue* v, std::initializer_list<const char*> path) {
  for (const char* key : path) {
    if (v == nullptr) return "";
    v = v->find(key);
  }
  return v == nullptr ? "" : v->text();
}

std::string identify_binary() { return ANYSCAN_IDENTIFY_BINARY; }

// The scanner creates its results file once setup is done.
bool wait_for_file(const std::string& path) {
  for (int i = 0; i < 200; ++i) {
    if (::access(path.c_str(), F_OK) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

class Identify : public PairScanTest {
 protected:
  void TearDown() override {
    // Servers the launcher script started, by PID.
    std::ifstream pids(dir_ + "/servers/pids");
    pid_t pid;
    while (pids >> pid) ::kill(pid, SIGTERM);
    std::string run;
    if (std::ifstream(dir_ + "/servers/rundir") >> run; run.rfind("/tmp/anyscan-id.", 0) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // their sockets go first
      run_shell("rm -rf '" + run + "'");
    }
    PairScanTest::TearDown();
  }
  // `openssl x509` on the test certificate.
  std::string x509(const std::string& what) const {
    std::string out =
        shell_output("openssl x509 -in '" + dir_ + "/servers/cert.pem' -noout " + what);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
};

std::string lower_hex(std::string text) {
  std::string out;
  for (char c : text)
    if (std::isxdigit(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(c));
  return out;
}

void expect_certificate(const JsonValue* tls, const std::string& sha256, const std::string& subject,
                        const std::string& serial, const std::string& where) {
  SCOPED_TRACE(where);
  ASSERT_NE(tls, nullptr);
  const JsonValue* cert = tls->find("certificate");
  ASSERT_NE(cert, nullptr) << tls->dump();
  EXPECT_EQ(text_at(cert, {"sha256"}), sha256);
  EXPECT_EQ(text_at(cert, {"subject"}), subject);
  EXPECT_EQ(text_at(cert, {"issuer"}), subject) << "self-signed";
  EXPECT_EQ(text_at(cert, {"serial"}), serial);
  const JsonValue* sans = cert->find("sans");
  ASSERT_NE(sans, nullptr);
  std::set<std::string> names;
  for (const JsonValue& n : sans->items()) names.insert(n.text());
  EXPECT_EQ(names, (std::set<std::string>{"DNS:identify.anyscan.invalid", "IP:198.18.0.2"}));
  EXPECT_FALSE(text_at(tls, {"version"}).empty());
  EXPECT_FALSE(text_at(tls, {"cipher"}).empty());
  EXPECT_EQ(text_at(tls, {"ja3s"}).size(), 32u);
}

// Every server found by the scan and identified while the scan runs, on its usual port and
// on an unexpected one, with the facts each protocol gives.
TEST_P(Identify, RealServersOnUsualAndUnexpectedPorts) {
  const std::string servers = dir_ + "/servers";
  ShellResult started = run_shell("ip netns exec " + pair_->target_ns() +
                                  " " ANYSCAN_SOURCE_DIR "/tests/support/identify_servers.sh '" +
                                  servers + "' 198.18.0.2");
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  std::map<uint16_t, std::string> expected;
  std::ifstream ports(servers + "/ports");
  uint16_t port;
  std::string service;
  while (ports >> port >> service) expected[port] = service;
  ASSERT_EQ(expected.size(), 22u);
  std::string list;
  for (const auto& [p, s] : expected) list += (list.empty() ? "" : ",") + std::to_string(p);
  list += ",9,4000-4100";  // closed ports: RST, never identified

  // The stage follows the results file from the scan's start until its metadata exists.
  const pid_t scanner = start({"-p", list, "-r", "2000", "-c", "1", "198.18.0.2"});
  ASSERT_TRUE(wait_for_file(dir_ + "/results.csv"));
  const pid_t identify = pair_->spawn_in_scanner(
      {identify_binary(), "-o", dir_ + "/services.json", "--follow-until", dir_ + "/meta.json",
       "--read-timeout", "1000", dir_ + "/results.csv"},
      dir_ + "/identify.out", dir_ + "/identify.err");
  const ScanRun run = finish(scanner);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  const ProcessResult id = wait_for(identify, 90, dir_ + "/identify.out", dir_ + "/identify.err");
  ASSERT_EQ(id.exit_code, 0) << id.err;

  const Records records = read_records(dir_ + "/services.json");
  EXPECT_EQ(records.all.size(), expected.size())
      << "one record per open port, none for closed ones";
  const std::string sha256 =
      lower_hex(x509("-fingerprint -sha256").substr(x509("-fingerprint -sha256").find('=') + 1));
  const std::string subject =
      x509("-subject -nameopt RFC2253").substr(std::string("subject=").size());
  const std::string serial = x509("-serial").substr(std::string("serial=").size());
  for (const auto& [p, want] : expected) {
    SCOPED_TRACE("port " + std::to_string(p) + " " + want);
    const JsonValue* record = records.find("198.18.0.2", p);
    ASSERT_NE(record, nullptr);
    EXPECT_EQ(text_at(record, {"service"}), want) << record->dump();
    const JsonValue* module = module_of(*record);
    ASSERT_NE(module, nullptr);
    EXPECT_EQ(text_at(module, {"status"}), "success") << record->dump();
    const JsonValue* result = module->find("result");
    ASSERT_NE(result, nullptr);
    if (want == "http") {
      EXPECT_EQ(text_at(result, {"http", "status_code"}), "200");
      EXPECT_EQ(text_at(result, {"http", "title"}), "anyscan identify test");
      EXPECT_EQ(text_at(result, {"http", "server"}).rfind("nginx/", 0), 0u);
    } else if (want == "tls") {
      expect_certificate(result->find("tls"), sha256, subject, serial, "tls");
      EXPECT_EQ(text_at(result, {"http", "title"}), "anyscan tls test");
    } else if (want == "ssh") {
      EXPECT_EQ(text_at(result, {"server_id", "version"}), "2.0");
      EXPECT_EQ(text_at(result, {"server_id", "software"}).rfind("OpenSSH_", 0), 0u);
      ASSERT_NE(result->find("key_exchange"), nullptr) << record->dump();
      EXPECT_FALSE(result->find("key_exchange")->find("kex_algorithms")->items().empty());
    } else if (want == "smtp" || want == "imap" || want == "pop3" || want == "ftp") {
      EXPECT_EQ(text_at(result, {"starttls_offered"}), "true") << record->dump();
      expect_certificate(result->find("starttls"), sha256, subject, serial, want + " STARTTLS");
    } else if (want == "mysql") {
      EXPECT_NE(text_at(result, {"server_version"}).find("MariaDB"), std::string::npos);
    }
  }
}

// -O zgrab2: zgrab2's input CSV (ip,,,port a line, no header) of the open ports, which
// anyscan-identify --zgrab2-input reads as zgrab2 would.
TEST_P(Identify, Zgrab2InputFormatOfTheOpenPorts) {
  std::map<std::string, std::set<uint16_t>> open = {{"198.18.0.2", {22, 443, 8080}},
                                                    {"198.18.0.3", {80}}};
  pair_->listen_on(open);
  const ScanRun run = scan({"-p", "22,80,443,8080,9000-9010", "-r", "0", "-c", "1", "-O", "zgrab2",
                            "198.18.0.2-198.18.0.3"});
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(read_file(dir_ + "/results.csv").find("saddr"), std::string::npos) << "no header";
  const std::set<std::string> rows = csv_rows("\n" + read_file(dir_ + "/results.csv"));
  EXPECT_EQ(rows, (std::set<std::string>{"198.18.0.2,,,22", "198.18.0.2,,,443", "198.18.0.2,,,8080",
                                         "198.18.0.3,,,80"}));
  EXPECT_NE(run.metadata.find("\"output_format\":\"zgrab2\""), std::string::npos);
  const pid_t id = pair_->spawn_in_scanner(
      {identify_binary(), "--zgrab2-input", "--read-timeout", "200", "--target-timeout", "3000",
       "-o", dir_ + "/services.json", dir_ + "/results.csv"},
      dir_ + "/id.out", dir_ + "/id.err");
  ASSERT_EQ(wait_for(id, 30, dir_ + "/id.out", dir_ + "/id.err").exit_code, 0);
  EXPECT_EQ(read_records(dir_ + "/services.json").all.size(), 4u);
}

// Hostile servers: each gets the status zgrab2 would give, within the stage's bounds.
TEST_P(Identify, HostileServersGetTheirStatusWithinTheBounds) {
  std::ofstream(dir_ + "/hostile.py") << R"(
import socket, threading, time
def serve(port, handler):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('198.18.0.2', port)); s.listen(64)
    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=handler, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
def tarpit(c): time.sleep(600)
def trickle(c):
    for b in b"SSH-2.0-Trickle_1.0 one byte a second\r\n":
        try: c.send(bytes([b])); time.sleep(1)
        except Exception: return
def flood(c):
    try:
        while True: c.sendall(b"A" * 65536)
    except Exception: pass
def closer(c): c.close()
serve(9001, tarpit); serve(9002, trickle); serve(9003, flood); serve(9004, closer)
open(')" + dir_ + R"(/hostile.ready', 'w').close()
time.sleep(600)
)";
  start_server("hostile", {"/usr/bin/python3", dir_ + "/hostile.py"});
  for (int i = 0; i < 100 && ::access((dir_ + "/hostile.ready").c_str(), F_OK) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::ofstream(dir_ + "/open.csv") << "saddr,sport,classification\n198.18.0.2,9001,synack\n"
                                       "198.18.0.2,9002,synack\n198.18.0.2,9003,synack\n"
                                       "198.18.0.2,9004,synack\n198.18.0.2,9005,synack\n";
  const auto started = std::chrono::steady_clock::now();
  const pid_t pid = pair_->spawn_in_scanner(
      {identify_binary(), "-o", dir_ + "/services.json", "--read-timeout", "1500",
       "--target-timeout", "4000", "--max-bytes", "100000", dir_ + "/open.csv"},
      dir_ + "/identify.out", dir_ + "/identify.err");
  const ProcessResult id = wait_for(pid, 30, dir_ + "/identify.out", dir_ + "/identify.err");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(id.exit_code, 0) << id.err;
  EXPECT_LT(seconds, 4.0 + 2.0) << "nothing outlives --target-timeout";
  const Records records = read_records(dir_ + "/services.json");
  ASSERT_EQ(records.all.size(), 5u);
  const std::map<uint16_t, std::pair<std::string, std::string>> want = {
      {9001, {"unknown", "io-timeout"}},
      {9002, {"ssh", "io-timeout"}},  // what trickled in by the deadline says SSH
      {9003, {"banner", "success"}},
      {9004, {"unknown", "connection-closed"}},
      {9005, {"unknown", "connection-refused"}},
  };
  for (const auto& [p, expect] : want) {
    SCOPED_TRACE(p);
    const JsonValue* record = records.find("198.18.0.2", p);
    ASSERT_NE(record, nullptr);
    EXPECT_EQ(text_at(record, {"service"}), expect.first) << record->dump();
    EXPECT_EQ(text_at(module_of(*record), {"status"}), expect.second) << record->dump();
  }
  // The scanner's own CSV with the stage's fields, and its filter language.
  const pid_t csv = pair_->spawn_in_scanner(
      {identify_binary(), "-O", "csv", "-f", "saddr,sport,service,status,banner", "--output-filter",
       "status = io-timeout || service = banner", "-o", dir_ + "/services.csv", "--read-timeout",
       "1500", "--target-timeout", "4000", dir_ + "/open.csv"},
      dir_ + "/csv.out", dir_ + "/csv.err");
  ASSERT_EQ(wait_for(csv, 30, dir_ + "/csv.out", dir_ + "/csv.err").exit_code, 0);
  const std::set<std::string> rows = csv_rows(read_file(dir_ + "/services.csv"));
  std::set<std::string> heads;
  for (const std::string& row : rows) heads.insert(row.substr(0, row.find(',', row.find(',') + 1)));
  EXPECT_EQ(heads, (std::set<std::string>{"198.18.0.2,9001", "198.18.0.2,9002", "198.18.0.2,9003"}))
      << read_file(dir_ + "/services.csv");
  EXPECT_EQ(read_file(dir_ + "/services.csv").rfind("saddr,sport,service,status,banner\n", 0), 0u);
  // The trickle's bytes so far (a byte a second for 4 s); the flood's first bytes, bounded.
  const std::string trickled =
      text_at(module_of(*records.find("198.18.0.2", 9002)), {"result", "banner"});
  EXPECT_EQ(trickled.rfind("SSH-", 0), 0u) << trickled;
  EXPECT_LE(trickled.size(), 6u) << trickled;
  EXPECT_EQ(text_at(module_of(*records.find("198.18.0.2", 9003)), {"result", "banner"}),
            std::string(512, 'A'));
}

// 10,000 open ports (silent listeners on the 8 target addresses: each takes the stage every
// step of its probe order) found by a full-rate scan while a slow stage follows the results;
// the stage is SIGKILLed in the middle and resumed: exactly one record per open port.
TEST_P(Identify, TenThousandOpenPortsKilledAndResumedOneRecordEach) {
  std::map<std::string, std::set<uint16_t>> open;
  const auto addresses = pair_->target_addresses();
  for (size_t i = 0; i < addresses.size(); ++i)
    for (uint16_t p = 0; p < 1250; ++p) open[addresses[i]].insert(static_cast<uint16_t>(20000 + p));
  pair_->listen_on(open);
  const std::vector<std::string> identify_args = {identify_binary(),
                                                  "-o",
                                                  dir_ + "/services.json",
                                                  "--follow-until",
                                                  dir_ + "/meta.json",
                                                  "--read-timeout",
                                                  "100",
                                                  "--connect-timeout",
                                                  "1000",
                                                  "--concurrency",
                                                  "400",
                                                  "--per-host",
                                                  "100",
                                                  dir_ + "/results.csv"};
  const pid_t scanner = start(
      {"-p", "20000-21249", "-r", "0", "-c", "1", addresses.front() + "-" + addresses.back()});
  ASSERT_TRUE(wait_for_file(dir_ + "/results.csv"));
  const pid_t first = pair_->spawn_in_scanner(identify_args, dir_ + "/id1.out", dir_ + "/id1.err");
  const ScanRun run = finish(scanner);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  size_t synacks = 0;
  for (const std::string& row : run.rows) synacks += row.find(",synack,") != std::string::npos;
  ASSERT_EQ(synacks, 10000u) << "the scan itself lost nothing";
  // Killed once part of the work is written.
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(dir_ + "/services.json");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    if (std::count(text.begin(), text.end(), '\n') > 2000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(first, SIGKILL);
  (void)wait_for(first, 10, dir_ + "/id1.out", dir_ + "/id1.err");
  const size_t before = read_records(dir_ + "/services.json").all.size();
  EXPECT_GT(before, 0u);
  EXPECT_LT(before, 10000u) << "killed in the middle";
  std::vector<std::string> resumed = identify_args;
  resumed.insert(resumed.begin() + 1, "--resume");
  const pid_t second = pair_->spawn_in_scanner(resumed, dir_ + "/id2.out", dir_ + "/id2.err");
  const ProcessResult id = wait_for(second, 120, dir_ + "/id2.out", dir_ + "/id2.err");
  ASSERT_EQ(id.exit_code, 0) << id.err;
  const Records records = read_records(dir_ + "/services.json");
  std::set<std::pair<std::string, uint16_t>> distinct;
  for (const auto& [key, value] : records.all) distinct.insert(key);
  EXPECT_EQ(records.all.size(), 10000u) << "no record twice";
  EXPECT_EQ(distinct.size(), 10000u) << "every open port once";
  for (const auto& [address, ports_open] : open)
    for (uint16_t p : ports_open) ASSERT_TRUE(distinct.count({address, p})) << address << ":" << p;
}

// The service mode (anyscan-identify -C JOB.conf, as anyscan-identify@JOB.service runs it):
// the job's own file turns identification on and sets its options; the stage follows every
// run of the job's run directory, is SIGKILLed during the first run and started again, and
// leaves exactly one record per open port for each run, in RUN.services.json beside the
// run's results; SIGTERM ends it with exit 0. Unknown ANYSCAN_IDENTIFY_ keys are exit 78.
TEST_P(Identify, JobServiceIdentifiesEveryRunAndSurvivesAKill) {
  std::map<std::string, std::set<uint16_t>> open;
  const auto addresses = pair_->target_addresses();
  for (const std::string& address : addresses)
    for (uint16_t p = 0; p < 250; ++p) open[address].insert(static_cast<uint16_t>(20000 + p));
  pair_->listen_on(open);
  const std::string runs = dir_ + "/runs", job = dir_ + "/job.conf";
  std::ofstream(job) << "# a scan job with identification\n"
                        "ANYSCAN_TARGETS=\""
                     << addresses.front() << "-" << addresses.back()
                     << "\"\nANYSCAN_TARGET_PORTS=20000-20249,30000-30009\n"
                        "ANYSCAN_RATE=0\nANYSCAN_COOLDOWN_TIME=1\n"
                        "ANYSCAN_RUN_DIRECTORY="
                     << runs
                     << "\nANYSCAN_KEEP_RUNS=5\n"
                        "ANYSCAN_IDENTIFY=yes\nANYSCAN_IDENTIFY_READ_TIMEOUT=100\n"
                        "ANYSCAN_IDENTIFY_CONNECT_TIMEOUT=1000\nANYSCAN_IDENTIFY_CONCURRENCY=400\n"
                        "ANYSCAN_IDENTIFY_PER_HOST=100\nANYSCAN_BLOCKLIST_FILE=/dev/null\n";
  std::vector<std::string> scan = pair_->scanner_argv(GetParam().engine);
  scan.insert(scan.end(), {"--restrict-to", dir_ + "/allow.conf", "-C", job, "-q"});
  const std::vector<std::string> service = {identify_binary(), "-C", job};
  auto services_of = [&](const std::string& run) { return runs + "/" + run + ".services.json"; };
  auto finished = [&](const std::string& run) {
    return read_file(services_of(run) + ".state").find(" finished") != std::string::npos;
  };
  auto wait_finished = [&](const std::string& run) {
    for (int i = 0; i < 1200 && !finished(run); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return finished(run);
  };
  auto newest_run = [&] {
    std::string name = shell_output("ls " + runs + " | grep -E '^[0-9T]+Z\\.csv$' | tail -n 1");
    return name.substr(0, name.find('.'));
  };

  // Started before the job's first run: it waits for the run directory.
  pid_t stage = pair_->spawn_in_scanner(service, dir_ + "/svc1.out", dir_ + "/svc1.err");
  const ProcessResult first =
      wait_for(pair_->spawn_in_scanner(scan, dir_ + "/scan1.out", dir_ + "/scan1.err"), 60,
               dir_ + "/scan1.out", dir_ + "/scan1.err");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string run1 = newest_run();
  ASSERT_FALSE(run1.empty()) << shell_output("ls -l " + runs);
  // Killed once part of the first run is written, and started again.
  for (int i = 0; i < 400; ++i) {
    if (read_records(services_of(run1)).all.size() > 300) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ::kill(stage, SIGKILL);
  (void)wait_for(stage, 10, dir_ + "/svc1.out", dir_ + "/svc1.err");
  EXPECT_FALSE(finished(run1)) << "killed in the middle of the first run";
  stage = pair_->spawn_in_scanner(service, dir_ + "/svc2.out", dir_ + "/svc2.err");
  ASSERT_TRUE(wait_finished(run1)) << read_file(dir_ + "/svc2.err");
  // The job's next run (a later second: runs are named by their start).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const ProcessResult second =
      wait_for(pair_->spawn_in_scanner(scan, dir_ + "/scan2.out", dir_ + "/scan2.err"), 60,
               dir_ + "/scan2.out", dir_ + "/scan2.err");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const std::string run2 = newest_run();
  ASSERT_NE(run2, run1);
  ASSERT_TRUE(wait_finished(run2)) << read_file(dir_ + "/svc2.err");
  ::kill(stage, SIGTERM);
  const ProcessResult stopped = wait_for(stage, 10, dir_ + "/svc2.out", dir_ + "/svc2.err");
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;

  for (const std::string& run : {run1, run2}) {
    SCOPED_TRACE(run);
    size_t synacks = 0;
    for (const std::string& row : csv_rows(read_file(runs + "/" + run + ".csv")))
      synacks += row.find(",synack,") != std::string::npos;
    EXPECT_EQ(synacks, 2000u) << "the scan found every open port";
    const Records records = read_records(services_of(run));
    std::set<std::pair<std::string, uint16_t>> distinct;
    for (const auto& [key, value] : records.all) distinct.insert(key);
    EXPECT_EQ(records.all.size(), 2000u) << "no record twice";
    EXPECT_EQ(distinct.size(), 2000u) << "every open port once";
  }

  std::ofstream(dir_ + "/bad.conf") << "ANYSCAN_RUN_DIRECTORY=" << runs
                                    << "\nANYSCAN_IDENTIFY=yes\nANYSCAN_IDENTIFY_CONCURENCY=9\n";
  const ShellResult bad = run_shell(identify_binary() + " -C " + dir_ + "/bad.conf");
  EXPECT_EQ(bad.exit_code, 78);
  EXPECT_NE(bad.err.find("bad.conf:3: ANYSCAN_IDENTIFY_CONCURENCY"), std::string::npos) << bad.err;
}

// The live opt-out reaches the stage: the job's blocklist (ANYSCAN_BLOCKLIST_FILE) is read by
// each run's child, and a SIGHUP to the stage (systemctl reload) restarts the child where it
// is, so addresses blocked meanwhile get no connection and no record from then on, also those
// the scan found before its own reload. One connection at a time per address keeps the stage
// behind.
TEST_P(Identify, JobStageHonoursTheLiveOptOut) {
  std::map<std::string, std::set<uint16_t>> open;
  const auto addresses = pair_->target_addresses();
  for (const std::string& address : addresses)
    for (uint16_t p = 0; p < 24; ++p) open[address].insert(static_cast<uint16_t>(20000 + p));
  pair_->listen_on(open);
  const std::string runs = dir_ + "/runs", job = dir_ + "/job.conf", list = dir_ + "/block.conf";
  std::ofstream(list) << "# opt-outs\n";
  std::ofstream(job) << "ANYSCAN_TARGETS=\"" << addresses.front() << "-" << addresses.back()
                     << "\"\nANYSCAN_TARGET_PORTS=20000-20023\nANYSCAN_RATE=0\n"
                        "ANYSCAN_COOLDOWN_TIME=1\nANYSCAN_RUN_DIRECTORY="
                     << runs << "\nANYSCAN_BLOCKLIST_FILE=" << list
                     << "\nANYSCAN_ALLOW_SPECIAL_PURPOSE=yes\n"
                        "ANYSCAN_IDENTIFY=yes\nANYSCAN_IDENTIFY_READ_TIMEOUT=100\n"
                        "ANYSCAN_IDENTIFY_PER_HOST=1\n";
  std::vector<std::string> scan = pair_->scanner_argv(GetParam().engine);
  scan.insert(scan.end(), {"--restrict-to", dir_ + "/allow.conf", "-C", job, "-b", list, "-q"});
  const ProcessResult scanned =
      wait_for(pair_->spawn_in_scanner(scan, dir_ + "/scan.out", dir_ + "/scan.err"), 60,
               dir_ + "/scan.out", dir_ + "/scan.err");
  ASSERT_EQ(scanned.exit_code, 0) << scanned.err;
  const std::string run =
      shell_output("ls " + runs + " | grep -E '^[0-9T]+Z\\.csv$' | tail -n 1").substr(0, 16);
  const std::string services = runs + "/" + run + ".services.json";
  const pid_t stage =
      pair_->spawn_in_scanner({identify_binary(), "-C", job}, dir_ + "/svc.out", dir_ + "/svc.err");
  // Stopped by its PID also when an assertion ends the test early.
  struct StopStage {
    pid_t pid;
    ~StopStage() {
      if (pid <= 0) return;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } guard{stage};
  for (int i = 0; i < 400 && read_records(services).all.size() < 24; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  const std::set<std::string> blocked = {addresses[2], addresses[5]};
  std::ofstream(list) << addresses[2] << "\n" << addresses[5] << "\n";
  ::kill(stage, SIGHUP);
  // The parent logs once per child it starts: the second line is the restarted child's.
  auto started = [&] {
    const std::string err = read_file(dir_ + "/svc.err");
    const std::string line = "identifying the open ports of run " + run;
    const size_t first = err.find(line);
    return first != std::string::npos && err.find(line, first + 1) != std::string::npos;
  };
  for (int i = 0; i < 400 && !started(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_TRUE(started()) << read_file(dir_ + "/svc.err");
  auto blocked_records = [&] {
    size_t n = 0;
    for (const auto& [key, value] : read_records(services).all) n += blocked.count(key.first);
    return n;
  };
  const size_t at_reload = blocked_records();
  EXPECT_LT(at_reload, 48u) << "the stage was behind when the addresses opted out";
  for (int i = 0; i < 1200 && read_file(services + ".state").find(" finished") == std::string::npos;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_NE(read_file(services + ".state").find(" finished"), std::string::npos)
      << read_file(dir_ + "/svc.err");
  ::kill(stage, SIGTERM);
  const ProcessResult stopped = wait_for(stage, 30, dir_ + "/svc.out", dir_ + "/svc.err");
  guard.pid = 0;  // reaped
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_EQ(blocked_records(), at_reload) << "records of opted-out addresses after the reload";
  const Records records = read_records(services);
  std::set<std::pair<std::string, uint16_t>> kept;
  for (const auto& [key, value] : records.all)
    if (!blocked.count(key.first)) kept.insert(key);
  EXPECT_EQ(kept.size(), 6u * 24u) << "every other open port once";
  EXPECT_EQ(records.all.size(), kept.size() + at_reload) << "no record twice";
  EXPECT_NE(stopped.err.find("SIGHUP: run " + run + " goes on with the blocklist"),
            std::string::npos)
      << stopped.err;
  EXPECT_NE(stopped.err.find(" skipped: their addresses are in " + list), std::string::npos)
      << stopped.err;
}

std::vector<ScanVariant> variants() { return {{"af_packet", "", 1}, {"af_xdp", "", 2}}; }
INSTANTIATE_TEST_SUITE_P(Engines, Identify, ::testing::ValuesIn(variants()),
                         [](const auto& info) { return variant_name(info.param); });

}  // namespace
}  // namespace anyscan::testing_support
