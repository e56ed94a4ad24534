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
#include "aws/sqs_json.h"
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

// The oldest-message age query: Maximum of ApproximateAgeOfOldestMessage per minute over the
// hour before as_of (SQS publishes it every minute while the queue is active).
cloudwatch::MetricQuery oldest_age_query(const std::string& queue_name, int64_t as_of);
// The newest datapoint at or before as_of, if any.
std::optional<cloudwatch::Datapoint> latest_point(const std::vector<cloudwatch::Datapoint>& points,
                                                  int64_t as_of);

}  // namespace sqs
}  // namespace ttla
