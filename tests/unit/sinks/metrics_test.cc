#include "sinks/metrics.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "sinks_test_report.h"
#include "ttla_version.h"
#include "support/require.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPromtool = "/usr/bin/promtool";

// Runs `promtool check metrics` on `text`; returns its exit code and output.
std::pair<int, std::string> promtool_check(const std::string& text) {
  fs::path file = fs::temp_directory_path() / ("ttla-metrics-" + std::to_string(::getpid()) + ".prom");
  std::ofstream(file) << text;
  std::string cmd = std::string(kPromtool) + " check metrics < " + file.string() + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  int status = p ? ::pclose(p) : -1;
  fs::remove(file);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::set<std::string> sample_lines(const std::string& text) {
  std::set<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') lines.insert(line);
  }
  return lines;
}

bool has_line(const std::string& text, const std::string& line) {
  return sample_lines(text).count(line) > 0;
}

size_t count_series(const std::string& text, const std::string& target) {
  size_t n = 0;
  for (const auto& l : sample_lines(text)) n += l.find("target=\"" + target + "\"") != std::string::npos;
  return n;
}

TEST(Metrics, PromtoolAcceptsTheWholeModel) {
  if (!fs::exists(kPromtool)) TTLA_SKIP_OR_FAIL("promtool not installed at " << kPromtool);
  std::string text = metrics_text(testing::crafted_report());
  auto [code, out] = promtool_check(text);
  EXPECT_EQ(code, 0) << out << "\n" << text;
  EXPECT_TRUE(out.empty()) << out;
}

TEST(Metrics, PromtoolRejectsABrokenExposition) {
  // Guards the check above: promtool really lints (a counter without _total is reported).
  if (!fs::exists(kPromtool)) TTLA_SKIP_OR_FAIL("promtool not installed at " << kPromtool);
  auto [code, out] = promtool_check("# HELP x_bytes y\n# TYPE x_bytes counter\nx_bytes 1\n");
  EXPECT_NE(code, 0) << out;
}

TEST(Metrics, ExactSeriesForADynamoTarget) {
  std::string text = metrics_text(testing::crafted_report());
  const std::string l = R"({kind="dynamodb",target="sessions"})";
  EXPECT_TRUE(has_line(text, "ttl_auditor_expired_items" + l + " 3")) << text;
  EXPECT_TRUE(has_line(text, "ttl_auditor_expired_bytes" + l + " 600")) << text;
  EXPECT_TRUE(has_line(text, "ttl_auditor_oldest_overdue_seconds" + l + " 864000")) << text;
  EXPECT_TRUE(has_line(text, "ttl_auditor_newest_overdue_seconds" + l + " 1800")) << text;
  EXPECT_TRUE(has_line(text, "ttl_auditor_not_yet_expired_items" + l + " 7")) << text;
  EXPECT_TRUE(has_line(
      text, R"(ttl_auditor_ttl_hygiene_items{kind="dynamodb",problem="milliseconds",target="sessions"} 2)"))
      << text;
  EXPECT_TRUE(has_line(
      text, R"(ttl_auditor_ttl_hygiene_items{kind="dynamodb",problem="missing",target="sessions"} 0)"));
  EXPECT_TRUE(has_line(
      text, R"(ttl_auditor_ttl_hygiene_items{kind="dynamodb",problem="beyond_five_years",target="sessions"} 0)"));
  EXPECT_TRUE(has_line(
      text, R"(ttl_auditor_ttl_hygiene_items{kind="dynamodb",problem="non_numeric",target="sessions"} 0)"));
  // Histogram: 1800 s and 2 x 90000 s and 864000 s -> le=3600: 1, le=172800: 2, le=1209600: 3.
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_overdue_seconds_bucket{kind="dynamodb",target="sessions",le="3600"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_overdue_seconds_bucket{kind="dynamodb",target="sessions",le="172800"} 2)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_overdue_seconds_bucket{kind="dynamodb",target="sessions",le="+Inf"} 3)"))
      << text;
  EXPECT_TRUE(has_line(text, "ttl_auditor_overdue_seconds_count" + l + " 3")) << text;
  EXPECT_TRUE(has_line(text, "ttl_auditor_overdue_seconds_sum" + l + " 955800")) << text;
  EXPECT_TRUE(has_line(text, "ttl_auditor_target_success" + l + " 1"));
  EXPECT_TRUE(has_line(text, "ttl_auditor_last_success_timestamp_seconds" + l + " 1795000100"))
      << text;
  EXPECT_TRUE(has_line(text, "ttl_auditor_ttl_enabled" + l + " 1"));
  EXPECT_TRUE(has_line(text, "ttl_auditor_table_items" + l + " 1000"));
  EXPECT_TRUE(has_line(text, "ttl_auditor_table_size_bytes" + l + " 250000"));
  EXPECT_TRUE(has_line(text, "ttl_auditor_items_scanned" + l + " 12"));
  EXPECT_TRUE(has_line(text, "ttl_auditor_consumed_read_units" + l + " 6.5"));
  EXPECT_TRUE(has_line(text, "ttl_auditor_requests" + l + " 2"));
  // Firing rule 1, evaluated quiet rules 0, with the severity label.
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_anomaly{kind="dynamodb",rule="oldest_overdue",severity="critical",target="sessions"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_anomaly{kind="dynamodb",rule="oldest_overdue",severity="warning",target="sessions"} 0)"));
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_anomaly{kind="dynamodb",rule="ttl_disabled",severity="critical",target="sessions"} 0)"));
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_anomaly{kind="dynamodb",rule="expired_backlog",severity="warning",target="sessions"} 0)"));
  // Not sampled: no confidence interval series.
  EXPECT_EQ(text.find(R"(ttl_auditor_expired_items_ci95{kind="dynamodb",bound="lower",target="sessions")"),
            std::string::npos);
  // Quantiles are within the sketch's 1% of a true value.
  std::smatch m;
  std::regex q(R"(ttl_auditor_overdue_quantile_seconds\{kind="dynamodb",target="sessions",quantile="0.5"\} ([0-9.e+]+))");
  ASSERT_TRUE(std::regex_search(text, m, q)) << text;
  EXPECT_NEAR(std::stod(m[1]), 90000, 900);
}

TEST(Metrics, SampledAndS3Sections) {
  std::string text = metrics_text(testing::crafted_report());
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_expired_items{kind="dynamodb",target="sampled"} 1200)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_expired_items_ci95{bound="lower",kind="dynamodb",target="sampled"} 900)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_expired_items_ci95{bound="upper",kind="dynamodb",target="sampled"} 1500)"));
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_stale_multipart_uploads{kind="s3",target="uploads"} 4)"));
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_multipart_oldest_age_seconds{kind="s3",target="uploads"} 259200)"));
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_noncurrent_expired_items{kind="s3",target="uploads"} 9)"));
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_noncurrent_expired_bytes{kind="s3",target="uploads"} 9000)"));
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_backlog_drain_estimate_seconds{kind="s3",target="uploads"} 21600)"));
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_anomaly{kind="s3",rule="lifecycle_missing",severity="warning",target="uploads"} 1)"));
  // Hygiene and table series only where they apply.
  EXPECT_EQ(text.find(R"(ttl_auditor_ttl_hygiene_items{kind="s3")"), std::string::npos);
  EXPECT_EQ(text.find(R"(ttl_auditor_ttl_enabled{kind="s3")"), std::string::npos);
  EXPECT_EQ(text.find(R"(ttl_auditor_backlog_drain_estimate_seconds{kind="dynamodb")"), std::string::npos);
  // Run-level series carry no target label.
  EXPECT_TRUE(has_line(text, "ttl_auditor_run_duration_seconds 12.5")) << text;
  EXPECT_TRUE(has_line(text, "ttl_auditor_last_run_timestamp_seconds 1795000100"));
  EXPECT_TRUE(has_line(text, std::string("ttl_auditor_build_info{version=\"") + TTLA_VERSION + "\"} 1"))
      << text;
}

TEST(Metrics, SampledClassesExportEstimatesAndUnmeasuredBytesAreAbsent) {
  Report r = testing::crafted_report();
  TargetReport& p = r.targets[1];
  ASSERT_EQ(p.name, "sampled");
  p.class_estimates[static_cast<size_t>(ItemClass::kMissingTtl)] = {60, 12, 180};
  p.class_estimates[static_cast<size_t>(ItemClass::kNotYetExpired)] = {3400, 3000, 3800};
  p.expired_bytes_measured = false;
  const std::string text = metrics_text(r);
  // The estimate, not the raw count seen in the sample (0 here).
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_ttl_hygiene_items{kind="dynamodb",problem="missing",target="sampled"} 60)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_not_yet_expired_items{kind="dynamodb",target="sampled"} 3400)")) << text;
  EXPECT_EQ(text.find(R"(ttl_auditor_expired_bytes{kind="dynamodb",target="sampled"})"), std::string::npos)
      << "bytes that were never measured exported as 0";
}

TEST(Metrics, QuantilesAreTheReportsQuantiles) {
  // The sketch's p50 of {1000} and p99 of a wide spread can fall a little outside the exact
  // extremes; the report clamps them, and /metrics must show the very same numbers.
  Report r = testing::crafted_report();
  TargetReport& s = r.targets[0];
  for (int i = 0; i < 50; ++i) s.stats.add_expired("k" + std::to_string(i), 1794000000 + i, 1000000 - i, 0, "");
  const std::string text = metrics_text(r);
  const nlohmann::json report = report_to_json(r);
  for (const auto& t : report["targets"]) {
    if (t["status"] == "failed") continue;
    for (const auto& [label, key] : {std::pair{"0.5", "p50"}, {"0.9", "p90"}, {"0.99", "p99"}}) {
      std::smatch m;
      const std::regex q("ttl_auditor_overdue_quantile_seconds\\{kind=\"" + t["kind"].get<std::string>() +
                         "\",target=\"" + t["name"].get<std::string>() + "\",quantile=\"" + label +
                         "\"\\} ([0-9.e+]+)");
      ASSERT_TRUE(std::regex_search(text, m, q)) << t["name"] << " " << label << "\n" << text;
      EXPECT_DOUBLE_EQ(std::stod(m[1]), t["expired"]["overdue_seconds_quantiles"][key].get<double>())
          << t["name"] << " " << key;
    }
  }
}

TEST(Metrics, FailedTargetHasStatusWithSameLabelsAndNoLastSuccess) {
  std::string text = metrics_text(testing::crafted_report());
  const std::string l = R"({kind="dynamodb",target="broken"})";
  EXPECT_TRUE(has_line(text, "ttl_auditor_target_success" + l + " 0")) << text;
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_anomaly{kind="dynamodb",rule="target_failed",severity="critical",target="broken"} 1)"));
  EXPECT_EQ(text.find("ttl_auditor_last_success_timestamp_seconds" + l), std::string::npos) << text;
  // No findings for a target that produced none: zeros would resolve live alerts.
  EXPECT_EQ(text.find("ttl_auditor_expired_items" + l), std::string::npos);
  EXPECT_EQ(text.find(R"(rule="ttl_disabled",severity="critical",target="broken")"), std::string::npos);
  // Cost of the attempt is still reported.
  EXPECT_TRUE(has_line(text, "ttl_auditor_requests" + l + " 3"));
}

TEST(Metrics, PreviousSuccessCarriedForFailedTargetsOnly) {
  MetricsOptions o;
  o.previous_success = {{"broken", 1794990000}, {"sessions", 1}};
  std::string text = metrics_text(testing::crafted_report(), o);
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_last_success_timestamp_seconds{kind="dynamodb",target="broken"} 1794990000)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(ttl_auditor_last_success_timestamp_seconds{kind="dynamodb",target="sessions"} 1795000100)"));
  auto parsed = parse_last_success(text);
  EXPECT_EQ(parsed.at("broken"), 1794990000);
  EXPECT_EQ(parsed.at("sessions"), 1795000100);
  EXPECT_EQ(parsed.count("uploads"), 1u);
}

TEST(Metrics, NoItemKeysInLabels) {
  std::string text = metrics_text(testing::crafted_report());
  EXPECT_EQ(text.find("pk=user"), std::string::npos);
  EXPECT_EQ(text.find("uploads/2026"), std::string::npos);
}

TEST(Metrics, OnlyTargetAndRunScopes) {
  MetricsOptions o;
  o.run_metrics = false;
  o.only_target = "sessions";
  std::string text = metrics_text(testing::crafted_report(), o);
  EXPECT_GT(count_series(text, "sessions"), 30u);
  EXPECT_EQ(count_series(text, "uploads"), 0u);
  EXPECT_EQ(text.find("ttl_auditor_run_duration_seconds"), std::string::npos);
  o.omit_last_success = true;
  text = metrics_text(testing::crafted_report(), o);
  EXPECT_EQ(text.find("ttl_auditor_last_success_timestamp_seconds"), std::string::npos);
}

TEST(Metrics, SeriesPerTargetFigures) {
  std::string text = metrics_text(testing::crafted_report());
  // Printed for the report: the series budget of one target of each shape.
  size_t dynamo = count_series(text, "sessions");
  size_t sampled = count_series(text, "sampled");
  size_t s3 = count_series(text, "uploads");
  size_t failed = count_series(text, "broken");
  std::printf("series per target: dynamodb=%zu dynamodb_sampled=%zu s3=%zu failed=%zu\n", dynamo,
              sampled, s3, failed);
  EXPECT_LT(dynamo, 60u);
  EXPECT_EQ(sampled, dynamo + 2);  // + ci95 lower/upper
  EXPECT_LT(failed, 10u);
}

TEST(Metrics, SwappableCollectableServesTheLatestRegistry) {
  SwappableCollectable c;
  EXPECT_TRUE(c.Collect().empty());
  auto report = testing::crafted_report();
  c.set(build_metrics(report));
  std::string first = serialize_metrics(c);
  EXPECT_NE(first.find("target=\"uploads\""), std::string::npos);
  report.targets.pop_back();  // a target removed from the config disappears after the swap
  report.targets.erase(report.targets.begin() + 2);
  c.set(build_metrics(report));
  std::string second = serialize_metrics(c);
  EXPECT_EQ(second.find("target=\"uploads\""), std::string::npos) << second;
}

}  // namespace
}  // namespace ttla

namespace ttla {
namespace {

TEST(Metrics, DeletionRateAndItsDrainEstimateWinOverTheTrend) {
  Report r = testing::crafted_report();
  TargetReport& s = r.targets.front();
  ASSERT_EQ(s.kind, "dynamodb");
  s.extra["backlog_trend"] = {{"direction", "shrinking"},
                              {"rate_items_per_hour", -10.0},
                              {"drain_estimate_seconds", 999.0}};
  s.extra["deletion"] = {{"source", "cloudwatch"}, {"window_seconds", 86400},
                         {"deleted_in_window", 48.0}, {"rate_per_hour", 2.0},
                         {"drain_eta_seconds", 7200.0}};
  const std::string labels = "{kind=\"dynamodb\",target=\"" + s.name + "\"}";
  std::string text = metrics_text(r);
  EXPECT_TRUE(has_line(text, "ttl_auditor_ttl_deleted_items_per_hour" + labels + " 2")) << text;
  EXPECT_TRUE(has_line(text, "ttl_auditor_backlog_drain_estimate_seconds" + labels + " 7200"));
  EXPECT_TRUE(has_line(text, "ttl_auditor_anomaly{kind=\"dynamodb\",rule=\"ttl_stalled\","
                             "severity=\"critical\",target=\"" + s.name + "\"} 0"));
  EXPECT_EQ(promtool_check(text).first, 0) << promtool_check(text).second;

  // Rate 0: no drain from CloudWatch, the trend's estimate is the fallback.
  s.extra["deletion"]["rate_per_hour"] = 0.0;
  s.extra["deletion"]["drain_eta_seconds"] = nullptr;
  text = metrics_text(r);
  EXPECT_TRUE(has_line(text, "ttl_auditor_ttl_deleted_items_per_hour" + labels + " 0"));
  EXPECT_TRUE(has_line(text, "ttl_auditor_backlog_drain_estimate_seconds" + labels + " 999"));

  // CloudWatch failed: neither the rate nor the stall rule is exported.
  s.extra["deletion"] = {{"source", "cloudwatch"}, {"window_seconds", 86400},
                         {"error", "auth: AccessDenied"}};
  text = metrics_text(r);
  EXPECT_EQ(text.find("ttl_auditor_ttl_deleted_items_per_hour" + labels), std::string::npos);
  EXPECT_EQ(text.find("rule=\"ttl_stalled\""), std::string::npos);
}

}  // namespace
}  // namespace ttla
