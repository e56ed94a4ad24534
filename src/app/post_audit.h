#pragma once
// The step after the audit, one path for `run`, `merge` and `serve`:
//   1. evaluate each target's anomaly rules against its history (checks/anomalies.h),
//   2. record the target's point in the history, under the history lock, so overlapping runs
//      on one host take turns on the read-modify-write,
//   3. log the target's outcome (one line, plus one warn line per fired rule),
//   4. publish the report to every configured sink (and --html), logging each failure once.
#include <string>
#include <vector>

#include "checks/history.h"
#include "config/config.h"
#include "core/report.h"
#include "sinks/sinks.h"

namespace ttla {

// How long recording waits for another run holding the history lock.
inline constexpr double kHistoryLockWaitSeconds = 60;

// The history lock file of a state directory.
std::string history_lock_path(const std::string& state_dir);

class PostAudit {
 public:
  // `state_dir` empty: no history (rules that need one stay quiet). `record`: append each
  // target's point (callers decide: not for shard runs, not for what-if --as-of runs).
  PostAudit(const std::string& state_dir, bool record);

  // Steps 1-3 for one target: replaces `r.anomalies` with the rules evaluated at wall-clock
  // `now`, records the point when recording is on, and logs the outcome. Never throws for an
  // unreadable or unwritable history (a warn line says so).
  void finish_target(TargetReport& r, const Thresholds& thresholds, double now);

  // Step 3 alone, for a target whose anomalies are kept as they are (merge without a config).
  static void log_target(const TargetReport& r);

 private:
  HistoryStore history_;
  std::string lock_path_;
  bool record_;
};

struct PublishOptions {
  SinkOptions sinks;
  std::string html_file;  // --html FILE; empty: none
  std::string state_dir;  // history for the HTML page's trends
};

struct Published {
  std::vector<std::string> errors;     // one per failed sink, each logged once as `sink failed`
  std::vector<WrittenOutput> written;  // every output written
};

// Step 4: every configured sink is attempted; failures are collected and each logged once.
Published publish_report(const Report& report, const PublishOptions& options);

}  // namespace ttla
