#include "checks/rule_catalogue.h"

#include <algorithm>

namespace ttla {
namespace {

bool always(const TargetReport&) { return true; }

// Findings with deadlines: the backlog rules.
bool expiry_findings(const TargetReport& t) { return t.has_findings() && t.has_expired; }

bool dynamodb_table(const TargetReport& t) {
  return t.status != Status::kFailed && (t.kind == "dynamodb" || t.table_metrics);
}

bool hygiene(const TargetReport& t) { return t.status != Status::kFailed && t.has_hygiene; }

bool deletion_measured(const TargetReport& t) {
  if (t.status == Status::kFailed || !t.extra.is_object() || !t.extra.contains("deletion")) return false;
  const nlohmann::json& d = t.extra["deletion"];
  return d.is_object() && d.contains("deleted_in_window") && !d.contains("error");
}

bool s3(const TargetReport& t) { return t.status != Status::kFailed && t.kind == "s3"; }

bool sqs(const TargetReport& t) { return t.status != Status::kFailed && t.kind == "sqs"; }

bool fs_orphans(const TargetReport& t) {
  return t.status != Status::kFailed && t.kind == "filesystem" && t.extra.is_object() &&
         t.extra.contains("orphans");
}

}  // namespace

const std::vector<RuleEntry>& rule_catalogue() {
  static const std::vector<RuleEntry> kRules = {
      {"target_failed", "critical", always},
      {"target_partial", "warning", always},
      {"target_empty", "warning", expiry_findings},
      {"expired_backlog", "warning", expiry_findings},
      {"expired_backlog", "critical", expiry_findings},
      {"oldest_overdue", "warning", expiry_findings},
      {"oldest_overdue", "critical", expiry_findings},
      {"backlog_growth", "warning", expiry_findings},
      {"ttl_disabled", "critical", dynamodb_table},
      {"table_not_active", "warning", dynamodb_table},
      {"ttl_hygiene", "warning", hygiene},
      {"ttl_stalled", "critical", deletion_measured},
      {"stale_multipart", "warning", s3},
      {"lifecycle_missing", "warning", s3},
      {"dlq_depth", "warning", sqs},
      {"dlq_depth", "critical", sqs},
      {"orphan_files", "warning", fs_orphans},
  };
  return kRules;
}

std::vector<std::pair<std::string, std::string>> evaluated_rules(const TargetReport& t) {
  std::vector<std::pair<std::string, std::string>> rules;
  for (const RuleEntry& r : rule_catalogue()) {
    if (r.evaluated(t)) rules.emplace_back(r.rule, r.severity);
  }
  // A rule the catalogue does not know (added later) still shows up while it fires.
  for (const auto& a : t.anomalies) {
    std::pair<std::string, std::string> p{a.rule, a.severity};
    if (std::find(rules.begin(), rules.end(), p) == rules.end()) rules.push_back(std::move(p));
  }
  return rules;
}

}  // namespace ttla
