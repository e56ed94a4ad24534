// Deletion latency from a DynamoDB stream: the recorded GetRecords page with TTL-service REMOVEs
// (tests/fixtures/dynamodb/README.md: no local server runs a TTL process), the stream found in
// DescribeTable, exact quantiles, how the outcome lands in the deletion section, and the reader's
// paging and failure handling over HTTP with that recorded page.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "aws/aws_client.h"
#include "aws/credentials.h"
#include "core/error.h"
#include "sources/dynamodb_stream.h"
#include "sources/rate_limiter.h"
#include "support/test_http_server.h"
#include "support/fixtures.h"

namespace ttla::dynamodb {
namespace {

using nlohmann::json;
using ttla::testing::CannedResponse;
using ttla::testing::ReceivedRequest;
using ttla::testing::TestHttpServer;

constexpr int64_t kWindowStart = 1699950000;
constexpr int64_t kWindowEnd = 1700010000;

std::string fixture(const std::string& name) { return ttla::testing::fixture("dynamodb", name); }

TEST(DynamodbStream, RecordedPageYieldsTtlServiceRemovesOnly) {
  StreamTally t;
  RecordsPage page = parse_get_records(fixture("get_records_ttl.json"), "expires_at", kWindowStart,
                                       kWindowEnd, &t);
  EXPECT_EQ(page.records, 10u);
  EXPECT_FALSE(page.past_window);
  EXPECT_EQ(page.next_iterator.rfind("arn:aws:dynamodb:us-east-1:111122223333:table/Sessions/stream/", 0), 0u);
  EXPECT_EQ(t.records, 9u);          // the REMOVE created before the window is left out
  EXPECT_EQ(t.ttl_deletions, 4u);
  EXPECT_EQ(t.user_deletions, 1u);   // REMOVE without userIdentity
  EXPECT_EQ(t.ttl_not_seconds, 2u);  // milliseconds TTL, String TTL
  EXPECT_EQ(t.latencies, (std::vector<double>{900, 1200, 1799.5, 3600}));
}

TEST(DynamodbStream, WindowEndsTheShardAndOtherTtlAttributeFindsNothing) {
  StreamTally t;
  RecordsPage page = parse_get_records(fixture("get_records_ttl.json"), "expires_at", kWindowStart,
                                       1700001000, &t);
  EXPECT_TRUE(page.past_window);
  EXPECT_EQ(t.latencies, (std::vector<double>{900}));
  StreamTally other;
  parse_get_records(fixture("get_records_ttl.json"), "ttl", kWindowStart, kWindowEnd, &other);
  EXPECT_EQ(other.ttl_deletions, 0u);
  EXPECT_EQ(other.ttl_not_seconds, 6u);  // every TTL-service REMOVE in the window, no `ttl` attribute
}

TEST(DynamodbStream, MalformedPagesAreParseErrors) {
  StreamTally t;
  for (const char* body : {"[]", "{\"Records\": {}}", "{\"Records\": [{\"eventName\": \"REMOVE\"}]}",
                           "{\"Records\": [{\"dynamodb\": {\"ApproximateCreationDateTime\": \"soon\"}}]}"}) {
    EXPECT_THROW(parse_get_records(body, "ttl", 0, kWindowEnd, &t), Error) << body;
  }
  // The last page of a closed shard: no NextShardIterator.
  RecordsPage last = parse_get_records("{\"Records\": []}", "ttl", 0, kWindowEnd, &t);
  EXPECT_TRUE(last.next_iterator.empty());
  EXPECT_EQ(last.records, 0u);
}

TEST(DynamodbStream, TableStreamFromDescribeTable) {
  const std::string with = R"({"Table": {"TableName": "T", "LatestStreamArn": "arn:s",
      "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}}})";
  auto spec = parse_table_stream(with);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->arn, "arn:s");
  EXPECT_TRUE(has_old_images(*spec));
  auto keys = parse_table_stream(R"({"Table": {"LatestStreamArn": "arn:k",
      "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}}})");
  ASSERT_TRUE(keys);
  EXPECT_FALSE(has_old_images(*keys));
  // A disabled stream keeps its LatestStreamArn for 24 h: nothing is read from it.
  EXPECT_FALSE(parse_table_stream(R"({"Table": {"LatestStreamArn": "arn:d",
      "StreamSpecification": {"StreamEnabled": false}}})"));
  EXPECT_FALSE(parse_table_stream(fixture("describe_table.json")));
  EXPECT_THROW(parse_table_stream("{}"), Error);
}

TEST(DynamodbStream, NearestRankQuantiles) {
  const std::vector<double> v = {900, 1200, 1799.5, 3600};
  EXPECT_EQ(nearest_rank_quantile(v, 0.5), 1200);
  EXPECT_EQ(nearest_rank_quantile(v, 0.9), 3600);
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i);
  EXPECT_EQ(nearest_rank_quantile(hundred, 0.5), 50);
  EXPECT_EQ(nearest_rank_quantile(hundred, 0.9), 90);
  EXPECT_EQ(nearest_rank_quantile(hundred, 0.99), 99);
  EXPECT_EQ(nearest_rank_quantile({7}, 0.99), 7);
}

StreamSpec spec() { return {"arn:s", "NEW_AND_OLD_IMAGES", true}; }

TEST(DynamodbStream, StreamWinsOverSnapshotsWhenItSawADeletion) {
  json d = {{"source", "cloudwatch"}, {"latency_source", "snapshots"}, {"latency_observations", 3},
            {"latency_seconds_quantiles", {{"p50", 7200}}}, {"latency_tracked", 10}};
  StreamRead r;
  r.tally.ttl_deletions = 4;
  r.tally.records = 9;
  r.tally.latencies = {3600, 900, 1799.5, 1200};
  merge_stream_latency(&d, spec(), r, kWindowStart, kWindowEnd);
  EXPECT_EQ(d["source"], "cloudwatch");
  EXPECT_EQ(d["latency_source"], "stream");
  EXPECT_EQ(d["latency_observations"], 4);
  EXPECT_EQ(d["latency_seconds_quantiles"], json({{"p50", 1200.0}, {"p90", 3600.0}, {"p99", 3600.0}}));
  EXPECT_DOUBLE_EQ(d["latency_mean_seconds"].get<double>(), 7499.5 / 4);
  EXPECT_EQ(d["latency_snapshots"]["source"], "snapshots");
  EXPECT_EQ(d["latency_snapshots"]["observations"], 3);
  EXPECT_FALSE(d.contains("latency_tracked"));
  EXPECT_EQ(d["latency_stream"]["ttl_deletions"], 4);
  EXPECT_EQ(d["latency_stream"]["records"], 9);
}

TEST(DynamodbStream, SnapshotsStayWhenTheStreamSawNoneOrFailed) {
  json snapshots = {{"latency_source", "snapshots"}, {"latency_observations", 3}};
  json d = snapshots;
  StreamRead none;
  none.tally.user_deletions = 2;
  merge_stream_latency(&d, spec(), none, kWindowStart, kWindowEnd);
  EXPECT_EQ(d["latency_source"], "snapshots");
  EXPECT_EQ(d["latency_observations"], 3);
  EXPECT_EQ(d["latency_stream"]["user_deletions"], 2);

  json f = snapshots;
  StreamRead failed;
  failed.error = "DescribeStream: auth: AccessDeniedException: no (HTTP 400)";
  merge_stream_latency(&f, spec(), failed, kWindowStart, kWindowEnd);
  EXPECT_EQ(f["latency_source"], "snapshots");
  EXPECT_EQ(f["latency_stream_error"], failed.error);
  EXPECT_FALSE(f.contains("latency_error"));

  json alone = json::object();  // no snapshot tracking: the failure is the section's latency_error
  merge_stream_latency(&alone, spec(), failed, kWindowStart, kWindowEnd);
  EXPECT_EQ(alone["latency_source"], "stream");
  EXPECT_EQ(alone["latency_error"], "stream: " + failed.error);
}

// The reader over HTTP: DescribeStream paged, one iterator per shard, the recorded page.
struct FakeStream {
  int describe_pages = 0;
  std::string get_records_first = fixture("get_records_ttl.json");
  CannedResponse operator()(const ReceivedRequest& r) {
    const std::string op = r.headers.at("x-amz-target");
    const json body = json::parse(r.body);
    if (op == "DynamoDBStreams_20120810.DescribeStream") {
      ++describe_pages;
      if (!body.contains("ExclusiveStartShardId")) {
        return {200, {}, R"({"StreamDescription": {"Shards": [{"ShardId": "old",
            "SequenceNumberRange": {"StartingSequenceNumber": "1", "EndingSequenceNumber": "9"}}],
            "LastEvaluatedShardId": "old"}})"};
      }
      return {200, {}, R"({"StreamDescription": {"Shards": [{"ShardId": "open",
          "SequenceNumberRange": {"StartingSequenceNumber": "10"}}]}})"};
    }
    if (op == "DynamoDBStreams_20120810.GetShardIterator") {
      return {200, {}, json{{"ShardIterator", "it-" + body["ShardId"].get<std::string>()}}.dump()};
    }
    if (op == "DynamoDBStreams_20120810.GetRecords") {
      const std::string it = body["ShardIterator"];
      if (it == "it-old") return {200, {}, R"({"Records": []})"};  // closed: no next iterator
      if (it == "it-open") return {200, {}, get_records_first};
      return {200, {}, R"({"Records": [], "NextShardIterator": "it-again"})"};  // caught up
    }
    return {400, {}, R"({"__type": "UnknownOperationException"})"};
  }
};

aws::ServiceConfig config_for(const TestHttpServer& server) {
  aws::ServiceConfig c;
  c.region = "us-east-1";
  c.endpoint_url = server.url("");
  c.retry.max_attempts = 1;
  return c;
}

std::shared_ptr<aws::CredentialsProvider> creds() {
  return aws::make_static_provider(aws::Credentials{"AKIDSTREAM", "secret", "", std::nullopt, "test"});
}

TEST(DynamodbStreamReader, PagesShardsAndReadsEachToItsEnd) {
  FakeStream fake;
  TestHttpServer server([&](const ReceivedRequest& r) { return fake(r); });
  aws::AwsClient client(config_for(server), creds());
  RateLimiter limiter(1000);
  StreamReadOptions o;
  o.ttl_attribute = "expires_at";
  o.window_start = kWindowStart;
  o.window_end = kWindowEnd;
  o.limiter = &limiter;
  StreamRead r = read_stream(client, "arn:s", o);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.shards, 2u);
  // 2 DescribeStream, 2 GetShardIterator, GetRecords: old (1) + open (recorded page, then empty).
  EXPECT_EQ(r.requests, 7u);
  EXPECT_EQ(server.request_count(), 7u);
  EXPECT_EQ(r.tally.latencies, (std::vector<double>{900, 1200, 1799.5, 3600}));
  for (const ReceivedRequest& q : server.requests()) {
    EXPECT_EQ(q.headers.at("x-amz-target").rfind("DynamoDBStreams_20120810.", 0), 0u);
    EXPECT_NE(q.headers.at("authorization").find("/us-east-1/dynamodb/aws4_request"), std::string::npos);
  }
  const json second = json::parse(server.requests()[1].body);
  EXPECT_EQ(second["ExclusiveStartShardId"], "old");
  EXPECT_EQ(json::parse(server.requests()[2].body)["ShardIteratorType"], "TRIM_HORIZON");
}

TEST(DynamodbStreamReader, FailuresAndBudgetBecomeErrorsNotExceptions) {
  {
    TestHttpServer server([](const ReceivedRequest&) {
      return CannedResponse{400, {}, R"({"__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException",
                                        "message": "not authorized to perform: dynamodb:DescribeStream"})"};
    });
    aws::AwsClient client(config_for(server), creds());
    StreamRead r = read_stream(client, "arn:s", StreamReadOptions{});
    EXPECT_EQ(r.error.rfind("DescribeStream: auth: AccessDeniedException", 0), 0u) << r.error;
    EXPECT_EQ(r.requests, 1u);
  }
  {
    FakeStream fake;
    fake.get_records_first = R"({"Records": [{"eventName": "REMOVE"}], "NextShardIterator": "x"})";
    TestHttpServer server([&](const ReceivedRequest& r) { return fake(r); });
    aws::AwsClient client(config_for(server), creds());
    StreamRead r = read_stream(client, "arn:s", StreamReadOptions{});
    EXPECT_EQ(r.error.rfind("GetRecords: parse: GetRecords: a record has no dynamodb member", 0), 0u)
        << r.error;
  }
  {
    FakeStream fake;
    TestHttpServer server([&](const ReceivedRequest& r) { return fake(r); });
    aws::AwsClient client(config_for(server), creds());
    StreamReadOptions o;
    o.budgeted = true;
    o.budget_left = 3;  // each Streams call counts one unit
    StreamRead r = read_stream(client, "arn:s", o);
    EXPECT_NE(r.error.find("read budget reached while reading the stream"), std::string::npos) << r.error;
    EXPECT_EQ(server.request_count(), 3u);
  }
}

TEST(DynamodbStreamReader, OnlyStreamReadsAreSent) {
  for (const char* op : {"DescribeStream", "GetShardIterator", "GetRecords", "ListStreams"}) {
    EXPECT_TRUE(aws::is_allowed_dynamodb_streams_operation(op)) << op;
  }
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  aws::AwsClient client(config_for(server), creds());
  for (const char* op : {"UpdateTable", "DeleteItem", "PutRecord", "Scan"}) {
    EXPECT_FALSE(aws::is_allowed_dynamodb_streams_operation(op)) << op;
    EXPECT_THROW(client.dynamodb_streams(op, "{}"), Error) << op;
  }
  EXPECT_EQ(server.request_count(), 0u);
}

}  // namespace
}  // namespace ttla::dynamodb
