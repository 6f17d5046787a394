#include "fleet/shard_merge.h"

#include <absl/container/flat_hash_set.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <map>

#include "base/env_file.h"
#include "base/log.h"
#include "output/json_value.h"
#include "output/output_field.h"
#include "output/record_formatter.h"
#include "output/record_reader.h"

namespace anyscan {

namespace {

struct Shard {
  std::string metadata;  // its path, as given
  JsonValue document;
  const JsonValue* plan = nullptr;
  uint64_t index = 0;
  uint64_t count = 0;
  std::string results;  // resolved path
  bool json = false;
  std::vector<OutputField> fields;
};

Error data_error(const std::string& message) { return Error{ExitCode::kDataErr, message}; }

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

const JsonValue* member(const JsonValue& object, std::string_view key, JsonValue::Type type) {
  const JsonValue* value = object.find(key);
  return value != nullptr && value->type() == type ? value : nullptr;
}

// The output fields of plan.output, "csv:saddr,sport,... [filter:...]".
Result<void> read_output(const std::string& output, Shard& shard) {
  const size_t colon = output.find(':');
  const std::string format = output.substr(0, colon);
  if (colon == std::string::npos || (format != "csv" && format != "json"))
    return tl::unexpected(
        data_error(shard.metadata + ": plan.output '" + output + "' is not FORMAT:FIELDS"));
  shard.json = format == "json";
  const std::string fields = output.substr(colon + 1, output.find(' ', colon) - colon - 1);
  auto parsed = parse_output_fields(fields);
  if (!parsed)
    return tl::unexpected(data_error(shard.metadata + ": plan.output: " + parsed.error().message));
  shard.fields = *parsed;
  return {};
}

// A shard given as its run directory (ANYSCAN_RUN_DIRECTORY): its newest run's metadata,
// RUN.meta.json beside the RUN.csv/RUN.json that `latest` points at.
Result<std::string> newest_run_metadata(const std::string& dir) {
  char target[4096];
  const ssize_t n = ::readlink((dir + "/latest").c_str(), target, sizeof target - 1);
  if (n <= 0)
    return make_error(ExitCode::kNoInput,
                      errno_message(dir + " is a directory without a run (no 'latest')", errno));
  std::string run(target, static_cast<size_t>(n));
  run = run.substr(run.rfind('/') + 1);
  return dir + "/" + run.substr(0, run.rfind('.')) + ".meta.json";
}

// A shard's metadata: one finished shard of some fleet scan, its results in a file.
Result<Shard> read_shard(const std::string& given) {
  Shard shard;
  struct stat st {};
  std::string path = given;
  if (::stat(given.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    auto newest = newest_run_metadata(given);
    if (!newest) return tl::unexpected(newest.error());
    path = *newest;
  }
  shard.metadata = path;
  auto text = read_small_file(path, size_t{16} << 20);
  if (!text) {
    const ExitCode code =
        text.error().code == ExitCode::kConfig ? ExitCode::kDataErr : text.error().code;
    return make_error(code, text.error().message);
  }
  auto document = JsonValue::parse(*text);
  if (!document) return tl::unexpected(data_error(path + ": " + document.error().message));
  shard.document = std::move(*document);
  const JsonValue& d = shard.document;
  const JsonValue* scanner = member(d, "scanner", JsonValue::Type::kString);
  if (!d.is_object() || scanner == nullptr || scanner->text() != "anyscan")
    return tl::unexpected(data_error(path + ": not the metadata of an anyscan scan (-m)"));
  shard.plan = member(d, "plan", JsonValue::Type::kObject);
  const JsonValue* index = d.find("shard");
  const JsonValue* results = member(d, "results_file", JsonValue::Type::kString);
  if (shard.plan == nullptr || index == nullptr || !index->as_u64() || results == nullptr)
    return tl::unexpected(data_error(path + ": no plan, shard or results_file (written by an "
                                            "anyscan before fleet runs?)"));
  const JsonValue* shards = shard.plan->find("shards");
  const JsonValue* output = member(*shard.plan, "output", JsonValue::Type::kString);
  if (shards == nullptr || !shards->as_u64() || *shards->as_u64() == 0 || output == nullptr)
    return tl::unexpected(data_error(path + ": plan without shards or output"));
  shard.index = *index->as_u64();
  shard.count = *shards->as_u64();
  const JsonValue* reason = member(d, "stop_reason", JsonValue::Type::kString);
  const JsonValue* interrupted = d.find("interrupted");
  if (reason == nullptr || reason->text() != "completed" || interrupted == nullptr ||
      interrupted->as_bool() != false || d.find("error") != nullptr)
    return tl::unexpected(data_error(
        path + ": shard " + std::to_string(shard.index) + " did not finish (stop_reason " +
        (reason ? reason->text() : "missing") + "): resume it (--resume) before merging"));
  const std::string& file = results->text();
  if (file.empty() || file == "-" || file == "/dev/null")
    return tl::unexpected(data_error(path + ": shard " + std::to_string(shard.index) +
                                     " wrote its results to " + (file.empty() ? "nowhere" : file) +
                                     ", not a file"));
  // Relative names are beside the metadata; an absolute one that is not there (a path in
  // the container or on the host that wrote it) is looked for beside the metadata too.
  const std::string beside = directory_of(path) + "/" + file.substr(file.rfind('/') + 1);
  shard.results = file.front() != '/'                 ? directory_of(path) + "/" + file
                  : ::access(file.c_str(), F_OK) == 0 ? file
                                                      : beside;
  if (auto read = read_output(output->text(), shard); !read) return tl::unexpected(read.error());
  return shard;
}

// "seed 5 and 6": the first field of the plans that differs.
std::string plan_difference(const JsonValue& a, const JsonValue& b) {
  for (const char* key :
       {"targets", "ports", "probe_module", "probes", "seed", "shards", "max_targets", "output"}) {
    const JsonValue* x = a.find(key);
    const JsonValue* y = b.find(key);
    const std::string vx = x ? x->dump() : "none", vy = y ? y->dump() : "none";
    if (vx != vy) return std::string(key) + " " + vx + " and " + vy;
  }
  return "fingerprint " + (a.find("fingerprint") ? a.find("fingerprint")->dump() : "none") +
         " and " + (b.find("fingerprint") ? b.find("fingerprint")->dump() : "none");
}

// Every shard the same scan, every index once.
Result<void> check_complete(std::vector<Shard>& shards) {
  const Shard& first = shards.front();
  for (const Shard& s : shards)
    if (s.plan->dump() != first.plan->dump())
      return tl::unexpected(data_error(s.metadata + " is not a shard of the same scan as " +
                                       first.metadata + ": " +
                                       plan_difference(*first.plan, *s.plan)));
  std::map<uint64_t, const Shard*> by_index;
  for (const Shard& s : shards) {
    if (s.index >= first.count)
      return tl::unexpected(data_error(s.metadata + ": shard " + std::to_string(s.index) +
                                       " of a scan of " + std::to_string(first.count)));
    if (const auto [it, fresh] = by_index.emplace(s.index, &s); !fresh)
      return tl::unexpected(data_error("shard " + std::to_string(s.index) + " given twice: " +
                                       it->second->metadata + " and " + s.metadata));
  }
  std::string missing;
  for (uint64_t i = 0; i < first.count; ++i)
    if (!by_index.count(i)) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
  if (!missing.empty())
    return tl::unexpected(data_error(
        "shard" + std::string(missing.find(',') != std::string::npos ? "s " : " ") + missing +
        " of " + std::to_string(first.count) + " missing: every shard's metadata is needed"));
  std::sort(shards.begin(), shards.end(),
            [](const Shard& a, const Shard& b) { return a.index < b.index; });
  return {};
}

// Writes to PATH.tmp (created new), then fsyncs and renames it over PATH.
class OutputFile {
 public:
  ~OutputFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
  }
  Result<void> open(const std::string& path) {
    path_ = path;
    temp_ = path + ".tmp";
    const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      temp_.clear();
      return make_error(ExitCode::kCantCreate,
                        errno_message("cannot create " + path + ".tmp", errno));
    }
    file_ = ::fdopen(fd, "w");
    return {};
  }
  bool write(std::string_view text) {
    return std::fwrite(text.data(), 1, text.size(), file_) == text.size();
  }
  Result<void> commit() {
    if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0 || std::ferror(file_))
      return make_error(ExitCode::kIoErr, errno_message("writing " + path_, errno));
    std::fclose(file_);
    file_ = nullptr;
    if (::rename(temp_.c_str(), path_.c_str()) != 0)
      return make_error(ExitCode::kIoErr, errno_message("renaming " + temp_, errno));
    committed_ = true;
    return {};
  }

 private:
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

// A result exactly: the whole address (either family), the port and the classification.
struct ResultKey {
  uint64_t high = 0, low = 0;
  uint32_t port_and_class = 0;
  bool operator==(const ResultKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const ResultKey& k) {
    return H::combine(std::move(h), k.high, k.low, k.port_and_class);
  }
};

struct Union {
  absl::flat_hash_set<ResultKey> seen;
  MergeSummary summary;
  std::vector<uint64_t> per_shard;  // distinct results each shard added
};

// One shard's results into `out`, skipping what an earlier shard already had.
Result<void> append_results(const Shard& shard, OutputFile& out, Union& u) {
  std::ifstream in(shard.results, std::ios::binary);
  if (!in)
    return make_error(ExitCode::kNoInput,
                      errno_message(shard.metadata + ": cannot open " + shard.results, errno));
  const RecordReader reader(shard.json, shard.fields);
  const std::string header = shard.json ? "" : csv_header(shard.fields);
  std::string line;
  uint64_t number = 0, added = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = shard.results + ":" + std::to_string(number);
    if (in.eof()) return tl::unexpected(data_error(where + ": a last line without its newline"));
    if (number == 1 && !shard.json) {
      if (line != header)
        return tl::unexpected(data_error(where + ": expected the CSV header " + header));
      continue;
    }
    auto key = reader.parse(line);
    if (!key) return tl::unexpected(data_error(where + ": " + key.error().message));
    const ResultKey packed{key->saddr.high64(), key->saddr.low64(),
                           uint32_t{key->sport} << 8 | static_cast<uint32_t>(key->classification)};
    if (!u.seen.insert(packed).second) {
      ++u.summary.duplicates;
      continue;
    }
    line += '\n';
    if (!out.write(line))
      return make_error(ExitCode::kIoErr, errno_message("writing results", errno));
    ++added;
  }
  if (in.bad()) return make_error(ExitCode::kIoErr, "reading " + shard.results);
  u.per_shard.push_back(added);
  u.summary.results += added;
  return {};
}

// The combined record: the plan, the inputs, and the shards' counts summed.
std::string merged_metadata(const std::vector<Shard>& shards, const MergeRequest& request,
                            const Union& u) {
  const JsonValue& plan = *shards.front().plan;
  std::string json = "{\"scanner\":\"anyscan-merge\",\"version\":\"" ANYSCAN_VERSION "\"";
  json += ",\"plan\":" + plan.dump();
  json += ",\"results_file\":" + json_quote(request.output);
  json += ",\"output_format\":\"" + std::string(shards.front().json ? "json" : "csv") + "\"";
  json += ",\"results\":" + std::to_string(u.summary.results) +
          ",\"duplicates_across_shards\":" + std::to_string(u.summary.duplicates);
  std::string start, end;
  std::map<std::string, uint64_t> counts;
  json += ",\"inputs\":[";
  for (size_t i = 0; i < shards.size(); ++i) {
    const JsonValue& d = shards[i].document;
    json += std::string(i ? "," : "") + "{\"shard\":" + std::to_string(shards[i].index) +
            ",\"metadata\":" + json_quote(shards[i].metadata) +
            ",\"results_file\":" + json_quote(shards[i].results) +
            ",\"results\":" + std::to_string(u.per_shard[i]) + "}";
    if (const JsonValue* s = d.find("start"); s && (start.empty() || s->text() < start))
      start = s->text();
    if (const JsonValue* e = d.find("end"); e && e->text() > end) end = e->text();
    if (const JsonValue* c = d.find("counts"); c && c->is_object())
      for (const auto& [name, value] : c->members())
        if (value.as_u64()) counts[name] += *value.as_u64();
  }
  json += "],\"start\":" + json_quote(start) + ",\"end\":" + json_quote(end) + ",\"counts\":{";
  bool first = true;
  for (const auto& [name, value] : counts) {
    json += (first ? "" : ",") + json_quote(name) + ":" + std::to_string(value);
    first = false;
  }
  return json + "}}\n";
}

}  // namespace

Result<MergeSummary> merge_shards(const MergeRequest& request) {
  if (request.metadata_files.empty())
    return make_error(ExitCode::kUsage, "no shard metadata files given");
  std::vector<Shard> shards;
  for (const std::string& path : request.metadata_files) {
    auto shard = read_shard(path);
    if (!shard) return tl::unexpected(shard.error());
    shards.push_back(std::move(*shard));
  }
  if (auto complete = check_complete(shards); !complete) return tl::unexpected(complete.error());
  for (const Shard& s : shards)
    if (s.results == request.output || s.metadata == request.metadata_output)
      return make_error(ExitCode::kUsage, "the output would overwrite an input: " + s.results);
  OutputFile results, metadata;
  if (auto opened = results.open(request.output); !opened) return tl::unexpected(opened.error());
  Union u;
  if (!shards.front().json && !results.write(csv_header(shards.front().fields) + "\n"))
    return make_error(ExitCode::kIoErr, errno_message("writing " + request.output, errno));
  for (const Shard& shard : shards)
    if (auto added = append_results(shard, results, u); !added)
      return tl::unexpected(added.error());
  u.summary.shards = static_cast<uint32_t>(shards.size());
  const std::string meta_path =
      request.metadata_output.empty() ? request.output + ".meta.json" : request.metadata_output;
  if (auto opened = metadata.open(meta_path); !opened) return tl::unexpected(opened.error());
  if (!metadata.write(merged_metadata(shards, request, u)))
    return make_error(ExitCode::kIoErr, errno_message("writing " + meta_path, errno));
  if (auto done = results.commit(); !done) return tl::unexpected(done.error());
  if (auto done = metadata.commit(); !done) return tl::unexpected(done.error());
  return u.summary;
}

int merge_main(int argc, char** argv) {
  set_log_program("anyscan-merge");
  static const char kUsage[] =
      "usage: anyscan-merge -o OUT [-m META_OUT] SHARD.meta.json|RUN_DIRECTORY...\n"
      "Merges the shards of one fleet scan (anyscan --shards N --shard I -m SHARD.meta.json):\n"
      "checks they are one scan, every shard 0..N-1 present once and completed, and writes\n"
      "the union of their results (exact dedup) to OUT and a combined record to META_OUT\n"
      "(default OUT.meta.json). See anyscan-merge(1).\n"
      "Exit: 0 merged; 64 usage; 65 a shard missing, unfinished, duplicated, foreign or\n"
      "malformed; 66 an input cannot be read; 73 an output exists or cannot be created;\n"
      "74 write error.\n";
  static const option kLong[] = {{"output", required_argument, nullptr, 'o'},
                                 {"metadata", required_argument, nullptr, 'm'},
                                 {"help", no_argument, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  MergeRequest request;
  opterr = 0;
  for (int c; (c = ::getopt_long(argc, argv, "+o:m:h", kLong, nullptr)) != -1;) {
    if (c == 'o') {
      request.output = optarg;
    } else if (c == 'm') {
      request.metadata_output = optarg;
    } else if (c == 'h') {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      log_message(LogLevel::kError, "unknown option or missing value (see --help)");
      return static_cast<int>(ExitCode::kUsage);
    }
  }
  for (int i = optind; i < argc; ++i) request.metadata_files.emplace_back(argv[i]);
  if (request.output.empty() || request.metadata_files.empty()) {
    log_message(LogLevel::kError, "needs -o OUT and at least one shard's metadata (see --help)");
    return static_cast<int>(ExitCode::kUsage);
  }
  auto merged = merge_shards(request);
  if (!merged) {
    log_message(LogLevel::kError, merged.error().message);
    return static_cast<int>(merged.error().code);
  }
  std::printf("merged %u shards: %llu results (%llu duplicates across shards removed) in %s\n",
              merged->shards, static_cast<unsigned long long>(merged->results),
              static_cast<unsigned long long>(merged->duplicates), request.output.c_str());
  return 0;
}

}  // namespace anyscan
