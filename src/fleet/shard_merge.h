#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace anyscan {

// anyscan-merge: the shards of one fleet scan into one results file and one metadata record.
// Each shard's metadata (-m) names its results file (relative paths resolved beside the
// metadata). Before anything is written, the shards must be one scan (the same plan
// fingerprint: targets after lists, ports, probe module and its parameters, probes, seed,
// shard count, output format and fields), every index 0..N-1 exactly once, each completed.
// A missing, unfinished, duplicated or foreign shard is kDataErr naming it; an unreadable
// file kNoInput. The union is deduplicated exactly on (saddr, sport, classification), in
// shard order, and written to a temporary file renamed into place: nothing is left behind
// on failure.
struct MergeRequest {
  std::string output;                       // -o: the merged results
  std::string metadata_output;              // -m: the combined metadata (default OUT.meta.json)
  std::vector<std::string> metadata_files;  // the shards' metadata, any order
};

struct MergeSummary {
  uint32_t shards = 0;
  uint64_t results = 0;     // distinct results written
  uint64_t duplicates = 0;  // results seen in more than one shard (kept once)
};

Result<MergeSummary> merge_shards(const MergeRequest& request);

// "anyscan-merge -o OUT [-m META] META.json...": parses, merges, prints one line; the exit
// code (sysexits).
int merge_main(int argc, char** argv);

}  // namespace anyscan
