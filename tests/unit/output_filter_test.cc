// --output-filter: zmap's expressions select what zmap selects; bad ones say where.
#include "output/output_filter.h"

#include <gtest/gtest.h>

#include "net/ipv4_address.h"
#include "output/json_check.h"

namespace anyscan {
namespace {

ResultRecord record(const char* saddr, uint16_t sport, Classification c, uint8_t ttl = 64) {
  ResultRecord r;
  r.reply.saddr = *parse_ip(saddr);
  r.reply.daddr = IpAddress::v4(0);  // 0.0.0.0
  r.reply.sport = sport;
  r.reply.ttl = ttl;
  r.reply.classification = c;
  r.time_s = 1795474372;
  return r;
}

bool matches(const char* expression, const ResultRecord& r) {
  auto filter = OutputFilter::parse(expression);
  EXPECT_TRUE(filter) << expression << ": " << filter.error().message;
  return filter && filter->matches(r);
}

TEST(OutputFilter, ZmapsDefaultSelectsOpenPortsOnly) {
  const auto open = record("198.18.0.5", 80, Classification::kSynAck);
  const auto closed = record("198.18.0.5", 81, Classification::kRst);
  EXPECT_TRUE(matches("success = 1 && repeat = 0", open));
  EXPECT_FALSE(matches("success = 1 && repeat = 0", closed));
  EXPECT_TRUE(matches("success=1&&repeat=0", open));  // no spaces needed
}

TEST(OutputFilter, OperatorsPrecedenceAndParentheses) {
  const auto r = record("198.18.0.200", 443, Classification::kRst, 50);
  const std::pair<const char*, bool> table[] = {
      {"sport = 443", true},
      {"sport == 443", true},
      {"sport != 443", false},
      {"sport < 443", false},
      {"sport <= 443", true},
      {"sport > 442", true},
      {"sport >= 444", false},
      {"ttl < 64 && classification = rst", true},
      {"classification = synack || sport = 443", true},
      {"classification = \"rst\"", true},
      {"classification != rst", false},
      {"sport = 1 && sport = 2 || sport = 443", true},  // && binds tighter
      {"sport = 1 && (sport = 2 || sport = 443)", false},
      {"((((sport = 443))))", true},
      {"saddr = 198.18.0.200", true},
      {"saddr >= 198.18.0.128 && saddr < 198.18.1.0", true},
      {"daddr = 0.0.0.0", true},
      {"cooldown = 0 && repeat = 0 && success = 0", true},
  };
  for (const auto& [expression, expected] : table) {
    SCOPED_TRACE(expression);
    EXPECT_EQ(matches(expression, r), expected);
  }
}

TEST(OutputFilter, UdpFields) {
  ResultRecord closed = record("198.18.0.7", 9, Classification::kIcmpUnreach);
  closed.reply.icmp_code = 3;
  closed.reply.icmp_responder = *parse_ip("198.18.1.1");
  EXPECT_TRUE(matches("classification = icmp-unreach && icmp_code = 3", closed));
  EXPECT_TRUE(matches("icmp_unreach_str = \"port unreachable\"", closed));
  EXPECT_TRUE(matches("icmp_responder = 198.18.1.1", closed));
  EXPECT_FALSE(matches("icmp_code != 3", closed));
  ResultRecord open = record("198.18.0.7", 53, Classification::kUdp);
  open.reply.udp_length = 40;
  open.reply.data_length = 2;
  open.reply.data[0] = 0x12;
  open.reply.data[1] = 0x34;
  EXPECT_TRUE(matches("udp_pkt_size > 20 && data = 1234 && success = 1", open));
}

TEST(OutputFilter, BadExpressionsNameWhereAndWhat) {
  const std::pair<const char*, const char*> table[] = {
      {"", "at character 1 (the end): expected a field name or ("},
      {"sport", "at character 6 (the end): expected = != < > <= or >="},
      {"sport =", "expected a value"},
      {"nosuch = 1", "unknown field 'nosuch'"},
      {"sport = abc", "sport is a number"},
      {"classification < rst", "classification is text: compare it with = or != only"},
      {"saddr = 999.1.1.1", "saddr compares with an address: not an IPv4 address"},
      {"sport = 1 &&", "expected a field name or ("},
      {"(sport = 1", "expected )"},
      {"sport = 1)", "expected && or || or the end"},
      {"sport = 1 & sport = 2", "unexpected character"},
      {"classification = \"rst", "unterminated \"string\""},
      {"sport = 99999999999999999999999", "sport is a number"},
  };
  for (const auto& [expression, message] : table) {
    SCOPED_TRACE(expression);
    auto filter = OutputFilter::parse(expression);
    ASSERT_FALSE(filter);
    EXPECT_EQ(filter.error().code, ExitCode::kUsage);
    EXPECT_NE(filter.error().message.find(message), std::string::npos) << filter.error().message;
  }
  std::string deep(40, '(');
  EXPECT_NE(OutputFilter::parse(deep + "sport = 1" + std::string(40, ')'))
                .error()
                .message.find("nested too deep"),
            std::string::npos);
  EXPECT_FALSE(OutputFilter::parse(std::string(5000, ' ')));
}

TEST(JsonCheck, AcceptsJsonAndRefusesTheRest) {
  for (const char* good : {"{}", "[]", "0", "-1.5e+3", "\"a\\u00e9\"", "true", "null",
                           " {\"a\": [1, {\"b\": null}], \"c\": \"d\"} "})
    EXPECT_TRUE(check_json(good)) << good;
  for (const char* bad :
       {"", "{", "{\"a\"}", "[1,]", "01", "\"\\x\"", "tru", "{} {}", "'a'", "1.", "\"\n\""})
    EXPECT_FALSE(check_json(bad)) << bad;
  EXPECT_FALSE(check_json(std::string(100, '[') + std::string(100, ']')));  // too deep
}

}  // namespace
}  // namespace anyscan
