#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/scan_totals.h"

namespace anyscan {

// What defines a scan's probe set, its validation and its results file: two runs are the
// same scan exactly when these are equal (the seed and key are restored from the
// checkpoint unless the command line names a seed).
struct ScanIdentity {
  std::string targets;       // hash of the address ranges after allow/blocklists, and count
  std::string ports;         // "1-1024,8080" (empty for modules without ports)
  std::string module;        // probe module
  uint32_t probes = 1;       // -P
  std::string shard;         // "I/N"
  std::string source_ports;  // "32768-61000"
  uint64_t max_targets = 0;  // -n, 0 = all
  std::string output;        // "csv:saddr,sport,..." or "json:..."
  bool operator==(const ScanIdentity&) const = default;
};

// A resume, as the metadata reports it.
struct ResumeRecord {
  std::string time;          // ISO 8601 UTC
  uint64_t from_target = 0;  // shard position the run continued from
  uint64_t results_offset = 0;
};

// A checkpoint record (--checkpoint-file), version 2: "KEY=VALUE" lines after a header
// line, closed by a CRC-32 of everything before it. Version 1 (written by 0.1 before the
// file had slots) is the same without `sequence`. anyscan(8), CHECKPOINTS, documents it.
struct Checkpoint {
  static constexpr int kVersion = 2;
  // Counts the records written for this scan; picks the newest of the file's two slots.
  uint64_t sequence = 0;
  bool finished = false;
  ScanIdentity identity;
  uint64_t seed = 0;
  uint64_t key[2] = {0, 0};
  // Shard positions [0, resume_from) are done, their replies included in the results up to
  // results_offset: a resume sends from here (which re-sends what was in flight within the
  // cooldown before the checkpoint).
  uint64_t resume_from = 0;
  uint64_t slice_count = 0;  // shard positions in all, for progress
  std::string results_path;
  uint64_t results_offset = 0;  // bytes; a record boundary, synced before this was written
  Totals counts;                // cumulative over every run of the scan
  std::string started;          // first run's start, ISO 8601 UTC
  std::vector<ResumeRecord> resumes;
};

std::string format_checkpoint(const Checkpoint& checkpoint);
// Errors (kDataErr) say what is wrong: "not an anyscan checkpoint", "version 7 is not 1 or
// 2", "checksum mismatch (damaged or truncated)", "line 4: ...".
Result<Checkpoint> parse_checkpoint(std::string_view text);

// 16 lower-case hex digits, as the record writes numbers that are hashes or keys.
std::string checkpoint_hex64(uint64_t value);

// "ports: the checkpoint has 80, this run 443", or nullopt when they are the same scan.
std::optional<std::string> identity_difference(const ScanIdentity& saved, const ScanIdentity& now);

}  // namespace anyscan
