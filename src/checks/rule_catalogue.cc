#include "checks/rule_catalogue.h"

#include <algorithm>

namespace ttla {
namespace {

bool always(const TargetReport&) { return true; }

// Findings with deadlines: the backlog rules.
bool expiry_findings(const TargetReport& t) { return t.has_findings() && t.has_expired; }

// Table health is read wherever a table was described (DynamoDB tables, discovered or not).
bool table_described(const TargetReport& t) {
  return t.status != Status::kFailed && t.table_metrics.has_value();
}

bool hygiene(const TargetReport& t) { return t.status != Status::kFailed && t.has_hygiene; }

bool deletion_measured(const TargetReport& t) {
  if (t.status == Status::kFailed || !t.extra.is_object() || !t.extra.contains("deletion")) return false;
  const nlohmann::json& d = t.extra["deletion"];
  return d.is_object() && d.contains("deleted_in_window") && !d.contains("error");
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
      {"ttl_disabled", "critical", table_described, true},
      {"table_not_active", "warning", table_described, true},
      {"ttl_hygiene", "warning", hygiene},
      {"ttl_stalled", "critical", deletion_measured},
      {"stale_multipart", "warning", nullptr, true},
      {"lifecycle_missing", "warning", nullptr, true},
      {"dlq_depth", "warning", nullptr, true},
      {"dlq_depth", "critical", nullptr, true},
      {"orphan_files", "warning", nullptr, true},
  };
  return kRules;
}

std::vector<std::pair<std::string, std::string>> evaluated_rules(const TargetReport& t,
                                                                 const KindDeclares& kind_declares) {
  std::vector<std::pair<std::string, std::string>> rules;
  for (const RuleEntry& r : rule_catalogue()) {
    const bool declared = r.kind_rule && kind_declares && t.status != Status::kFailed &&
                          kind_declares(t, r.rule, r.severity);
    if (declared || (r.evaluated != nullptr && r.evaluated(t))) rules.emplace_back(r.rule, r.severity);
  }
  // A rule the catalogue does not know (added later) still shows up while it fires.
  for (const auto& a : t.anomalies) {
    std::pair<std::string, std::string> p{a.rule, a.severity};
    if (std::find(rules.begin(), rules.end(), p) == rules.end()) rules.push_back(std::move(p));
  }
  return rules;
}

}  // namespace ttla
