#pragma once
// Exact DynamoDB deletion latency from the table's stream, read-only. When the table has a
// stream whose view holds old images (OLD_IMAGE, NEW_AND_OLD_IMAGES), the records of the last
// 24 h (the stream's retention) are read with DescribeStream (paged by ExclusiveStartShardId),
// GetShardIterator (TRIM_HORIZON, per shard) and GetRecords. Each REMOVE whose userIdentity is
// the TTL service (type "Service", principal "dynamodb.amazonaws.com") is one TTL deletion, with
// latency = the record's ApproximateCreationDateTime - the old image's TTL value (seconds).
// User deletes (no userIdentity), INSERT and MODIFY are counted but never taken for TTL.
//
// Record shape: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_Record.html
// and https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html
// The wire spells the identity members PrincipalId/Type (the API model); Lambda events spell
// them principalId/type: both are accepted.
//
// Cost: each Streams call counts as one read unit against the target's rate limit and read
// budget (AWS bills it as one streams read request unit; it consumes no table capacity).
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_client.h"
#include "sources/rate_limiter.h"

namespace ttla::dynamodb {

inline constexpr int64_t kStreamWindowSeconds = 86400;  // DynamoDB Streams keeps 24 h
inline constexpr uint64_t kMaxStreamRequests = 20000;   // a run reads at most this many pages

struct StreamSpec {
  std::string arn;        // LatestStreamArn
  std::string view_type;  // StreamSpecification.StreamViewType
  bool enabled = false;   // StreamSpecification.StreamEnabled
};
// Pure: the table's latest stream from a DescribeTable response; nullopt when it has none.
// Throws ttla::Error(kParse) on a body that is not a DescribeTable answer.
std::optional<StreamSpec> parse_table_stream(std::string_view describe_table_json);
// OLD_IMAGE or NEW_AND_OLD_IMAGES: records of removals carry the deleted item's TTL.
bool has_old_images(const StreamSpec& spec);

struct StreamShard {
  std::string id;
  bool closed = false;  // SequenceNumberRange.EndingSequenceNumber is set
};
struct DescribeStreamPage {
  std::vector<StreamShard> shards;
  std::string last_evaluated_shard_id;  // empty: last page
};

// Pure request bodies and response parsers (throw ttla::Error(kParse) on malformed answers).
std::string describe_stream_body(const std::string& arn, const std::string& exclusive_start_shard_id);
std::string get_shard_iterator_body(const std::string& arn, const std::string& shard_id);
std::string get_records_body(const std::string& iterator);
DescribeStreamPage parse_describe_stream(std::string_view json);
std::string parse_shard_iterator(std::string_view json);

// What the records of the window tell.
struct StreamTally {
  uint64_t records = 0;          // records created inside the window
  uint64_t ttl_deletions = 0;    // TTL-service REMOVEs with a seconds TTL: one latency each
  uint64_t user_deletions = 0;   // REMOVEs by anyone else
  uint64_t ttl_not_seconds = 0;  // TTL-service REMOVEs whose old TTL is not a Number of seconds
  std::vector<double> latencies;  // seconds, one per TTL deletion (negative ones clamped to 0)
};

struct RecordsPage {
  size_t records = 0;          // records on the page, whatever their time
  std::string next_iterator;   // empty: the shard is closed and read to its end
  bool past_window = false;    // a record created after the window's end: later ones are too
};
// Pure: adds a GetRecords page's records created in [window_start, window_end] to `tally`.
RecordsPage parse_get_records(std::string_view json, const std::string& ttl_attribute,
                              int64_t window_start, int64_t window_end, StreamTally* tally);

struct StreamReadOptions {
  std::string ttl_attribute;
  int64_t window_start = 0;
  int64_t window_end = 0;
  RateLimiter* limiter = nullptr;  // null: unlimited
  bool budgeted = false;
  double budget_left = 0;          // read units left in the target's budget (when budgeted)
  const std::atomic<bool>* cancel = nullptr;
  uint64_t max_requests = kMaxStreamRequests;
};
struct StreamRead {
  StreamTally tally;
  uint64_t shards = 0;
  uint64_t requests = 0;
  std::string error;  // set when the read failed: the tally is then incomplete and unused
};
// Reads the stream's window. Never throws for an AWS or parse failure: it becomes `error`.
StreamRead read_stream(aws::AwsClient& client, const std::string& stream_arn,
                       const StreamReadOptions& options);

// Where the stream's outcome goes: `latency_stream` (what was read, or why not) and, when it saw
// at least one TTL deletion, the section's latency fields with latency_source "stream" (the
// snapshot estimate, if any, moves to `latency_snapshots`). A failed read leaves the snapshot
// fields as they are and says why in `latency_stream_error` (and `latency_error` when there is
// no other latency to show).
void merge_stream_latency(nlohmann::json* deletion, const StreamSpec& spec, const StreamRead& read,
                          int64_t window_start, int64_t window_end);

// Exact quantile of sorted values, nearest rank: the smallest value with at least p of them at
// or below it. `sorted` must not be empty.
double nearest_rank_quantile(const std::vector<double>& sorted, double p);

}  // namespace ttla::dynamodb
