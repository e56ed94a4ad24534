#pragma once
// Least-privilege IAM policy for a config: only the read actions the sources actually send,
// scoped to the configured tables and buckets. Never a write action (a test enforces it).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace ttla {

// {"Version":"2012-10-17","Statement":[...]}. Regions come from each target, else AWS_REGION /
// AWS_DEFAULT_REGION, else "*"; the account is always "*" (the config does not name one).
nlohmann::json iam_policy(const Config& config);

// Human notes for stderr (targets that need no IAM permissions, wildcards used).
std::vector<std::string> iam_policy_notes(const Config& config);

}  // namespace ttla
