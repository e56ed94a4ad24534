#pragma once
// The anomaly rule catalogue: every (rule, severity) pair the checks raise (CONTRACT ids), and
// which of them a target's report evaluates. Exporters publish an evaluated rule as 0 while it
// is quiet, so an alert resolves; a rule that was not evaluated has no series at all.
#include <string>
#include <utility>
#include <vector>

#include "core/report.h"

namespace ttla {

struct RuleEntry {
  const char* rule;
  const char* severity;
  // Whether a report like `target` evaluates this pair.
  bool (*evaluated)(const TargetReport& target);
};

// Every rule, in the order exporters list them.
const std::vector<RuleEntry>& rule_catalogue();

// The (rule, severity) pairs evaluated for `target`, catalogue order, followed by any pair the
// report lists that the catalogue does not know. Failed targets evaluate only target_failed /
// target_partial (their data rules are unknown, and exporting 0 would resolve live alerts).
std::vector<std::pair<std::string, std::string>> evaluated_rules(const TargetReport& target);

}  // namespace ttla
