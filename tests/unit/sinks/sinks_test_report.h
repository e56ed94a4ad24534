#pragma once
// A crafted report shared by the sink tests: one target of each shape the metric model knows.
#include "core/report.h"

namespace ttla::testing {

inline Report crafted_report() {
  Report r;
  r.run.id = "0123abcd-4567-89ef-0000-000000000000";
  r.run.started_at = 1795000087.5;
  r.run.finished_at = 1795000100;
  r.run.as_of = 1795000000;
  r.run.status = Status::kFailed;

  TargetReport s;  // full DynamoDB scan with findings
  s.name = "sessions";
  s.kind = "dynamodb";
  s.scan.items_scanned = 12;
  s.scan.segments_total = 1;
  s.scan.segments_scanned = 1;
  s.scan.consumed_read_units = 6.5;
  s.scan.duration_seconds = 0.25;
  s.scan.requests = 2;
  s.stats.add_expired("pk=user1#s1", 1794998200, 1800, 200, "");
  s.stats.add_expired("pk=user2#s1", 1794910000, 90000, 200, "");
  s.stats.add_expired("pk=user3#s9", 1794136000, 864000, 200, "");
  s.stats.count(ItemClass::kNotYetExpired, 7);
  s.stats.count(ItemClass::kMillisecondsTtl, 2);
  s.has_hygiene = true;
  s.table_metrics = TableMetrics{1000, 250000, "ACTIVE", "ENABLED", "expires_at"};
  s.anomalies.push_back({"oldest_overdue", "critical", "oldest expired item is 10.0d past", 864000,
                         604800});
  r.targets.push_back(s);

  TargetReport p;  // sampled DynamoDB scan
  p.name = "sampled";
  p.kind = "dynamodb";
  p.scan.mode = "sample";
  p.scan.items_scanned = 40;
  p.scan.sample_fraction = 0.05;
  p.stats.add_expired("pk=user4", 1794999000, 1000, 100, "");
  p.estimated = true;
  p.expired_estimate = 1200;
  p.ci95 = {900, 1500};
  p.has_hygiene = true;
  p.table_metrics = TableMetrics{5000, 1000000, "ACTIVE", "ENABLED", "ttl"};
  r.targets.push_back(p);

  TargetReport u;  // S3 with multipart/noncurrent sections and a shrinking backlog
  u.name = "uploads";
  u.kind = "s3";
  u.scan.items_scanned = 2000;
  u.scan.requests = 3;
  u.stats.add_expired("uploads/2026/11/a.mp4", 1794900000, 100000, 5000, "");
  u.multipart = MultipartInfo{4, 259200};
  u.noncurrent = NoncurrentInfo{9, 9000};
  u.extra["s3"] = {{"lifecycle_missing", true}};
  u.extra["backlog_trend"] = {{"direction", "shrinking"},
                              {"rate_items_per_hour", -100.0},
                              {"drain_estimate_seconds", 21600.0}};
  u.anomalies.push_back({"lifecycle_missing", "warning", "no lifecycle rule", 0, 0});
  r.targets.push_back(u);

  TargetReport b;  // failed DynamoDB target
  b.name = "broken";
  b.kind = "dynamodb";
  b.status = Status::kFailed;
  b.error = "AccessDeniedException: not authorized to perform dynamodb:Scan";
  b.scan.requests = 3;
  b.anomalies.push_back({"target_failed", "critical", "target failed", 0, 0});
  r.targets.push_back(b);
  return r;
}

}  // namespace ttla::testing
