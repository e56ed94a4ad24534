#pragma once
// The one place that builds AWS requests. It knows each operation by name and lets only reads
// through: DynamoDB Describe*/List*/Scan/Query/GetItem/BatchGetItem, DynamoDB Streams
// DescribeStream/GetShardIterator/GetRecords/ListStreams, S3 GET/HEAD, STS
// AssumeRole / AssumeRoleWithWebIdentity, CloudWatch GetMetricData, SQS GetQueueAttributes /
// GetQueueUrl.
// Clock skew: a request rejected as RequestTimeTooSkewed, RequestExpired or "Signature expired"
// is re-signed once with the offset taken from the response's Date header; the offset is kept
// for the following requests of every client sharing the ServiceConfig.
// DNS and TLS (certificate) failures are not retried: they do not heal in seconds. Anything else throws
// ttla::Error(kForbidden) before a byte leaves the process.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "aws/http_client.h"
#include "aws/retry.h"

namespace ttla::aws {

struct ServiceConfig {
  std::string region;        // required (resolved by the caller: config, env, profile)
  std::string endpoint_url;  // empty: the public AWS endpoint for the service and region
  // S3 addressing: nullopt = path style with endpoint_url (custom servers), virtual-hosted on
  // AWS; false with endpoint_url = virtual-hosted on the custom endpoint (bucket.host:port).
  std::optional<bool> s3_path_style;
  HttpOptions http;
  RetryOptions retry;
  // Seconds to add to this machine's clock when signing (learnt from a skew rejection); copies
  // of a ServiceConfig share it, so a target's worker clients all learn it at once.
  std::shared_ptr<std::atomic<int64_t>> clock_offset = std::make_shared<std::atomic<int64_t>>(0);
};

// Counters a source reports (requests made, retries, throttles).
struct CallStats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> throttles{0};
};

// Operations that may be sent. `is_allowed_*` are what the read-only test and `iam-policy` use.
bool is_allowed_dynamodb_operation(std::string_view operation);
bool is_allowed_s3_method(std::string_view method);
bool is_allowed_sts_operation(std::string_view operation);  // AssumeRole, AssumeRoleWithWebIdentity
bool is_allowed_cloudwatch_operation(std::string_view operation);  // GetMetricData
bool is_allowed_sqs_operation(std::string_view operation);  // GetQueueAttributes, GetQueueUrl
// DescribeStream, GetShardIterator, GetRecords, ListStreams (reads of a table's change log).
bool is_allowed_dynamodb_streams_operation(std::string_view operation);
const std::vector<std::string>& allowed_dynamodb_operations();

// Not thread-safe: one AwsClient per worker thread (each owns an HttpClient and so a connection).
// The credentials provider and CallStats may be shared.
class AwsClient {
 public:
  AwsClient(ServiceConfig config, std::shared_ptr<CredentialsProvider> credentials,
            CallStats* stats = nullptr);
  ~AwsClient();

  // DynamoDB JSON 1.0 protocol: POST / with X-Amz-Target DynamoDB_20120810.<operation>.
  // Returns the 2xx body. Retries per RetryPolicy; throws ttla::Error (kThrottled, kHttp, kAuth,
  // kNetwork, kForbidden) with the AWS error code and message in the text.
  std::string dynamodb(std::string_view operation, std::string_view json_body);
  // Gives a body returned by dynamodb() back for the next response to reuse (see
  // HttpClient::recycle): a page loop then allocates its response buffer once.
  void recycle(std::string&& body);

  // DynamoDB Streams, JSON 1.0: POST / with X-Amz-Target DynamoDBStreams_20120810.<operation>,
  // signed for "dynamodb", to streams.dynamodb.<region>.<suffix> (or endpoint_url). Only the
  // reads above are allowed. Returns the 2xx body; errors as for dynamodb().
  std::string dynamodb_streams(std::string_view operation, std::string_view json_body);

  // S3 REST: method GET or HEAD only. `key` is raw (encoded once here). Query parameters are raw.
  // Returns the response (any status: 404 NoSuchLifecycleConfiguration is a normal answer), after
  // retrying throttling/5xx/transport errors; throws kNetwork on transport failure after retries,
  // kThrottled when throttling outlasts the policy and kAuth on 401/403 (a bad signature or
  // missing permission is never a "normal answer"). With `endpoint_url` set the request is
  // path-style (http(s)://endpoint/bucket/key) unless `s3_path_style` is false
  // (http(s)://bucket.endpoint/key); otherwise virtual-host style
  // (https://bucket.s3.<region>.amazonaws.com/key) unless `s3_path_style` or the bucket name has
  // a '.' (which would break the TLS wildcard certificate). 301/400 region answers are returned
  // as they are: the caller re-signs for the bucket's region (sources/s3_source.cc).
  HttpResponse s3(std::string_view method, std::string_view bucket, std::string_view key,
                  const std::vector<std::pair<std::string, std::string>>& query);

  // CloudWatch Query protocol (additive): POST / to monitoring.<region>.amazonaws.com with a
  // form body Action=<action>&Version=2010-08-01&<params>. Only GetMetricData is allowed.
  // Returns the 2xx XML body; errors as for dynamodb().
  std::string cloudwatch(std::string_view action,
                         const std::vector<std::pair<std::string, std::string>>& params);

  // SQS JSON 1.0 protocol: POST / with X-Amz-Target AmazonSQS.<operation>, signed for "sqs".
  // Only GetQueueAttributes and GetQueueUrl are allowed (no message is ever received or
  // deleted). Returns the 2xx body; errors as for dynamodb().
  std::string sqs(std::string_view operation, std::string_view json_body);

  // STS Query protocol (additive): POST / with Action=<action>&Version=2011-06-15&<params>,
  // signed for service "sts". Only AssumeRole is sent signed. Returns the 2xx XML body.
  std::string sts(std::string_view action,
                  const std::vector<std::pair<std::string, std::string>>& params);

  const ServiceConfig& config() const { return config_; }

 private:
  struct Impl;
  ServiceConfig config_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ttla::aws
