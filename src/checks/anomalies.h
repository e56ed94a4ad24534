#pragma once
// Anomaly rules (CONTRACT ids) over a target report plus its history of past runs.
#include <string>
#include <vector>

#include "config/config.h"
#include "core/report.h"

namespace ttla {

// One past run of one target, as kept in the state directory.
struct HistoryPoint {
  double finished_at = 0;
  double expired = 0;  // expired count (estimate when sampled)
  double oldest_overdue_seconds = 0;
  std::string status;
};

// Append this run's anomalies to `report.anomalies` (target_failed included for failed targets).
void evaluate_anomalies(TargetReport& report, const Thresholds& thresholds,
                        const std::vector<HistoryPoint>& history);

// "never" | "warning" | "critical": does any anomaly reach the level?
bool anomalies_reach(const Report& report, const std::string& fail_on);

}  // namespace ttla
