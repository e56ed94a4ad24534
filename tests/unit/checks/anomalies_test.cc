#include "checks/anomalies.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "checks/history.h"

namespace ttla {
namespace {

constexpr double kBase = 1795000000;  // first point of the fixtures, runs hourly

std::string fixture(const std::string& name) {
  return std::string(TTLA_SOURCE_DIR) + "/tests/fixtures/history/" + name;
}

std::vector<HistoryPoint> load_fixture(const std::string& name) {
  HistoryStore store(std::string(TTLA_SOURCE_DIR) + "/tests/fixtures/history");
  auto points = store.load(name);
  EXPECT_FALSE(points.empty()) << fixture(name + ".jsonl");
  return points;
}

// A DynamoDB target with `expired` expired items, the oldest `oldest` seconds overdue.
TargetReport dynamo(uint64_t expired, double oldest = 3600) {
  TargetReport t;
  t.name = "sessions";
  t.kind = "dynamodb";
  t.has_hygiene = true;
  t.table_metrics = TableMetrics{};
  t.table_metrics->table_status = "ACTIVE";
  t.table_metrics->ttl_status = "ENABLED";
  t.table_metrics->ttl_attribute = "expires_at";
  for (uint64_t i = 0; i < expired; ++i) {
    double overdue = i == 0 ? oldest : 60;
    t.stats.add_expired("pk=" + std::to_string(i), 1e9, overdue, 100, "");
  }
  return t;
}

const Anomaly* find(const TargetReport& t, const std::string& rule) {
  auto it = std::find_if(t.anomalies.begin(), t.anomalies.end(),
                         [&](const Anomaly& a) { return a.rule == rule; });
  return it == t.anomalies.end() ? nullptr : &*it;
}

Thresholds defaults() { return Thresholds{}; }

TEST(Anomalies, CleanTargetHasNoAnomalies) {
  auto t = dynamo(5);
  evaluate_anomalies(t, defaults(), {}, kBase);
  EXPECT_TRUE(t.anomalies.empty()) << t.anomalies.front().rule;
}

TEST(Anomalies, TtlDisabledIsCritical) {
  for (const char* status : {"DISABLED", "ENABLING", "DISABLING", ""}) {
    auto t = dynamo(0);
    t.table_metrics->ttl_status = status;
    evaluate_anomalies(t, defaults(), {}, kBase);
    const Anomaly* a = find(t, "ttl_disabled");
    ASSERT_NE(a, nullptr) << status;
    EXPECT_EQ(a->severity, "critical");
  }
  auto t = dynamo(0);
  evaluate_anomalies(t, defaults(), {}, kBase);
  EXPECT_EQ(find(t, "ttl_disabled"), nullptr);
}

TEST(Anomalies, TableNotActiveIsWarning) {
  auto t = dynamo(0);
  t.table_metrics->table_status = "UPDATING";
  evaluate_anomalies(t, defaults(), {}, kBase);
  const Anomaly* a = find(t, "table_not_active");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->severity, "warning");
  EXPECT_NE(a->message.find("UPDATING"), std::string::npos);
}

TEST(Anomalies, ExpiredBacklogThresholds) {
  Thresholds th = defaults();  // warning above 100, no critical level
  auto at = dynamo(100);
  evaluate_anomalies(at, th, {}, kBase);
  EXPECT_EQ(find(at, "expired_backlog"), nullptr) << "exactly at the threshold is not above it";

  auto above = dynamo(101);
  evaluate_anomalies(above, th, {}, kBase);
  const Anomaly* a = find(above, "expired_backlog");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->severity, "warning");
  EXPECT_EQ(a->value, 101);
  EXPECT_EQ(a->threshold, 100);

  th.expired_backlog_critical = 150;
  auto crit_at = dynamo(150);
  evaluate_anomalies(crit_at, th, {}, kBase);
  ASSERT_NE(find(crit_at, "expired_backlog"), nullptr);
  EXPECT_EQ(find(crit_at, "expired_backlog")->severity, "warning");

  auto crit = dynamo(151);
  evaluate_anomalies(crit, th, {}, kBase);
  ASSERT_NE(find(crit, "expired_backlog"), nullptr);
  EXPECT_EQ(find(crit, "expired_backlog")->severity, "critical");
  EXPECT_EQ(std::count_if(crit.anomalies.begin(), crit.anomalies.end(),
                          [](const Anomaly& x) { return x.rule == "expired_backlog"; }),
            1);
}

TEST(Anomalies, SampledBacklogUsesTheEstimate) {
  auto t = dynamo(3);
  t.estimated = true;
  t.expired_estimate = 600;
  evaluate_anomalies(t, defaults(), {}, kBase);
  ASSERT_NE(find(t, "expired_backlog"), nullptr);
  EXPECT_EQ(find(t, "expired_backlog")->value, 600);
  EXPECT_NE(find(t, "expired_backlog")->message.find("estimated"), std::string::npos);
}

TEST(Anomalies, OldestOverdueThresholds) {
  const double h48 = 48 * 3600, d7 = 7 * 86400;
  auto at = dynamo(1, h48);
  evaluate_anomalies(at, defaults(), {}, kBase);
  EXPECT_EQ(find(at, "oldest_overdue"), nullptr);

  auto warn = dynamo(1, h48 + 1);
  evaluate_anomalies(warn, defaults(), {}, kBase);
  ASSERT_NE(find(warn, "oldest_overdue"), nullptr);
  EXPECT_EQ(find(warn, "oldest_overdue")->severity, "warning");

  auto still_warn = dynamo(1, d7);
  evaluate_anomalies(still_warn, defaults(), {}, kBase);
  EXPECT_EQ(find(still_warn, "oldest_overdue")->severity, "warning");

  auto crit = dynamo(1, d7 + 1);
  evaluate_anomalies(crit, defaults(), {}, kBase);
  ASSERT_NE(find(crit, "oldest_overdue"), nullptr);
  EXPECT_EQ(find(crit, "oldest_overdue")->severity, "critical");
  EXPECT_EQ(find(crit, "oldest_overdue")->threshold, d7);
}

TEST(Anomalies, HygieneListsEachClassAtOrAboveThreshold) {
  Thresholds th = defaults();
  th.ttl_hygiene_warning = 3;
  auto t = dynamo(0);
  t.stats.count(ItemClass::kMissingTtl, 2);       // below
  t.stats.count(ItemClass::kMillisecondsTtl, 3);  // at: fires
  t.stats.count(ItemClass::kBeyondFiveYears, 7);
  t.stats.count(ItemClass::kNotYetExpired, 100);  // not a hygiene problem
  evaluate_anomalies(t, th, {}, kBase);
  const Anomaly* a = find(t, "ttl_hygiene");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->severity, "warning");
  EXPECT_NE(a->message.find("milliseconds_ttl=3"), std::string::npos) << a->message;
  EXPECT_NE(a->message.find("beyond_five_years=7"), std::string::npos) << a->message;
  EXPECT_EQ(a->message.find("missing_ttl"), std::string::npos) << a->message;
  EXPECT_EQ(a->value, 10);

  auto below = dynamo(0);
  below.stats.count(ItemClass::kNonNumericTtl, 2);
  evaluate_anomalies(below, th, {}, kBase);
  EXPECT_EQ(find(below, "ttl_hygiene"), nullptr);
}

TEST(Anomalies, SampledHygieneComparesTheEstimateNotTheRawSampleCount) {
  // A 5% sample saw 2 missing-TTL items: about 40 in the table. Comparing the raw 2 with a
  // threshold of 10 would under-fire by 1/f; the rule compares the point estimate.
  Thresholds th = defaults();
  th.ttl_hygiene_warning = 10;
  auto t = dynamo(0);
  t.stats.count(ItemClass::kMissingTtl, 2);
  t.estimated = true;
  t.class_estimates[static_cast<size_t>(ItemClass::kMissingTtl)] = {40, 5, 150};
  evaluate_anomalies(t, th, {}, kBase);
  const Anomaly* a = find(t, "ttl_hygiene");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->value, 40);
  EXPECT_NE(a->message.find("missing_ttl=40 (estimated, 95% interval 5..150)"), std::string::npos) << a->message;

  // Seen 0 times: estimate 0 (upper bound 74 at 5%): no alarm on the bound alone.
  auto none = dynamo(0);
  none.estimated = true;
  none.class_estimates[static_cast<size_t>(ItemClass::kMissingTtl)] = {0, 0, 74};
  evaluate_anomalies(none, th, {}, kBase);
  EXPECT_EQ(find(none, "ttl_hygiene"), nullptr);
}

TEST(Anomalies, S3MultipartAndLifecycle) {
  TargetReport t;
  t.name = "uploads";
  t.kind = "s3";
  t.multipart = MultipartInfo{0, 0};
  evaluate_anomalies(t, defaults(), {}, kBase);
  EXPECT_EQ(find(t, "stale_multipart"), nullptr);
  EXPECT_EQ(find(t, "lifecycle_missing"), nullptr);

  TargetReport s = t;
  s.anomalies.clear();
  s.multipart = MultipartInfo{4, 3 * 86400.0};
  s.extra["s3"] = {{"lifecycle_missing", true}};
  evaluate_anomalies(s, defaults(), {}, kBase);
  ASSERT_NE(find(s, "stale_multipart"), nullptr);
  EXPECT_EQ(find(s, "stale_multipart")->value, 4);
  ASSERT_NE(find(s, "lifecycle_missing"), nullptr);
  EXPECT_EQ(find(s, "lifecycle_missing")->severity, "warning");

  TargetReport f = t;
  f.extra["s3"] = {{"lifecycle_missing", false}};
  evaluate_anomalies(f, defaults(), {}, kBase);
  EXPECT_EQ(find(f, "lifecycle_missing"), nullptr);
}

TEST(Anomalies, FailedTargetOnlyTargetFailed) {
  auto t = dynamo(0);
  t.status = Status::kFailed;
  t.error = "AccessDeniedException: not authorized";
  t.table_metrics->ttl_status = "DISABLED";  // unknowable when the target failed
  evaluate_anomalies(t, defaults(), load_fixture("growing"), kBase + 9 * 3600);
  ASSERT_EQ(t.anomalies.size(), 1u);
  EXPECT_EQ(t.anomalies[0].rule, "target_failed");
  EXPECT_EQ(t.anomalies[0].severity, "critical");
  EXPECT_NE(t.anomalies[0].message.find("AccessDenied"), std::string::npos);
  EXPECT_FALSE(t.extra.contains("backlog_trend"));
}

TEST(Anomalies, PartialTargetWarnsAndStillChecks) {
  auto t = dynamo(500);
  t.status = Status::kPartial;
  t.error = "read budget exhausted";
  evaluate_anomalies(t, defaults(), {}, kBase);
  ASSERT_NE(find(t, "target_partial"), nullptr);
  EXPECT_EQ(find(t, "target_partial")->severity, "warning");
  EXPECT_EQ(find(t, "target_failed"), nullptr);
  EXPECT_NE(find(t, "expired_backlog"), nullptr);
}

TEST(BacklogGrowth, FiresOnlyAboveEwmaPlusSigma) {
  auto history = load_fixture("growing");  // 100 x6, 120, 150, 190: EWMA 140.4, dev 37.1
  double now = kBase + 9 * 3600;
  Thresholds th = defaults();
  th.expired_backlog_warning = 1e9;  // isolate the growth rule

  auto below = dynamo(250);  // limit is 251.8
  evaluate_anomalies(below, th, history, now);
  EXPECT_EQ(find(below, "backlog_growth"), nullptr);

  auto above = dynamo(260);
  evaluate_anomalies(above, th, history, now);
  const Anomaly* a = find(above, "backlog_growth");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->severity, "warning");
  EXPECT_EQ(a->value, 260);
  EXPECT_NEAR(a->threshold, 251.8, 0.5);
}

TEST(BacklogGrowth, NeedsGrowthInEachRun) {
  double now = kBase + 8 * 3600;
  auto flat = load_fixture("flat");
  auto t = dynamo(105);
  evaluate_anomalies(t, defaults(), flat, now);
  EXPECT_EQ(find(t, "backlog_growth"), nullptr) << "one rise after a flat history is not a trend";

  // Growth in every run but within the history's own noise.
  auto noisy = load_fixture("noisy");
  auto n = dynamo(180);
  evaluate_anomalies(n, defaults(), noisy, now);
  EXPECT_EQ(find(n, "backlog_growth"), nullptr);

  // Fewer past runs than growth_runs: nothing to compare.
  std::vector<HistoryPoint> short_history(flat.end() - 2, flat.end());
  auto s = dynamo(1000);
  evaluate_anomalies(s, defaults(), short_history, now);
  EXPECT_EQ(find(s, "backlog_growth"), nullptr);
}

TEST(BacklogGrowth, MinItemsAndFailedRunsIgnored) {
  auto history = load_fixture("with_failed");  // the failed run's 0 must not break the streak
  double now = kBase + 11 * 3600;
  auto t = dynamo(260);
  Thresholds th = defaults();
  th.expired_backlog_warning = 1e9;
  evaluate_anomalies(t, th, history, now);
  EXPECT_NE(find(t, "backlog_growth"), nullptr);

  th.growth_min_items = 200;  // grew 120 -> 260 = 140 over the window
  auto small = dynamo(260);
  evaluate_anomalies(small, th, history, now);
  EXPECT_EQ(find(small, "backlog_growth"), nullptr);
}

TEST(BacklogTrend, ShrinkingBacklogGetsDrainEstimate) {
  auto history = load_fixture("shrinking");  // 1000, 900, 800, 700 hourly
  double now = kBase + 4 * 3600;
  auto t = dynamo(600);
  evaluate_anomalies(t, defaults(), history, now);
  ASSERT_TRUE(t.extra.contains("backlog_trend"));
  const auto& trend = t.extra["backlog_trend"];
  EXPECT_EQ(trend["direction"], "shrinking");
  EXPECT_NEAR(trend["rate_items_per_hour"].get<double>(), -100, 1e-6);
  EXPECT_NEAR(trend["drain_estimate_seconds"].get<double>(), 6 * 3600, 1e-3);
}

TEST(BacklogTrend, GrowingAndFlatHaveNoDrainEstimate) {
  auto g = backlog_trend(260, kBase + 9 * 3600, load_fixture("growing"));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->direction, "growing");
  EXPECT_GT(g->rate_items_per_hour, 0);
  EXPECT_FALSE(g->drain_estimate_seconds);

  auto f = backlog_trend(100, kBase + 8 * 3600, load_fixture("flat"));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->direction, "flat");
  EXPECT_FALSE(f->drain_estimate_seconds);

  EXPECT_FALSE(backlog_trend(100, kBase, {}));
}

TEST(AnomaliesReach, Levels) {
  Report r;
  r.targets.push_back(dynamo(0));
  EXPECT_FALSE(anomalies_reach(r, "warning"));
  r.targets[0].anomalies.push_back({"expired_backlog", "warning", "", 0, 0});
  EXPECT_TRUE(anomalies_reach(r, "warning"));
  EXPECT_FALSE(anomalies_reach(r, "critical"));
  EXPECT_FALSE(anomalies_reach(r, "never"));
  r.targets.push_back(dynamo(0));
  r.targets[1].anomalies.push_back({"ttl_disabled", "critical", "", 0, 0});
  EXPECT_TRUE(anomalies_reach(r, "critical"));
  EXPECT_FALSE(anomalies_reach(r, "never"));
}

}  // namespace
}  // namespace ttla

namespace ttla {
namespace {

// A measured deletion section over a 24 h window.
nlohmann::json deletion(double deleted) {
  return {{"source", "cloudwatch"}, {"window_seconds", 86400}, {"deleted_in_window", deleted},
          {"rate_per_hour", deleted / 24}, {"drain_eta_seconds", nullptr}};
}

bool fires_stalled(TargetReport t) {
  evaluate_anomalies(t, Thresholds{}, {}, 1795000000);
  for (const auto& a : t.anomalies) {
    if (a.rule == "ttl_stalled") {
      EXPECT_EQ(a.severity, "critical");
      return true;
    }
  }
  return false;
}

TEST(TtlStalled, FiresOnlyWhenEveryConditionHolds) {
  // 150 expired (threshold 100), oldest 3 days (window 1 day), zero deletions, TTL ENABLED.
  auto stalled = [] {
    auto t = dynamo(150, 3 * 86400);
    t.extra["deletion"] = deletion(0);
    return t;
  };
  EXPECT_TRUE(fires_stalled(stalled()));

  auto deleting = stalled();
  deleting.extra["deletion"] = deletion(1);
  EXPECT_FALSE(fires_stalled(deleting)) << "one deletion in the window: lag, not a stall";

  auto small = dynamo(100, 3 * 86400);
  small.extra["deletion"] = deletion(0);
  EXPECT_FALSE(fires_stalled(small)) << "backlog at (not above) the threshold";

  auto young = dynamo(150, 86400 - 1);
  young.extra["deletion"] = deletion(0);
  EXPECT_FALSE(fires_stalled(young)) << "oldest item younger than the window";

  auto disabled = stalled();
  disabled.table_metrics->ttl_status = "DISABLED";
  EXPECT_FALSE(fires_stalled(disabled)) << "ttl_disabled tells that story";

  auto unmeasured = stalled();
  unmeasured.extra["deletion"] = {{"source", "cloudwatch"}, {"window_seconds", 86400},
                                  {"error", "auth: AccessDenied"}};
  EXPECT_FALSE(fires_stalled(unmeasured)) << "no rate is not a zero rate";

  auto no_section = dynamo(150, 3 * 86400);
  EXPECT_FALSE(fires_stalled(no_section));
}

TargetReport queue(double visible, bool with_age = true) {
  TargetReport t;
  t.name = "dlq";
  t.kind = "sqs";
  t.has_expired = false;
  t.extra["sqs"] = {{"messages", {{"visible", visible}, {"in_flight", 3}, {"delayed", 0}}}};
  if (with_age) t.extra["sqs"]["oldest_message_age_seconds"] = 7200;
  return t;
}

TEST(Anomalies, DlqDepthAboveTheThresholdOnlyAndNoExpiryRulesForQueues) {
  Thresholds th = defaults();
  th.expired_backlog_warning = 0;  // would fire on any expired item, if a queue had any
  th.oldest_overdue_warning = 1;
  TargetReport at = queue(50);
  evaluate_anomalies(at, th, {});
  EXPECT_TRUE(at.anomalies.empty()) << at.anomalies.size();

  TargetReport above = queue(51);
  evaluate_anomalies(above, th, {});
  ASSERT_EQ(above.anomalies.size(), 1u);
  EXPECT_EQ(above.anomalies[0].rule, "dlq_depth");
  EXPECT_EQ(above.anomalies[0].severity, "warning");
  EXPECT_EQ(above.anomalies[0].value, 51);
  EXPECT_EQ(above.anomalies[0].threshold, 50);
  EXPECT_NE(above.anomalies[0].message.find("oldest 2.0h"), std::string::npos)
      << above.anomalies[0].message;

  th.dlq_depth_critical = 500;
  TargetReport deep = queue(501, false);
  evaluate_anomalies(deep, th, {});
  ASSERT_NE(find(deep, "dlq_depth"), nullptr);
  EXPECT_EQ(find(deep, "dlq_depth")->severity, "critical");
  EXPECT_EQ(find(deep, "dlq_depth")->message.find("oldest"), std::string::npos);

  th.dlq_depth_warning = 0;  // off
  th.dlq_depth_critical = 0;
  TargetReport off = queue(10000);
  evaluate_anomalies(off, th, {});
  EXPECT_EQ(find(off, "dlq_depth"), nullptr);
}

TEST(Anomalies, OrphanFilesWarnFromTheThreshold) {
  TargetReport t;
  t.name = "images";
  t.kind = "filesystem";
  t.extra["orphans"] = {{"count", 0}, {"bytes", 0}};
  evaluate_anomalies(t, defaults(), {});
  EXPECT_EQ(find(t, "orphan_files"), nullptr);
  t.extra["orphans"] = {{"count", 3}, {"bytes", 4096}};
  evaluate_anomalies(t, defaults(), {});
  ASSERT_NE(find(t, "orphan_files"), nullptr);
  EXPECT_EQ(find(t, "orphan_files")->severity, "warning");
  EXPECT_EQ(find(t, "orphan_files")->value, 3);
  // A failed orphan lookup has no count: nothing to judge.
  TargetReport failed_lookup;
  failed_lookup.kind = "filesystem";
  failed_lookup.extra["orphans"] = {{"error", "orphans: network: cannot connect"}};
  evaluate_anomalies(failed_lookup, defaults(), {});
  EXPECT_EQ(find(failed_lookup, "orphan_files"), nullptr);
}

}  // namespace
}  // namespace ttla
