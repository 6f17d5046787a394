// anyscan-merge: the shards of one fleet scan into one results file (fleet/shard_merge.h).
#include "fleet/shard_merge.h"

int main(int argc, char** argv) { return anyscan::merge_main(argc, argv); }
