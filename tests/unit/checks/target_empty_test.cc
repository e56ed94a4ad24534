// target_empty: a target whose population is empty fires a warning naming what it read; a
// target with items (any class), a failed or unmeasured target, or a table skipped on purpose
// does not.
#include <gtest/gtest.h>

#include <algorithm>

#include "checks/anomalies.h"

namespace ttla {
namespace {

constexpr double kNow = 1795000000;

TargetReport target(const std::string& kind) {
  TargetReport t;
  t.name = "images";
  t.kind = kind;
  t.scope = "path /data/images, pattern *.JPG";
  return t;
}

const Anomaly* empty_anomaly(const TargetReport& t) {
  auto it = std::find_if(t.anomalies.begin(), t.anomalies.end(),
                         [](const Anomaly& a) { return a.rule == "target_empty"; });
  return it == t.anomalies.end() ? nullptr : &*it;
}

TEST(TargetEmpty, NothingMatchedFiresAWarningNamingTheScope) {
  TargetReport t = target("filesystem");
  evaluate_anomalies(t, Thresholds{}, {}, kNow);
  const Anomaly* a = empty_anomaly(t);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->severity, "warning");
  EXPECT_NE(a->message.find("path /data/images, pattern *.JPG"), std::string::npos) << a->message;
}

TEST(TargetEmpty, AnyItemSilencesIt) {
  TargetReport fs = target("filesystem");
  fs.stats.count(ItemClass::kNotYetExpired, 1);
  evaluate_anomalies(fs, Thresholds{}, {}, kNow);
  EXPECT_EQ(empty_anomaly(fs), nullptr);

  TargetReport pg = target("postgres");
  pg.scan.items_scanned = 3;  // rows with a NULL timestamp are in no class but were matched
  evaluate_anomalies(pg, Thresholds{}, {}, kNow);
  EXPECT_EQ(empty_anomaly(pg), nullptr);

  TargetReport ddb = target("dynamodb");
  ddb.stats.count(ItemClass::kMissingTtl, 1);
  evaluate_anomalies(ddb, Thresholds{}, {}, kNow);
  EXPECT_EQ(empty_anomaly(ddb), nullptr);
}

TEST(TargetEmpty, AFilterThatDropsEverythingStillFires) {
  // DynamoDB counts examined items in items_scanned; only classified ones matched the filter.
  TargetReport ddb = target("dynamodb");
  ddb.scope = "table Sessions, filter #s <> :u";
  ddb.scan.items_scanned = 500;
  evaluate_anomalies(ddb, Thresholds{}, {}, kNow);
  ASSERT_NE(empty_anomaly(ddb), nullptr);
  EXPECT_NE(empty_anomaly(ddb)->message.find("filter #s <> :u"), std::string::npos);
}

TEST(TargetEmpty, NotForUnmeasuredFailedOrSkippedTargets) {
  TargetReport failed = target("filesystem");
  failed.status = Status::kFailed;
  failed.error = "io: no such directory";
  evaluate_anomalies(failed, Thresholds{}, {}, kNow);
  EXPECT_EQ(empty_anomaly(failed), nullptr);

  TargetReport stopped = target("dynamodb");
  stopped.status = Status::kPartial;
  stopped.error = "max_duration 2s exceeded";
  stopped.findings_measured = false;
  evaluate_anomalies(stopped, Thresholds{}, {}, kNow);
  EXPECT_EQ(empty_anomaly(stopped), nullptr);
  ASSERT_EQ(stopped.anomalies.size(), 1u);  // target_partial only: no zero-valued findings
  EXPECT_EQ(stopped.anomalies[0].rule, "target_partial");

  TargetReport skipped = target("dynamodb");
  skipped.extra["dynamodb"] = {{"scan_skipped", "TTL is DISABLED"}};
  evaluate_anomalies(skipped, Thresholds{}, {}, kNow);
  EXPECT_EQ(empty_anomaly(skipped), nullptr);
}

}  // namespace
}  // namespace ttla
