#include "store/checkpoint.h"

#include <cinttypes>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "base/crc32.h"
#include "base/parse_number.h"

namespace anyscan {
namespace {

constexpr std::string_view kHeader = "anyscan-checkpoint ";
constexpr std::string_view kCrcKey = "crc32=";

Result<void> bad(size_t line, const std::string& what) {
  return make_error(ExitCode::kDataErr, "line " + std::to_string(line) + ": " + what);
}

std::optional<uint64_t> parse_hex64(std::string_view text) {
  if (text.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

// Reads the KEY=VALUE body into the record; every key must be known and appear once.
class BodyReader {
 public:
  BodyReader(Checkpoint& c, int version) : c_(c), version_(version) {
    if (version_ >= 2) number_["sequence"] = &c.sequence;
    text_["identity.targets"] = &c.identity.targets;
    text_["identity.ports"] = &c.identity.ports;
    text_["identity.module"] = &c.identity.module;
    text_["identity.shard"] = &c.identity.shard;
    text_["identity.source_ports"] = &c.identity.source_ports;
    text_["identity.output"] = &c.identity.output;
    text_["results.path"] = &c.results_path;
    text_["started"] = &c.started;
    number_["identity.max_targets"] = &c.identity.max_targets;
    number_["progress.resume_from"] = &c.resume_from;
    number_["progress.slice_count"] = &c.slice_count;
    number_["results.offset"] = &c.results_offset;
    number_["seed"] = &c.seed;
    for (const TotalsCount& f : kTotalsCounts)
      number_[std::string("counts.") + f.name] = &(c.counts.*f.member);
  }

  Result<void> read(size_t line, std::string_view key, std::string_view value) {
    if (!seen_.insert(std::string(key)).second)
      return bad(line, "'" + std::string(key) + "' twice");
    if (auto it = text_.find(std::string(key)); it != text_.end()) {
      *it->second = std::string(value);
      return {};
    }
    if (auto it = number_.find(std::string(key)); it != number_.end()) {
      auto n = parse_decimal(value, UINT64_MAX);
      if (!n) return bad(line, std::string(key) + " is not a number");
      *it->second = *n;
      return {};
    }
    return special(line, key, value);
  }

  Result<void> complete() const {
    for (const auto* table : {&required_text(), &required_numbers()})
      for (const std::string& key : *table)
        if (!seen_.count(key)) return make_error(ExitCode::kDataErr, "'" + key + "' is missing");
    if (version_ >= 2 && !seen_.count("sequence"))
      return make_error(ExitCode::kDataErr, "'sequence' is missing");
    return {};
  }

 private:
  Result<void> special(size_t line, std::string_view key, std::string_view value) {
    if (key == "state") {
      if (value != "running" && value != "finished")
        return bad(line, "state must be running or finished");
      c_.finished = value == "finished";
      return {};
    }
    if (key == "identity.probes") {
      auto n = parse_decimal(value, UINT32_MAX);
      if (!n) return bad(line, "identity.probes is not a number");
      c_.identity.probes = static_cast<uint32_t>(*n);
      return {};
    }
    if (key == "key") {
      const size_t colon = value.find(':');
      auto a = parse_hex64(value.substr(0, colon));
      auto b =
          colon == std::string_view::npos ? std::nullopt : parse_hex64(value.substr(colon + 1));
      if (!a || !b) return bad(line, "key must be two 16-digit hex words");
      c_.key[0] = *a;
      c_.key[1] = *b;
      return {};
    }
    if (key.rfind("resume.", 0) == 0) {
      // resume.N=TIME FROM OFFSET
      ResumeRecord r;
      const size_t space1 = value.find(' ');
      const size_t space2 = space1 == std::string_view::npos ? space1 : value.find(' ', space1 + 1);
      if (space2 == std::string_view::npos)
        return bad(line, "resume entry must be TIME FROM OFFSET");
      r.time = std::string(value.substr(0, space1));
      auto from = parse_decimal(value.substr(space1 + 1, space2 - space1 - 1), UINT64_MAX);
      auto offset = parse_decimal(value.substr(space2 + 1), UINT64_MAX);
      if (!from || !offset) return bad(line, "resume entry must be TIME FROM OFFSET");
      r.from_target = *from;
      r.results_offset = *offset;
      c_.resumes.push_back(r);
      return {};
    }
    return bad(line, "unknown key '" + std::string(key) + "'");
  }

  static const std::vector<std::string>& required_text() {
    static const std::vector<std::string> keys = {"state",
                                                  "identity.targets",
                                                  "identity.ports",
                                                  "identity.module",
                                                  "identity.probes",
                                                  "identity.shard",
                                                  "identity.source_ports",
                                                  "identity.output",
                                                  "results.path",
                                                  "key",
                                                  "started"};
    return keys;
  }
  static const std::vector<std::string>& required_numbers() {
    static const std::vector<std::string> keys = [] {
      std::vector<std::string> k = {"identity.max_targets", "progress.resume_from",
                                    "progress.slice_count", "results.offset", "seed"};
      return k;  // counts.*: a count a later version added reads as 0 where absent
    }();
    return keys;
  }

  Checkpoint& c_;
  int version_;
  std::map<std::string, std::string*> text_;
  std::map<std::string, uint64_t*> number_;
  std::set<std::string> seen_;
};

}  // namespace

std::string checkpoint_hex64(uint64_t v) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016" PRIx64, v);
  return buffer;
}

std::string format_checkpoint(const Checkpoint& c) {
  std::string out = std::string(kHeader) + std::to_string(Checkpoint::kVersion) + "\n";
  auto put = [&](const std::string& key, const std::string& value) {
    out += key + "=" + value + "\n";
  };
  put("sequence", std::to_string(c.sequence));
  put("state", c.finished ? "finished" : "running");
  put("identity.targets", c.identity.targets);
  put("identity.ports", c.identity.ports);
  put("identity.module", c.identity.module);
  put("identity.probes", std::to_string(c.identity.probes));
  put("identity.shard", c.identity.shard);
  put("identity.source_ports", c.identity.source_ports);
  put("identity.max_targets", std::to_string(c.identity.max_targets));
  put("identity.output", c.identity.output);
  put("seed", std::to_string(c.seed));
  put("key", checkpoint_hex64(c.key[0]) + ":" + checkpoint_hex64(c.key[1]));
  put("progress.resume_from", std::to_string(c.resume_from));
  put("progress.slice_count", std::to_string(c.slice_count));
  put("results.path", c.results_path);
  put("results.offset", std::to_string(c.results_offset));
  for (const TotalsCount& f : kTotalsCounts)
    put(std::string("counts.") + f.name, std::to_string(c.counts.*f.member));
  put("started", c.started);
  for (size_t i = 0; i < c.resumes.size(); ++i)
    put("resume." + std::to_string(i + 1), c.resumes[i].time + " " +
                                               std::to_string(c.resumes[i].from_target) + " " +
                                               std::to_string(c.resumes[i].results_offset));
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", crc32(out));
  return out + std::string(kCrcKey) + crc + "\n";
}

Result<Checkpoint> parse_checkpoint(std::string_view text) {
  if (text.rfind(kHeader, 0) != 0)
    return make_error(ExitCode::kDataErr, "not an anyscan checkpoint");
  // The CRC line closes the file; anything after it, or no CRC line, is damage.
  const size_t crc_at = text.rfind(std::string("\n") + std::string(kCrcKey));
  if (crc_at == std::string_view::npos || text.back() != '\n')
    return make_error(ExitCode::kDataErr, "no checksum line (truncated?)");
  const std::string_view body = text.substr(0, crc_at + 1);
  const std::string_view crc_text = text.substr(crc_at + 1 + kCrcKey.size());
  char expected[16];
  std::snprintf(expected, sizeof expected, "%08x\n", crc32(body));
  if (crc_text != expected)
    return make_error(ExitCode::kDataErr, "checksum mismatch (damaged or truncated)");

  const size_t header_end = body.find('\n');
  const std::string_view version = body.substr(kHeader.size(), header_end - kHeader.size());
  if (version != "1" && version != std::to_string(Checkpoint::kVersion))
    return make_error(ExitCode::kDataErr, "version " + std::string(version) + " is not 1 or " +
                                              std::to_string(Checkpoint::kVersion));
  Checkpoint c;
  BodyReader reader(c, version == "1" ? 1 : Checkpoint::kVersion);
  size_t line = 1;
  for (size_t at = header_end + 1; at < body.size();) {
    const size_t end = body.find('\n', at);
    const std::string_view entry = body.substr(at, end - at);
    ++line;
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return tl::unexpected(bad(line, "expected KEY=VALUE").error());
    if (auto read = reader.read(line, entry.substr(0, eq), entry.substr(eq + 1)); !read)
      return tl::unexpected(read.error());
    at = end + 1;
  }
  if (auto complete = reader.complete(); !complete) return tl::unexpected(complete.error());
  if (c.resume_from > c.slice_count)
    return make_error(ExitCode::kDataErr, "progress.resume_from is beyond progress.slice_count");
  return c;
}

std::optional<std::string> identity_difference(const ScanIdentity& saved, const ScanIdentity& now) {
  const std::pair<const char*, std::pair<std::string, std::string>> fields[] = {
      {"targets (after allow/blocklists)", {saved.targets, now.targets}},
      {"ports", {saved.ports, now.ports}},
      {"probe module", {saved.module, now.module}},
      {"probes per target (-P)", {std::to_string(saved.probes), std::to_string(now.probes)}},
      {"shard", {saved.shard, now.shard}},
      {"source ports", {saved.source_ports, now.source_ports}},
      {"max targets (-n)", {std::to_string(saved.max_targets), std::to_string(now.max_targets)}},
      {"output format and fields", {saved.output, now.output}},
  };
  for (const auto& [name, values] : fields)
    if (values.first != values.second)
      return std::string(name) + ": the checkpoint has '" + values.first + "', this run '" +
             values.second + "'";
  return std::nullopt;
}

}  // namespace anyscan
