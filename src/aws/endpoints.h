#pragma once
// Partitions and service endpoints as the AWS SDKs resolve them.
//
// Endpoint precedence for one service (highest first), as in the SDKs' "service-specific
// endpoints" feature:
//   1. the target's own `endpoint_url` (explicit client configuration)
//   2. AWS_ENDPOINT_URL_<SERVICE>          (e.g. AWS_ENDPOINT_URL_DYNAMODB, _S3, _STS)
//   3. the profile's `services = NAME` section in the config file, `<service> = endpoint_url = ...`
//   4. AWS_ENDPOINT_URL
//   5. the profile's `endpoint_url` in the config file
//   6. the public endpoint of the region's partition
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or the profile's ignore_configured_endpoint_urls)
// disables 2-5.
#include <string>
#include <string_view>

namespace ttla::aws {

struct Partition {
  std::string name;        // "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"
  std::string dns_suffix;  // "amazonaws.com", "amazonaws.com.cn", ...
};

// The partition a region belongs to (cn-* -> aws-cn, us-gov-* -> aws-us-gov, ...); "aws" for
// an empty or unknown region.
Partition partition_of(const std::string& region);

// SDK service ids, lower case: "dynamodb", "s3", "sts", "cloudwatch", "sqs", "dynamodb_streams".
// The endpoint configured outside the target (steps 2-5 above); empty when none.
// `profile` empty: AWS_PROFILE, else "default".
std::string configured_endpoint(std::string_view service_id, const std::string& profile);

// Steps 1-5: `explicit_url` when set, else configured_endpoint(); empty means the public one.
std::string resolve_endpoint(std::string_view service_id, const std::string& explicit_url,
                             const std::string& profile);

// The public endpoint: https://<prefix>.<region>.<dns suffix> ("sts", "dynamodb", "monitoring",
// "s3", "sqs", "streams.dynamodb").
std::string public_endpoint(std::string_view service_id, const std::string& region);

// True when the URL's host is 127.0.0.0/8, ::1 or localhost (a local test server).
bool is_loopback_url(const std::string& url);

}  // namespace ttla::aws
