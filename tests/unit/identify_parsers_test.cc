// Service identification without a network: what bytes say which service (never the port),
// the HTTP, SSH, MySQL and TLS ServerHello parsers on whole, cut and hostile input, the input
// rows that count as open ports, and the resume state's text.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "identify/identifier.h"
#include "identify/identify_job.h"
#include "identify/open_ports.h"
#include "identify/service_parsers.h"
#include "identify/tls_client.h"
#include "output/output_filter.h"
#include "output/record_formatter.h"
#include "support/test_shell.h"

namespace anyscan {
namespace {

using std::string_literals::operator""s;

TEST(IdentifyBytes, ServerFirstGreetings) {
  const std::pair<std::string, Service> cases[] = {
      {"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", Service::kSsh},
      {"220 (vsFTPd 3.0.3)\r\n", Service::kFtp},
      {"220 ProFTPD Server ready.\r\n", Service::kFtp},
      {"220 mail.example ESMTP Exim 4.96\r\n", Service::kSmtp},
      {"220-mx.example ESMTP Postfix\r\n220 ok\r\n", Service::kSmtp},
      {"* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", Service::kImap},
      {"+OK Dovecot (Debian) ready.\r\n", Service::kPop3},
      {"\x4a\x00\x00\x00\x0a"
       "5.5.5-10.11.6-MariaDB\x00\x01\x00\x00\x00"
       "abcdefgh\x00\xff\xf7"s,
       Service::kMysql},
      {"hello, world\r\n", Service::kBanner},
      {"", Service::kUnknown},
  };
  for (const auto& [bytes, service] : cases) {
    SCOPED_TRACE(escape_banner(bytes));
    EXPECT_EQ(identify_bytes(bytes, Prompt::kNone), service);
  }
}

TEST(IdentifyBytes, AnswersToProbes) {
  EXPECT_EQ(identify_bytes("HTTP/1.1 400 Bad Request\r\n", Prompt::kTlsHello), Service::kHttp);
  EXPECT_EQ(identify_bytes("\x16\x03\x03\x00\x10"s, Prompt::kTlsHello), Service::kTls);
  EXPECT_EQ(identify_bytes("\x15\x03\x01\x00\x02\x02\x28"s, Prompt::kTlsHello), Service::kTls);
  EXPECT_EQ(identify_bytes("-ERR unknown command 'version'\r\n", Prompt::kVersion),
            Service::kRedis);
  EXPECT_EQ(identify_bytes("-NOAUTH Authentication required.\r\n", Prompt::kHttpGet),
            Service::kRedis);
  EXPECT_EQ(identify_bytes("VERSION 1.6.18\r\n", Prompt::kVersion), Service::kMemcached);
  EXPECT_EQ(identify_bytes("ERROR\r\n", Prompt::kTlsHello), Service::kMemcached);
  EXPECT_EQ(identify_bytes("N", Prompt::kPgSslRequest), Service::kPostgres);
  EXPECT_EQ(identify_bytes("S", Prompt::kPgSslRequest), Service::kPostgres);
  EXPECT_EQ(identify_bytes("N", Prompt::kVersion), Service::kBanner) << "one byte says little";
  // MongoDB OP_REPLY header: length, requestID, responseTo, opCode 1.
  const std::string reply("\x24\x00\x00\x00\x01\x00\x00\x00\x73\x79\x6e\x61\x01\x00\x00\x00"s +
                          std::string(20, '\0'));
  EXPECT_EQ(identify_bytes(reply, Prompt::kMongoHello), Service::kMongodb);
  EXPECT_EQ(identify_bytes("\x01\x02\x03"s, Prompt::kHttpGet), Service::kBanner);
}

TEST(EscapeBanner, PrintableBoundedAndReversible) {
  EXPECT_EQ(escape_banner("a\\b\r\n\t\x01\xff"s), "a\\\\b\\r\\n\\t\\x01\\xff");
  EXPECT_EQ(escape_banner(std::string(1000, 'x'), 10), std::string(10, 'x'));
}

TEST(HttpParser, ContentLengthChunkedAndCut) {
  const std::string whole =
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 39\r\n\r\n"
      "<html><title> Hi\n there </title></html>";
  ASSERT_TRUE(http_response_complete(whole.substr(0, whole.size() - 1) + "x"));
  auto facts = parse_http_response(whole);
  ASSERT_TRUE(facts);
  EXPECT_EQ(facts->status_code, 200);
  EXPECT_EQ(facts->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(facts->server, "nginx/1.22.1");
  EXPECT_EQ(facts->title, "Hi there");
  EXPECT_EQ(facts->body_bytes, 39u);
  EXPECT_EQ(facts->body_sha256, sha256_hex("<html><title> Hi\n there </title></html>"));
  EXPECT_FALSE(http_response_complete(whole.substr(0, whole.size() - 5)));
  const std::string chunked =
      "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
      "world\r\n0\r\n\r\n";
  EXPECT_TRUE(http_response_complete(chunked));
  EXPECT_FALSE(http_response_complete(chunked.substr(0, chunked.size() - 5)));
  facts = parse_http_response(chunked);
  ASSERT_TRUE(facts);
  EXPECT_EQ(facts->status_code, 404);
  EXPECT_EQ(facts->body_sha256, sha256_hex("hello world"));
  EXPECT_TRUE(http_response_complete("HTTP/1.1 204 No Content\r\n\r\n"));
  EXPECT_FALSE(parse_http_response("HTTP/1.1 2x0 OK\r\n\r\n"));
  EXPECT_FALSE(parse_http_response("SSH-2.0-x\r\n"));
}

std::string be32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string name_list(const std::string& names) {
  return be32(static_cast<uint32_t>(names.size())) + names;
}

TEST(SshParser, IdentificationAndKexinit) {
  std::string payload = "\x14"s + std::string(16, 'c') +
                        name_list("curve25519-sha256,diffie-hellman-group14-sha256") +
                        name_list("ssh-ed25519") + name_list("aes128-ctr") +
                        name_list("aes128-ctr") + name_list("hmac-sha2-256") +
                        name_list("hmac-sha2-256") + name_list("none") + name_list("none") +
                        name_list("") + name_list("") + "\x00"s + be32(0);
  const uint8_t padding = 4;
  const std::string packet = be32(static_cast<uint32_t>(1 + payload.size() + padding)) +
                             static_cast<char>(padding) + payload + std::string(padding, '\0');
  const std::string greeting = "a pre-banner line\r\nSSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
  EXPECT_FALSE(ssh_kexinit_complete(greeting + packet.substr(0, 20)));
  ASSERT_TRUE(ssh_kexinit_complete(greeting + packet));
  auto facts = parse_ssh(greeting + packet);
  ASSERT_TRUE(facts);
  EXPECT_EQ(facts->version, "2.0");
  EXPECT_EQ(facts->software, "OpenSSH_9.2p1");
  EXPECT_EQ(facts->comment, "Debian-2+deb12u3");
  ASSERT_TRUE(facts->kexinit);
  EXPECT_EQ(facts->kex_algorithms,
            (std::vector<std::string>{"curve25519-sha256", "diffie-hellman-group14-sha256"}));
  EXPECT_EQ(facts->host_key_algorithms, std::vector<std::string>{"ssh-ed25519"});
  EXPECT_EQ(facts->macs, std::vector<std::string>{"hmac-sha2-256"});
  // A lying length never reads past the data.
  std::string lying = greeting + be32(30000) + "\x04\x14"s;
  EXPECT_FALSE(ssh_kexinit_complete(lying));
  facts = parse_ssh(lying);
  ASSERT_TRUE(facts);
  EXPECT_FALSE(facts->kexinit);
  EXPECT_FALSE(parse_ssh("HTTP/1.1 200 OK\r\n"));
}

TEST(MysqlParser, HandshakeV10) {
  const std::string body =
      "\x0a"
      "10.11.6-MariaDB\x00"s +
      "\x2a\x00\x00\x00"s + "12345678" + "\x00"s + "\xff\xff"s + std::string(20, '\0');
  const std::string packet = std::string{static_cast<char>(body.size()), 0, 0, 0} + body;
  auto facts = parse_mysql_handshake(packet);
  ASSERT_TRUE(facts);
  EXPECT_EQ(facts->server_version, "10.11.6-MariaDB");
  EXPECT_EQ(facts->connection_id, 42u);
  EXPECT_TRUE(facts->tls);
  EXPECT_FALSE(parse_mysql_handshake(packet.substr(0, 12)));
  EXPECT_FALSE(parse_mysql_handshake("\x05\x00\x00\x00\x0a\x01\x02"s));
}

TEST(Ja3s, FromAServerHello) {
  // ServerHello: version 0x0303, random, empty session id, cipher 0x1302, compression 0,
  // extensions 43 (supported_versions, 2 bytes) and 51 (key_share, 4 bytes).
  std::string body = "\x03\x03"s + std::string(32, 'r') + "\x00"s + "\x13\x02"s + "\x00"s;
  const std::string extensions = "\x00\x2b\x00\x02\x03\x04"s + "\x00\x33\x00\x04\x00\x1d\x00\x00"s;
  body += std::string{0, static_cast<char>(extensions.size())} + extensions;
  const std::string hello =
      "\x02\x00"s + static_cast<char>(body.size() >> 8) + static_cast<char>(body.size()) + body;
  EXPECT_EQ(ja3s_string(hello), "771,4866,43-51");
  EXPECT_EQ(md5_hex("771,4866,43-51"), "15af977ce25de452b96affa2addb1036");
  EXPECT_EQ(ja3s_string(hello.substr(0, 20)), "");
  EXPECT_EQ(ja3s_string("\x01"s + hello.substr(1)), "") << "not a ServerHello";
}

TEST(OpenPorts, CsvJsonAndZgrab2Rows) {
  OpenPortParser csv;
  ASSERT_TRUE(csv.header("saddr,sport,classification,success", "r.csv"));
  auto row = csv.parse("198.18.0.2,443,synack,1", "r.csv", 2);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(to_string((*row)->ip), "198.18.0.2");
  EXPECT_EQ((*row)->port, 443);
  row = csv.parse("198.18.0.2,444,rst,0", "r.csv", 3);
  ASSERT_TRUE(row);
  EXPECT_FALSE(*row) << "a closed port is not identified";
  auto bad = csv.parse("198.18.0.999,443,synack,1", "r.csv", 4);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ExitCode::kDataErr);
  EXPECT_EQ(bad.error().message, "r.csv:4: '198.18.0.999' is not an address");
  EXPECT_FALSE(csv.parse("198.18.0.2,70000,synack,1", "r.csv", 5));
  OpenPortParser no_header;
  auto missing = no_header.header("daddr,dport", "x.csv");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ExitCode::kDataErr);
  OpenPortParser json;
  json.set_json(true);
  row = json.parse(R"({"saddr":"2001:2::5","sport":22,"classification":"synack"})", "r.json", 1);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->port, 22);
  EXPECT_FALSE(json.parse("{not json", "r.json", 2));
  OpenPortParser zgrab;
  zgrab.zgrab2_input();
  row = zgrab.parse("198.18.0.3, , ,8080", "in.csv", 1);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->port, 8080);
}

TEST(IdentifyState, RoundTripAndRefusal) {
  const IdentifyState state{123456789, 987654321};
  auto back = parse_identify_state(identify_state_text(state), "o.state");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->input_offset, state.input_offset);
  EXPECT_EQ(back->output_offset, state.output_offset);
  EXPECT_FALSE(back->finished);
  auto finished = parse_identify_state(identify_state_text({1, 2, true}), "o.state");
  ASSERT_TRUE(finished);
  EXPECT_TRUE(finished->finished);
  EXPECT_EQ(finished->output_offset, 2u);
  EXPECT_FALSE(parse_identify_state("input_offset=1 output_offset=2 finishe\n", "o.state"));
  EXPECT_FALSE(parse_identify_state("input_offset=1 output_offset=2 finished x\n", "o.state"));
  auto empty = parse_identify_state("", "o.state");
  ASSERT_TRUE(empty) << "killed before the first state: from the start";
  EXPECT_EQ(empty->input_offset, 0u);
  auto bad = parse_identify_state("input_offset=x", "o.state");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ExitCode::kDataErr);
  ServiceRecord record;
  record.target.ip = *parse_ip("198.18.0.2");
  record.target.port = 8443;
  record.service = Service::kTls;
  record.status = IdentifyStatus::kSuccess;
  record.banner = "\\x16\"quoted\"";
  const std::string json = service_record_json(record);
  auto target = record_target(json.substr(0, json.size() - 1));
  ASSERT_TRUE(target);
  EXPECT_EQ(target->second, 8443);
  EXPECT_NE(json.find(R"("data":{"tls":{"status":"success","protocol":"tls")"), std::string::npos)
      << json;
}

TEST(IdentifyFields, ScannerFormatsAndFilterSpeakService) {
  ResultRecord record;
  record.reply.saddr = *parse_ip("198.18.0.2");
  record.reply.sport = 21;
  record.service = "ftp";
  record.status = "success";
  record.banner = "220 (vsFTPd 3.0.3), \"quoted\"\\r\\n";
  const std::vector<OutputField> fields = {OutputField::kSaddr, OutputField::kSport,
                                           OutputField::kService, OutputField::kStatus,
                                           OutputField::kBanner};
  EXPECT_EQ(format_record(record, false, fields),
            R"(198.18.0.2,21,ftp,success,"220 (vsFTPd 3.0.3), ""quoted""\r\n")");
  EXPECT_EQ(
      format_record(record, true, fields),
      R"({"saddr":"198.18.0.2","sport":21,"service":"ftp","status":"success","banner":"220 (vsFTPd 3.0.3), \"quoted\"\\r\\n"})");
  // Read back for resume: the quoted comma stays inside its cell.
  OpenPortParser back;
  ASSERT_TRUE(back.header(csv_header(fields), "o.csv"));
  auto row = back.parse(format_record(record, false, fields), "o.csv", 2);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->port, 21);
  auto filter = OutputFilter::parse("service = ftp && status = success");
  ASSERT_TRUE(filter) << filter.error().message;
  EXPECT_TRUE(filter->matches(record));
  record.service = "http";
  EXPECT_FALSE(filter->matches(record));
  EXPECT_FALSE(OutputFilter::parse("service > ftp")) << "text compares with = and != only";
  // A long banner is cut to the field's bound.
  const std::string long_banner(1000, 'b');
  record.banner = long_banner;
  EXPECT_EQ(format_record(record, false, {OutputField::kBanner}).size(), kBannerFieldBytes);
}

// A scan job's file as anyscan-identify -C reads it: ANYSCAN_IDENTIFY turns it on, its
// ANYSCAN_IDENTIFY_ keys are options (by long name), the scanner's keys are left alone, an
// unknown or forbidden one is kConfig naming FILE:LINE; the runs of a run directory.
TEST(IdentifyJob, JobFileKeysAndRuns) {
  const std::string dir = testing_support::process_temp_dir("anyscan-identify-job");
  const std::string job = dir + "/job.conf";
  std::ofstream(job)
      << "ANYSCAN_TARGETS=\"198.18.0.0/24\"\nANYSCAN_RATE=100\n"
         "ANYSCAN_RUN_DIRECTORY="
      << dir
      << "/runs\nANYSCAN_IDENTIFY=yes\nANYSCAN_IDENTIFY_CONCURRENCY=77\n"
         "ANYSCAN_IDENTIFY_OUTPUT_FORMAT=csv\nANYSCAN_IDENTIFY_LOCAL_PORTS=62000-62999\n";
  IdentifyConfig config;
  ASSERT_TRUE(apply_job_file(job, config));
  EXPECT_TRUE(config.enabled);
  EXPECT_EQ(config.run_directory, dir + "/runs");
  EXPECT_EQ(config.limits.concurrency, 77u);
  EXPECT_EQ(config.limits.local_port_first, 62000);
  EXPECT_EQ(config.format, IdentifyConfig::Format::kCsv);
  EXPECT_EQ(services_file(dir, "20261206T010203Z", config), dir + "/20261206T010203Z.services.csv");
  IdentifyConfig off;
  std::ofstream(job) << "ANYSCAN_RUN_DIRECTORY=/x\n";
  ASSERT_TRUE(apply_job_file(job, off));
  EXPECT_FALSE(off.enabled) << "off unless the job says yes";
  for (const auto& [line, why] : std::vector<std::pair<std::string, std::string>>{
           {"ANYSCAN_IDENTIFY_CONCURENCY=9", "job.conf:2: ANYSCAN_IDENTIFY_CONCURENCY"},
           {"ANYSCAN_IDENTIFY_OUTPUT=/etc/passwd", "job.conf:2: ANYSCAN_IDENTIFY_OUTPUT"},
           {"ANYSCAN_IDENTIFY_CONCURRENCY=0", "job.conf:2: ANYSCAN_IDENTIFY_CONCURRENCY"},
           {"ANYSCAN_IDENTIFY=maybe", "job.conf:2: ANYSCAN_IDENTIFY"}}) {
    SCOPED_TRACE(line);
    std::ofstream(job) << "ANYSCAN_RUN_DIRECTORY=/x\n" << line << "\n";
    IdentifyConfig bad;
    auto applied = apply_job_file(job, bad);
    ASSERT_FALSE(applied);
    EXPECT_EQ(applied.error().code, ExitCode::kConfig);
    EXPECT_NE(applied.error().message.find(why), std::string::npos) << applied.error().message;
  }
  std::ofstream(job) << "ANYSCAN_IDENTIFY=yes\n";
  IdentifyConfig nowhere;
  EXPECT_FALSE(apply_job_file(job, nowhere)) << "no run directory";

  const std::string runs = dir + "/runs";
  ASSERT_EQ(std::system(("rm -rf " + runs + " && mkdir -p " + runs).c_str()), 0);
  for (const char* name :
       {"20261206T010203Z.csv", "20261206T010203Z.meta.json", "20261206T010203Z.services.json",
        "20261206T020000Z.json", "checkpoint", "20261206T010203Z.checkpoint", ".hidden.csv"})
    std::ofstream(runs + "/" + name) << "x\n";
  ASSERT_EQ(std::system(("ln -s 20261206T010203Z.csv " + runs + "/latest.csv").c_str()), 0);
  EXPECT_EQ(list_runs(runs), (std::vector<std::string>{"20261206T010203Z", "20261206T020000Z"}));
  EXPECT_TRUE(list_runs(dir + "/none").empty());
}

}  // namespace
}  // namespace anyscan
