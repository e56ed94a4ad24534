// No silent zeros in the metrics: a target that measured nothing (failed, or stopped before its
// first item) exports status, cost and anomaly series only, never an expired count, an oldest
// overdue or a histogram of zeros; its report has "expired": null and no hygiene.
#include <gtest/gtest.h>

#include "core/report.h"
#include "sinks/metrics.h"
#include "sinks/report_sink.h"

namespace ttla {
namespace {

Report one(TargetReport t) {
  Report r;
  r.run.id = "r";
  r.run.started_at = 1795000000;
  r.run.finished_at = 1795000010;
  r.run.as_of = 1795000000;
  r.targets.push_back(std::move(t));
  return r;
}

TargetReport stopped_before_any_item() {
  TargetReport t;
  t.name = "slow";
  t.kind = "dynamodb";
  t.status = Status::kPartial;
  t.error = "max_duration 2s exceeded";
  t.findings_measured = false;
  t.has_hygiene = true;
  t.anomalies.push_back({"target_partial", "warning", "stopped", 0, 0});
  return t;
}

TEST(UnmeasuredTarget, MetricsCarryNoFindings) {
  const std::string text = metrics_text(one(stopped_before_any_item()));
  EXPECT_NE(text.find("ttl_auditor_target_success{kind=\"dynamodb\",target=\"slow\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("ttl_auditor_anomaly{kind=\"dynamodb\",rule=\"target_partial\",severity=\"warning\",target=\"slow\"} 1"),
            std::string::npos) << text;
  for (const char* absent : {"ttl_auditor_expired_items{", "ttl_auditor_oldest_overdue_seconds{",
                             "ttl_auditor_overdue_seconds_bucket{", "ttl_auditor_ttl_hygiene_items{",
                             "ttl_auditor_not_yet_expired_items{", "rule=\"expired_backlog\"",
                             "rule=\"target_empty\""}) {
    EXPECT_EQ(text.find(absent), std::string::npos) << absent << " in\n" << text;
  }
}

TEST(UnmeasuredTarget, MeasuredPartialTargetKeepsItsLowerBounds) {
  TargetReport t = stopped_before_any_item();
  t.findings_measured = true;
  t.scan.items_scanned = 10;
  t.stats.add_expired("k", 1794990000, 10000, 0, "");
  const std::string text = metrics_text(one(t));
  EXPECT_NE(text.find("ttl_auditor_expired_items{kind=\"dynamodb\",target=\"slow\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("ttl_auditor_oldest_overdue_seconds{kind=\"dynamodb\",target=\"slow\"} 10000"),
            std::string::npos) << text;
}

TEST(UnmeasuredTarget, ReportHasNullExpiredAndNoHygieneAndReadsBack) {
  const nlohmann::json j = report_to_json(one(stopped_before_any_item()), true);
  const nlohmann::json& t = j.at("targets").at(0);
  EXPECT_TRUE(t.at("expired").is_null()) << t.dump();
  EXPECT_FALSE(t.contains("hygiene")) << t.dump();
  const Report back = report_from_json(j);
  EXPECT_FALSE(back.targets.at(0).findings_measured);
  EXPECT_FALSE(back.targets.at(0).has_findings());

  TargetReport failed;
  failed.name = "f";
  failed.kind = "s3";
  failed.status = Status::kFailed;
  failed.error = "auth: denied";
  const nlohmann::json jf = report_to_json(one(failed));
  EXPECT_TRUE(jf.at("targets").at(0).at("expired").is_null());
}

TEST(UnmeasuredTarget, LambdaEnvelopeHasNullStats) {
  const nlohmann::json env = lambda_envelope(one(stopped_before_any_item()));
  const nlohmann::json& body = env.at("body");
  EXPECT_TRUE(body.at("expired_stats").is_null()) << body.dump();
  EXPECT_TRUE(body.at("targets").at(0).at("expired_stats").is_null()) << body.dump();
}

TEST(UnmeasuredTarget, MergeKeepsFindingsOfTheShardThatMeasuredThem) {
  TargetReport measured;
  measured.name = "fs";
  measured.kind = "filesystem";
  measured.scan.items_scanned = 2;
  measured.stats.add_expired("a", 1794990000, 10000, 5, "");
  TargetReport left = measured;
  left.stats = TargetStats();
  left.scan.items_scanned = 0;
  left.findings_measured = false;  // a shard that leaves the target to shard 0
  Report p0 = one(measured), p1 = one(left);
  p0.run.id = "a";
  p1.run.id = "b";
  p0.run.shard = "0/2";
  p1.run.shard = "1/2";
  const Report merged = merge_reports({report_from_json(report_to_json(p1, true)),
                                       report_from_json(report_to_json(p0, true))});
  ASSERT_EQ(merged.targets.size(), 1u);
  EXPECT_TRUE(merged.targets[0].has_findings());
  EXPECT_EQ(merged.targets[0].stats.expired_count(), 1u);
}

}  // namespace
}  // namespace ttla
