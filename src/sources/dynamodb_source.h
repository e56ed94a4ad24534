#pragma once
// kind: dynamodb — audits a table's TTL read-only: DescribeTable + DescribeTimeToLive, then a
// parallel Scan (full, a seeded segment sample, or this shard's segments) projecting only keys,
// the TTL attribute and group_by attributes, classified page by page (scan_page.h) into one
// TargetStats per worker, merged. Limits: max_read_units_per_second (token bucket on consumed
// capacity shared by workers), max_read_units (budget -> partial), cancellation (-> partial).
#include <memory>
#include <optional>
#include <string>

#include "aws/aws_client.h"
#include "aws/credentials.h"
#include "sources/source.h"

namespace ttla {

struct DynamodbSourceOptions {
  // Credentials for every request; null: aws::make_default_chain({profile}) per target.
  std::shared_ptr<aws::CredentialsProvider> credentials;
  aws::RetryOptions retry;  // per request
  aws::HttpOptions http;
  int default_segments = 4;   // TotalSegments of a full scan when `segments` is not set
  int default_workers = 4;    // threads when RunContext.threads is 0
  // Drop not_yet_expired items server-side (counted as ScannedCount - Count) when the target
  // has no population filter: same counts, much smaller pages.
  bool server_side_drop = true;
};

std::unique_ptr<Source> make_dynamodb_source();
std::unique_ptr<Source> make_dynamodb_source(DynamodbSourceOptions options);

// TotalSegments of a full scan: `segments` if set, else derived from the table size (one per
// GiB, at least `default_segments`), raised to a multiple of the shard count so every shard
// gets the same number of segments.
uint64_t full_scan_total_segments(int configured, std::optional<int64_t> table_size_bytes,
                                  int default_segments, int shard_count);

}  // namespace ttla
