// ttl-auditor: a read-only auditor of expired-but-undeleted data. All logic lives in ttla_app so
// tests can drive it; this file only hands over argv.
#include <malloc.h>

#include "app/cli.h"

int main(int argc, char** argv) {
#ifdef M_MMAP_THRESHOLD
  // Flat memory on long scans: glibc raises its mmap threshold each time a large block is freed,
  // after which page-sized buffers (response bodies, parser indexes, ~0.3-1 MB) come from the
  // per-thread heaps, where they fragment among small long-lived objects; the peak RSS of a
  // DynamoDB audit then grew 22% from 200k to 2M items with a flat heap. Setting the threshold
  // (to glibc's own default, 128 KiB) disables that adjustment: large blocks are mapped and
  // returned on free. Measured: bench/peer/run_dynamodb_peers.sh --rss-flatness.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
  return ttla::run_cli(argc, argv);
}
