#pragma once
// The one place that turns an AWS target's settings into what its clients need: the region, the
// endpoint, the credentials and the client configuration with its retry policy. The sources
// and the preflight checks all connect through here (sources/aws_target.h reads the settings
// from a target's configuration).
#include <memory>
#include <optional>
#include <string>

#include "aws/aws_client.h"
#include "aws/credentials.h"
#include "aws/http_client.h"
#include "aws/retry.h"

namespace ttla::aws {

// What a target's configuration says about its AWS connection.
struct TargetAccess {
  std::string name;          // the target's name: messages and the role session name
  std::string service_id;    // SDK service id: "dynamodb", "s3", "sqs"
  std::string region;        // configured; empty: resolve_region() decides
  std::string endpoint_url;  // configured; empty: resolve_endpoint()'s precedence
  std::string profile;       // empty: AWS_PROFILE, else "default"
  std::string role_arn;      // assumed for this target (cross-account audits)
  std::string external_id;   // with role_arn
  std::optional<bool> s3_path_style;  // s3 only; unset: path style exactly with an endpoint
};

// The region the settings name: the configured one, else AWS_REGION / AWS_DEFAULT_REGION, else
// the profile's region in the shared config file; "" when none does.
std::string configured_region(const TargetAccess& target);

// configured_region(), else us-east-1 when an endpoint is configured (the target's or one for
// its service: local servers need some region to sign), else ttla::Error(kConfig).
std::string resolve_region(const TargetAccess& target);

// The provider the target's requests are signed with: `given` (tests, demo) when set, else the
// default chain for the target's profile and `region`; with a role_arn, that role is assumed on
// top in a session of its own ("ttl-auditor-<name>"). The target's endpoint arms the loopback
// guard: a local target never sends STS calls to AWS.
std::shared_ptr<CredentialsProvider> target_credentials(const TargetAccess& target,
                                                        const std::string& region,
                                                        std::shared_ptr<CredentialsProvider> given);

// The client configuration: resolve_region(), resolve_endpoint(), S3 addressing, and the given
// HTTP options and retry policy.
ServiceConfig target_service(const TargetAccess& target, HttpOptions http, RetryOptions retry);

}  // namespace ttla::aws
