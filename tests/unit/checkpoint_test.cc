// The checkpoint record and the results reader a resume depends on: what is written reads
// back the same, and anything damaged, foreign or cut is refused with a reason.
#include "store/checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "base/crc32.h"
#include "net/ipv4_address.h"
#include "output/record_formatter.h"
#include "output/record_reader.h"
#include "store/checkpoint_file.h"
#include "store/result_file.h"

namespace anyscan {
namespace {

TEST(Crc32, StandardCheckValue) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
}

Checkpoint sample_checkpoint() {
  Checkpoint c;
  c.identity = {
      "0afbcd1f27c6fdf7/4096",         "1-20,443", "tcp_synscan", 2, "1/4", "40000-49999", 1000000,
      "csv:saddr,sport,classification"};
  c.seed = 15547537305990382125ULL;
  c.key[0] = 0xa0faec8fb043019bULL;
  c.key[1] = 0x0c3af074f15becd7ULL;
  c.resume_from = 18332;
  c.slice_count = 81920;
  c.results_path = "/var/lib/anyscan/results/weekly/2026-12-02T01:17:52Z.csv";
  c.results_offset = 786337;
  c.counts.sent = 40000;
  c.counts.results = 39000;
  c.counts.duplicates = 12;
  c.counts.interface_dropped = 3;
  c.started = "2026-12-02T01:17:50.000001Z";
  c.resumes = {{"2026-12-02T01:17:52.353696Z", 18332, 794306}};
  return c;
}

TEST(Checkpoint, ReadsBackWhatItWrote) {
  const Checkpoint c = sample_checkpoint();
  const std::string text = format_checkpoint(c);
  auto back = parse_checkpoint(text);
  ASSERT_TRUE(back) << back.error().message << "\n" << text;
  EXPECT_EQ(back->identity, c.identity);
  EXPECT_EQ(back->seed, c.seed);
  EXPECT_EQ(back->key[0], c.key[0]);
  EXPECT_EQ(back->key[1], c.key[1]);
  EXPECT_EQ(back->resume_from, c.resume_from);
  EXPECT_EQ(back->slice_count, c.slice_count);
  EXPECT_EQ(back->results_path, c.results_path);
  EXPECT_EQ(back->results_offset, c.results_offset);
  EXPECT_EQ(back->counts.sent, 40000u);
  EXPECT_EQ(back->counts.results, 39000u);
  EXPECT_EQ(back->counts.interface_dropped, 3u);
  EXPECT_EQ(back->started, c.started);
  ASSERT_EQ(back->resumes.size(), 1u);
  EXPECT_EQ(back->resumes[0].from_target, 18332u);
  EXPECT_FALSE(back->finished);
  EXPECT_EQ(format_checkpoint(*back), text);
}

// A torn write or a flipped bit anywhere is refused, never half-read.
TEST(Checkpoint, EveryTruncationAndEveryFlippedByteIsRefused) {
  const std::string text = format_checkpoint(sample_checkpoint());
  for (size_t length = 0; length < text.size(); ++length) {
    auto parsed = parse_checkpoint(text.substr(0, length));
    ASSERT_FALSE(parsed) << "accepted the first " << length << " bytes";
    EXPECT_EQ(parsed.error().code, ExitCode::kDataErr);
  }
  for (size_t at = 0; at < text.size(); ++at) {
    std::string damaged = text;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x04);
    ASSERT_FALSE(parse_checkpoint(damaged)) << "accepted a flip at byte " << at;
  }
}

// Re-seals text after an edit, so that only the edit is wrong.
std::string resealed(std::string text) {
  const size_t crc = text.rfind("crc32=");
  char sealed[16];
  std::snprintf(sealed, sizeof sealed, "%08x\n", crc32(text.substr(0, crc)));
  return text.substr(0, crc) + "crc32=" + sealed;
}

TEST(Checkpoint, ForeignAndOtherVersionsSayWhat) {
  EXPECT_EQ(parse_checkpoint("saddr,sport\n198.18.0.1,80\n").error().message,
            "not an anyscan checkpoint");
  std::string v3 = format_checkpoint(sample_checkpoint());
  v3.replace(v3.find(" 2\n"), 3, " 3\n");
  EXPECT_EQ(parse_checkpoint(resealed(v3)).error().message, "version 3 is not 1 or 2");
  std::string no_sequence = format_checkpoint(sample_checkpoint());
  no_sequence.erase(no_sequence.find("sequence="),
                    no_sequence.find("state=") - no_sequence.find("sequence="));
  EXPECT_EQ(parse_checkpoint(resealed(no_sequence)).error().message, "'sequence' is missing");
}

// What anyscan 0.1 wrote (version 1: no sequence, no slots) still resumes, as sequence 0.
std::string version_1_record(const Checkpoint& c) {
  std::string text = format_checkpoint(c);
  text.replace(text.find(" 2\n"), 3, " 1\n");
  text.erase(text.find("sequence="), text.find("state=") - text.find("sequence="));
  return resealed(text);
}

TEST(CheckpointFile, AVersion1FileReadsAsSequence0) {
  auto read = parse_checkpoint_file(version_1_record(sample_checkpoint()));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->sequence, 0u);
  EXPECT_EQ(read->resume_from, 18332u);
}

// Two slots: the newest valid record wins; a torn newest slot falls back on the other.
std::string two_slots(Checkpoint older, Checkpoint newer) {
  std::string bytes(2 * kCheckpointSlotBytes, '\0');
  for (Checkpoint* c : {&older, &newer}) {
    const std::string text = format_checkpoint(*c);
    bytes.replace((c->sequence % 2) * kCheckpointSlotBytes, text.size(), text);
  }
  return bytes;
}

TEST(CheckpointFile, TheNewestValidSlotWins) {
  Checkpoint a = sample_checkpoint(), b = sample_checkpoint();
  a.sequence = 6;
  a.resume_from = 100;
  b.sequence = 7;
  b.resume_from = 200;
  const std::string bytes = two_slots(a, b);
  EXPECT_EQ(parse_checkpoint_file(bytes)->resume_from, 200u);
  for (size_t slot : {0u, 1u}) {
    SCOPED_TRACE(slot);
    std::string torn = bytes;
    torn[slot * kCheckpointSlotBytes + 300] ^= 0x01;
    auto read = parse_checkpoint_file(torn);
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(read->resume_from, slot == 1 ? 100u : 200u);
  }
  std::string both = bytes;
  both[300] ^= 0x01;
  both[kCheckpointSlotBytes + 300] ^= 0x01;
  EXPECT_EQ(parse_checkpoint_file(both).error().message,
            "checksum mismatch (damaged or truncated)");
  EXPECT_EQ(parse_checkpoint_file(std::string(10, '\0')).error().message,
            "empty (no record in either slot)");
  EXPECT_FALSE(parse_checkpoint_file(bytes + "x"));       // larger than two slots
  std::string misplaced(2 * kCheckpointSlotBytes, '\0');  // sequence 7 in slot 0
  misplaced.replace(0, format_checkpoint(b).size(), format_checkpoint(b));
  auto wrong_slot = parse_checkpoint_file(misplaced);
  ASSERT_FALSE(wrong_slot);
  EXPECT_EQ(wrong_slot.error().message, "sequence 7 in slot 0");
}

class CheckpointFileOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".checkpoint";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::unlink((path_ + ".tmp").c_str());
  }
  std::string path_;
};

TEST_F(CheckpointFileOnDisk, WritesAlternateSlotsAndReadBackTheNewest) {
  Checkpoint c = sample_checkpoint();
  auto file = CheckpointFile::open(path_, c, std::nullopt);
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ((*read_checkpoint(path_))->sequence, 0u);
  for (uint64_t position = 1; position <= 5; ++position) {
    c.resume_from = position;
    ASSERT_TRUE(file->write(c));
    auto back = read_checkpoint(path_);
    ASSERT_TRUE(back && *back);
    EXPECT_EQ((*back)->sequence, position);
    EXPECT_EQ((*back)->resume_from, position);
  }
  // A second writer is refused while the first holds the file.
  Checkpoint other = sample_checkpoint();
  auto second = CheckpointFile::open(path_, other, *read_checkpoint(path_));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ExitCode::kTempFail);
  EXPECT_NE(second.error().message.find("in use by another running scan"), std::string::npos);
}

TEST_F(CheckpointFileOnDisk, AResumeOfAVersion1FileKeepsItUntilTheNextRecordIsWritten) {
  std::ofstream(path_) << version_1_record(sample_checkpoint());
  auto saved = read_checkpoint(path_);
  ASSERT_TRUE(saved && *saved);
  Checkpoint next = **saved;
  next.resume_from = 20000;
  auto file = CheckpointFile::open(path_, next, *saved);
  ASSERT_TRUE(file) << file.error().message;
  auto back = read_checkpoint(path_);
  ASSERT_TRUE(back && *back);
  EXPECT_EQ((*back)->sequence, 1u);
  EXPECT_EQ((*back)->resume_from, 20000u);
}

TEST(Checkpoint, IdentityDifferenceNamesTheField) {
  const ScanIdentity a = sample_checkpoint().identity;
  EXPECT_FALSE(identity_difference(a, a));
  ScanIdentity b = a;
  b.ports = "443";
  EXPECT_EQ(*identity_difference(a, b), "ports: the checkpoint has '1-20,443', this run '443'");
  b = a;
  b.output = "json:saddr,sport,classification";
  EXPECT_NE(identity_difference(a, b)->find("output format and fields"), std::string::npos);
}

ResultRecord record(const char* saddr, uint16_t sport, Classification c) {
  ResultRecord r;
  r.reply.saddr = *parse_ip(saddr);
  r.reply.sport = sport;
  r.reply.ttl = 64;
  r.reply.classification = c;
  r.time_s = 1795474372;
  return r;
}

// What the formatter writes, the reader reads: every field choice, both formats.
TEST(RecordReader, ReadsBackTheFormattersRecords) {
  std::vector<OutputField> every;
  for (const auto& info : output_fields()) every.push_back(info.field);
  for (bool json : {false, true})
    for (const auto& fields : {default_output_fields(), every}) {
      SCOPED_TRACE(json ? "json" : "csv");
      RecordFormatter formatter(json, fields);
      RecordReader reader(json, fields);
      char buffer[RecordFormatter::kMaxRecordBytes];
      for (auto c : {Classification::kSynAck, Classification::kRst, Classification::kUnreachable}) {
        const size_t n = formatter.format(record("198.18.7.9", 8443, c), buffer);
        auto key = reader.parse(std::string_view(buffer, n - 1));
        ASSERT_TRUE(key) << key.error().message << ": " << std::string(buffer, n);
        EXPECT_EQ(key->saddr, *parse_ip("198.18.7.9"));
        EXPECT_EQ(key->sport, 8443);
        EXPECT_EQ(key->classification, c);
      }
    }
}

TEST(RecordReader, RefusesLinesThatAreNotRecords) {
  RecordReader csv(false, default_output_fields());
  for (const char* line :
       {"", "198.18.0.1,80,rst,0,64", "198.18.0.1,80,rst,0,64,x,y", "198.18.0.256,80,rst,0,64,t",
        "198.18.0.1,99999,rst,0,64,t", "198.18.0.1,80,open,1,64,t"}) {
    auto key = csv.parse(line);
    EXPECT_FALSE(key) << line;
    if (!key) {
      EXPECT_EQ(key.error().code, ExitCode::kDataErr);
    }
  }
  RecordReader json(true, {OutputField::kSaddr, OutputField::kClassification});
  EXPECT_TRUE(json.parse(R"({"saddr":"198.18.0.1","classification":"rst"})"));
  for (const char* line :
       {R"({"saddr":"198.18.0.1"})", R"({"saddr":198.18.0.1,"classification":"rst"})",
        R"({"saddr":"198.18.0.1","classification":"rst"} )",
        R"({"classification":"rst","saddr":"198.18.0.1"})"})
    EXPECT_FALSE(json.parse(line)) << line;
}

TEST(ResultFile, ReadsLinesUpToARecordBoundaryOnly) {
  const std::string path = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "-results.csv";
  std::ofstream(path) << "saddr,sport\n198.18.0.1,80\n198.18.0.2,81\n198.18.0.3,8";  // torn tail
  std::vector<std::string> lines;
  auto collect = [&](std::string_view l) -> Result<void> {
    lines.emplace_back(l);
    return {};
  };
  auto read = read_result_lines(path, 40, true, collect);  // the two whole records
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, 2u);
  EXPECT_EQ(lines, (std::vector<std::string>{"198.18.0.1,80", "198.18.0.2,81"}));
  auto mid = read_result_lines(path, 30, true, collect);
  ASSERT_FALSE(mid);
  EXPECT_NE(mid.error().message.find("not at the end of a line"), std::string::npos);
  auto beyond = read_result_lines(path, 4000, true, collect);
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error().code, ExitCode::kDataErr);
  auto bad_line = read_result_lines(path, 40, true, [](std::string_view) -> Result<void> {
    return make_error(ExitCode::kDataErr, "not a record");
  });
  ASSERT_FALSE(bad_line);
  EXPECT_NE(bad_line.error().message.find("line 2: not a record"), std::string::npos)
      << bad_line.error().message;
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace anyscan
