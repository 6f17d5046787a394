// anyscan-merge: the shards of one fleet scan into one results file (scan/shard_merge.h).
#include "scan/shard_merge.h"

int main(int argc, char** argv) { return anyscan::merge_main(argc, argv); }
