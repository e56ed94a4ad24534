#pragma once
// The anomaly rule catalogue: every (rule, severity) pair the checks raise (CONTRACT ids), and
// which of them a target's report evaluates. Exporters publish an evaluated rule as 0 while it
// is quiet, so an alert resolves; a rule that was not evaluated has no series at all.
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/report.h"

namespace ttla {

struct RuleEntry {
  const char* rule;
  const char* severity;
  // Whether a report like `target` evaluates this pair; may be null for a kind's own rule.
  bool (*evaluated)(const TargetReport& target);
  // Also evaluated where the target's kind declares it (its row of the kind table,
  // sources/kinds.cc), for targets that did not fail.
  bool kind_rule = false;
};

// Whether the kind of `target` declares (rule, severity) for a report like it.
using KindDeclares = std::function<bool(const TargetReport& target, std::string_view rule,
                                        std::string_view severity)>;

// Every rule, in the order exporters list them.
const std::vector<RuleEntry>& rule_catalogue();

// The (rule, severity) pairs evaluated for `target`, catalogue order, followed by any pair the
// report lists that the catalogue does not know. Failed targets evaluate only target_failed /
// target_partial (their data rules are unknown, and exporting 0 would resolve live alerts).
// `kind_declares` answers for the kind rules (null: none declared).
std::vector<std::pair<std::string, std::string>> evaluated_rules(const TargetReport& target,
                                                                 const KindDeclares& kind_declares);

}  // namespace ttla
