#pragma once
// kind: sqs — how deep a queue (typically a dead-letter queue) is, read-only: GetQueueAttributes
// for the visible, in-flight and delayed message counts (SQS's own approximations) and, with
// `cloudwatch` on, the age of the oldest message from CloudWatch AWS/SQS
// ApproximateAgeOfOldestMessage. No message is ever received, so nothing about individual
// messages (deadlines, overdue histogram, keys) is known: the report has no `expired` section,
// only `sqs`. Queue by `queue_url`, or by `queue` name (+ `account`) through GetQueueUrl.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aws/aws_client.h"
#include "aws/cloudwatch.h"
#include "aws/credentials.h"
#include "sources/source.h"

namespace ttla {

struct SqsSourceOptions {
  // Credentials for every request; null: the default chain for the target's profile.
  std::shared_ptr<aws::CredentialsProvider> credentials;
  aws::RetryOptions retry;
  aws::HttpOptions http;
};

std::unique_ptr<Source> make_sqs_source();
std::unique_ptr<Source> make_sqs_source(SqsSourceOptions options);

namespace sqs {

// What a queue URL says: https://sqs.<region>.amazonaws.com/<account>/<name> (region empty when
// the host does not name one, as on a local server or the legacy queue.amazonaws.com).
struct QueueRef {
  std::string url;
  std::string account;
  std::string name;
  std::string region;
};
// Throws ttla::Error(kConfig) when the URL has no /<account>/<name> path.
QueueRef parse_queue_url(const std::string& url);

struct QueueDepth {
  uint64_t visible = 0;    // ApproximateNumberOfMessages
  uint64_t in_flight = 0;  // ApproximateNumberOfMessagesNotVisible
  uint64_t delayed = 0;    // ApproximateNumberOfMessagesDelayed
};

// Request bodies (JSON 1.0 protocol) and pure parsers of the answers. The parsers throw
// ttla::Error(kParse) on a body that is not the expected JSON or lacks a count.
std::string get_queue_attributes_body(const std::string& queue_url);
QueueDepth parse_get_queue_attributes(std::string_view body);
std::string get_queue_url_body(const std::string& queue_name, const std::string& account);
std::string parse_get_queue_url(std::string_view body);

// The oldest-message age query: Maximum of ApproximateAgeOfOldestMessage per minute over the
// hour before as_of (SQS publishes it every minute while the queue is active).
cloudwatch::MetricQuery oldest_age_query(const std::string& queue_name, int64_t as_of);
// The newest datapoint at or before as_of, if any.
std::optional<cloudwatch::Datapoint> latest_point(const std::vector<cloudwatch::Datapoint>& points,
                                                  int64_t as_of);

}  // namespace sqs
}  // namespace ttla
