#include "app/iam_policy.h"

#include "sources/kinds.h"

namespace ttla {

// Each kind's row says what its targets need (sources/<kind>_kind.cc); the actions are only the
// read requests its source sends, and the DynamoDB ones are intersected with the AwsClient
// allow-list so the policy can never grant something the client would refuse to send anyway.
nlohmann::json iam_policy(const Config& config) {
  IamGrants grants;
  for (const auto& t : config.targets) {
    const Kind* kind = find_kind(t.kind);
    if (kind != nullptr && kind->iam != nullptr) kind->iam(t, config, grants);
  }
  nlohmann::json statements = grants.statements();
  IamGrants roles;
  for (const auto& t : config.targets) {
    // For the auditing identity (the one that assumes each target's role_arn).
    if (!t.role_arn.empty()) roles.allow("AssumeTargetRoles", {"sts:AssumeRole"}, t.role_arn);
  }
  for (auto& s : roles.statements()) statements.push_back(std::move(s));
  nlohmann::json policy = nlohmann::json::object();
  policy["Version"] = "2012-10-17";
  policy["Statement"] = statements;
  return policy;
}

std::vector<std::string> iam_policy_notes(const Config& config) {
  std::vector<std::string> notes;
  bool wildcard_region = false;
  for (const auto& t : config.targets) {
    const Kind* kind = find_kind(t.kind);
    if (kind == nullptr || kind->iam == nullptr) {
      notes.push_back("target " + t.name + " (" + t.kind + ") needs no IAM permissions");
      continue;
    }
    IamGrants grants;
    kind->iam(t, config, grants);
    wildcard_region = wildcard_region || grants.wildcard_region;
    notes.insert(notes.end(), grants.notes().begin(), grants.notes().end());
  }
  if (wildcard_region) {
    notes.push_back("region \"*\" used where neither the target nor AWS_REGION names one");
  }
  notes.push_back("account \"*\" used in ARNs: replace it with your account id to narrow further");
  for (const auto& t : config.targets) {
    if (!t.role_arn.empty()) {
      notes.push_back("target " + t.name + " assumes " + t.role_arn +
                      ": statement AssumeTargetRoles belongs to the auditing identity, the others "
                      "to that role");
    }
  }
  return notes;
}

}  // namespace ttla
