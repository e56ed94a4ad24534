#pragma once
// The AWS settings of a target's configuration, for aws/target.h, which turns them into a
// region, an endpoint, credentials and a client configuration.
#include <string>

#include "aws/target.h"
#include "config/config.h"

namespace ttla {

// The SDK service id whose endpoint an AWS target of `kind` uses ("s3", "sqs", else
// "dynamodb").
std::string aws_service_id(const std::string& kind);

// The target's region, endpoint, profile, role and S3 addressing, for `service_id` (empty: the
// service of the target's kind).
aws::TargetAccess aws_access(const TargetConfig& target, const std::string& service_id = "");

}  // namespace ttla
