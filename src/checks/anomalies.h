#pragma once
// Anomaly rules (CONTRACT ids) over a target report plus its history of past runs.
#include <optional>
#include <string>
#include <utility>
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
// `history` is oldest first and excludes this run. Also sets report.extra["backlog_trend"] when
// the history allows a trend (see backlog_trend()).
void evaluate_anomalies(TargetReport& report, const Thresholds& thresholds,
                        const std::vector<HistoryPoint>& history);
// Same, with the wall-clock time of this run (history rates are per real hour, not --as-of).
void evaluate_anomalies(TargetReport& report, const Thresholds& thresholds,
                        const std::vector<HistoryPoint>& history, double now);

// EWMA weight of the newest point in backlog_growth (documented in the README).
inline constexpr double kGrowthEwmaAlpha = 0.3;

struct BacklogTrend {
  std::string direction;  // "growing" | "shrinking" | "flat"
  double rate_items_per_hour = 0;            // least-squares slope over recent runs
  std::optional<double> drain_estimate_seconds;  // only when shrinking
};
// Linear trend of the expired count over the last (up to 6) successful runs plus this one.
// nullopt without at least one usable past run.
std::optional<BacklogTrend> backlog_trend(double current, double now,
                                          const std::vector<HistoryPoint>& history);

// "never" | "warning" | "critical": does any anomaly reach the level?
bool anomalies_reach(const Report& report, const std::string& fail_on);

}  // namespace ttla
