// The end-of-run summary (app/run_summary.h): human durations, the terminal table and the fields
// of the closing log line.
#include "app/run_summary.h"

#include <gtest/gtest.h>

namespace ttla {
namespace {

TEST(RunSummary, HumanDurations) {
  EXPECT_EQ(human_duration(3 * 86400 + 4 * 3600 + 59), "3d 4h");
  EXPECT_EQ(human_duration(2 * 3600 + 5 * 60), "2h 5m");
  EXPECT_EQ(human_duration(65), "1m 5s");
  EXPECT_EQ(human_duration(42), "42s");
  EXPECT_EQ(human_duration(0.4), "400ms");
  EXPECT_EQ(human_duration(2.5), "2.5s");
  EXPECT_EQ(human_duration(0), "0s");
  EXPECT_EQ(human_duration(-1), "-");
}

Report two_targets() {
  Report r;
  r.run.status = Status::kFailed;
  r.run.started_at = 1000;
  r.run.finished_at = 1002.5;
  TargetReport sampled;
  sampled.name = "sessions";
  sampled.kind = "dynamodb";
  sampled.estimated = true;
  sampled.expired_estimate = 51234;
  sampled.ci95 = {48000, 54999.6};
  sampled.stats.add_expired("k", 0, 3 * 86400 + 4 * 3600, 0, "");
  sampled.anomalies.push_back({"oldest_overdue", "warning", "m", 0, 0});
  sampled.anomalies.push_back({"expired_backlog", "warning", "m", 0, 0});
  TargetReport failed;
  failed.name = "uploads";
  failed.kind = "s3";
  failed.status = Status::kFailed;
  failed.anomalies.push_back({"target_failed", "critical", "m", 0, 0});
  r.targets = {sampled, failed};
  return r;
}

TEST(RunSummary, TableRowsOutputsAndClosingLine) {
  const std::string t = summary_table(two_targets(), {{"report", "/srv/r.json"}, {"textfile", "/srv/m.prom"}}, 3);
  EXPECT_NE(t.find("TARGET    STATUS  EXPIRED"), std::string::npos) << t;
  EXPECT_NE(t.find("sessions  ok      ~51,234 (95%: 48,000-55,000)  3d 4h"), std::string::npos) << t;
  EXPECT_NE(t.find("oldest_overdue (warning), expired_backlog (warning)"), std::string::npos) << t;
  EXPECT_NE(t.find("uploads   failed  -"), std::string::npos) << t;
  EXPECT_NE(t.find("report written to /srv/r.json\nmetrics written to /srv/m.prom\n"), std::string::npos) << t;
  EXPECT_NE(t.find("run failed in 2.5s: 2 targets, 3 anomalies (1 critical); exit 3 (a target failed or stopped early, or an output could not be written)\n"), std::string::npos) << t;
}

TEST(RunSummary, LogFields) {
  const std::string f = summary_fields(two_targets(), {{"report", "stdout"}}).str();
  EXPECT_EQ(f,
            "status=failed targets=2 targets_ok=1 targets_partial=0 targets_failed=1 expired=51234 "
            "oldest_overdue_seconds=273600 oldest_overdue=\"3d 4h\" anomalies=3 anomalies_critical=1 "
            "anomalies_warning=2 duration_seconds=2.5 report_path=stdout");
}

}  // namespace
}  // namespace ttla
