// The exposition text of representative reports, byte for byte, against recorded fixtures
// (tests/fixtures/metrics/*.prom). The fixtures were written by the metric model as it stood
// before it became a table; regenerate them only for an intended change of the output:
//   TTLA_UPDATE_METRICS_FIXTURES=1 ./build/tests/metrics_exposition_test
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sinks/metrics.h"
#include "sinks_test_report.h"
#include "ttla_version.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(TTLA_SOURCE_DIR) / "tests" / "fixtures" / "metrics";

// The build's version is the one label that changes between releases.
std::string without_version(std::string text) {
  const std::string v = std::string("version=\"") + TTLA_VERSION + "\"";
  for (size_t at = text.find(v); at != std::string::npos; at = text.find(v, at)) {
    text.replace(at, v.size(), "version=\"VERSION\"");
  }
  return text;
}

void expect_fixture(const std::string& name, const Report& report, const MetricsOptions& options = {}) {
  const std::string text = without_version(metrics_text(report, options));
  const fs::path file = kDir / (name + ".prom");
  if (const char* u = std::getenv("TTLA_UPDATE_METRICS_FIXTURES"); u != nullptr && *u == '1') {
    std::ofstream(file, std::ios::binary) << text;
  }
  std::ifstream in(file, std::ios::binary);
  ASSERT_TRUE(in) << "missing fixture " << file;
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(text, expected.str()) << name;
}

// Targets of the kinds and sections crafted_report() leaves out.
Report kinds_report() {
  Report r = testing::crafted_report();
  r.targets.pop_back();  // the failed target is covered by crafted.prom

  TargetReport q;
  q.name = "jobs";
  q.kind = "sqs";
  q.scan.requests = 2;
  q.has_expired = false;
  q.extra["sqs"] = {{"messages", {{"visible", 12}, {"in_flight", 3}, {"delayed", 0}}},
                    {"oldest_message_age_seconds", 5400.5}};
  q.anomalies.push_back({"dlq_depth", "warning", "12 messages in the dead-letter queue", 12, 1});
  r.targets.push_back(q);

  TargetReport f;
  f.name = "images";
  f.kind = "filesystem";
  f.scan.items_scanned = 30;
  f.scan.duration_seconds = 0.125;
  f.stats.add_expired("images/a.jpg", 1794990000, 10000, 2048, "");
  f.expired_bytes_measured = true;
  f.extra["orphans"] = {{"count", 4}, {"bytes", 8192}};
  r.targets.push_back(f);

  TargetReport p;
  p.name = "audit_log";
  p.kind = "postgres";
  p.scan.items_scanned = 500;
  p.scan.requests = 1;
  p.stats.add_expired("id=17", 1794000000, 1000000, 0, "");
  p.stats.add_expired("id=18", 1794500000, 500000, 0, "");
  p.stats.count(ItemClass::kNotYetExpired, 498);
  p.anomalies.push_back({"custom_rule", "warning", "a rule the metric model does not list", 1, 0});
  r.targets.push_back(p);

  TargetReport d = r.targets.front();  // DynamoDB with a measured deletion rate and latency
  d.name = "carts";
  d.anomalies.clear();
  d.extra["deletion"] = {{"source", "cloudwatch"},
                         {"window_seconds", 86400},
                         {"deleted_in_window", 0.0},
                         {"rate_per_hour", 0.0},
                         {"latency_seconds_quantiles", {{"p50", 3600.0}, {"p90", 7200.0}, {"p99", 86400.0}}},
                         {"latency_observations", 25},
                         {"latency_mean_seconds", 5000.0}};
  d.anomalies.push_back({"ttl_stalled", "critical", "no deletions in 24h", 0, 0});
  r.targets.push_back(d);

  TargetReport u;  // stopped before it read anything: no findings
  u.name = "late";
  u.kind = "s3";
  u.status = Status::kPartial;
  u.findings_measured = false;
  u.error = "max_duration 1m exceeded";
  u.anomalies.push_back({"target_partial", "warning", "stopped early", 0, 0});
  r.targets.push_back(u);
  return r;
}

TEST(MetricsExposition, CraftedReport) { expect_fixture("crafted", testing::crafted_report()); }

TEST(MetricsExposition, EveryKindAndSection) { expect_fixture("kinds", kinds_report()); }

TEST(MetricsExposition, TextfileCarriesPreviousSuccess) {
  MetricsOptions o;
  o.previous_success = {{"broken", 1794990000.0}, {"sessions", 1.0}};
  expect_fixture("previous_success", testing::crafted_report(), o);
}

TEST(MetricsExposition, PushgatewayGroupOfOneTarget) {
  MetricsOptions o;
  o.run_metrics = false;
  o.only_target = "uploads";
  o.omit_last_success = true;
  expect_fixture("pushgateway_group", kinds_report(), o);
}

TEST(MetricsExposition, RunMetricsOnly) {
  MetricsOptions o;
  o.target_metrics = false;
  expect_fixture("run_only", kinds_report(), o);
}

}  // namespace
}  // namespace ttla
