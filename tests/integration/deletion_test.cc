// Is TTL keeping up? Black-box tests of the `deletion` section through the real binary against
// moto (scripts/servers/moto.sh), which serves DynamoDB with TTL and CloudWatch
// PutMetricData/GetMetricData. tests/tools/moto_ttl_tables.py creates the tables and puts the
// TimeToLiveDeletedItemCount datapoints; the expected rate, drain estimate and ttl_stalled
// verdicts are computed here from the same numbers.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/files.h"
#include "support/report_json.h"
#include "support/report_schema.h"
#include "support/require.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ttla::testing::find_target;
using ttla::testing::has_anomaly;
using ttla::testing::has_line;
using ttla::testing::make_temp_dir;
using ttla::testing::read_file;
using ttla::testing::remove_temp_dir;
using ttla::testing::shell;
using ttla::testing::write_file;

// 2026-11-30T06:13:20Z; the deletion window ends at the last whole hour, 06:00:00Z.
constexpr int64_t kAsOf = 1'796'019'200;
constexpr int64_t kWindowEnd = kAsOf / 3600 * 3600;
constexpr int64_t kWindowStart = kWindowEnd - 86400;
constexpr const char* kPython = "/usr/bin/python3";

class DeletionRate : public ::testing::Test {
 protected:
  void SetUp() override {
    TTLA_REQUIRE_ENV(endpoint_, "TTLA_MOTO_ENDPOINT", "start scripts/servers/moto.sh");
    dir_ = make_temp_dir("ttla-deletion");
    // moto is shared by every test of the run: unique table names.
    suffix_ = std::to_string(getpid()) + "-" + std::to_string(counter_++);
  }
  void TearDown() override {
    remove_temp_dir(dir_);
  }

  std::string table(const std::string& base) const { return base + "-" + suffix_; }

  void create_tables(const json& tables) {
    json spec = {{"endpoint", endpoint_}, {"tables", tables}};
    write_file(dir_ / "spec.json", spec.dump());
    const std::string cmd = std::string(kPython) + " '" + TTLA_SOURCE_DIR +
                            "/tests/tools/moto_ttl_tables.py' < '" + (dir_ / "spec.json").string() +
                            "' > '" + (dir_ / "spec.out").string() + "' 2>&1";
    ASSERT_EQ(shell(cmd), 0) << read_file(dir_ / "spec.out");
  }

  // Runs `ttl-auditor run` on the YAML targets; returns the exit code.
  int run(const std::string& targets_yaml, json* report, std::string* metrics = nullptr) {
    const std::string yaml = "defaults:\n  region: us-east-1\n  endpoint_url: " + endpoint_ +
                             "\ntargets:\n" + targets_yaml;
    write_file(dir_ / "config.yaml", yaml);
    const std::string cmd =
        std::string("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
                    "AWS_EC2_METADATA_DISABLED=true '") +
        TTLA_BINARY + "' run --config '" + (dir_ / "config.yaml").string() +
        "' --as-of " + std::to_string(kAsOf) + " --report '" + (dir_ / "report.json").string() +
        "' --textfile '" + (dir_ / "metrics.prom").string() + "' --log-format json > '" +
        (dir_ / "run.log").string() + "' 2>&1";
    const int rc = shell(cmd);
    log_ = read_file(dir_ / "run.log");
    *report = json::parse(read_file(dir_ / "report.json"), nullptr, false);
    if (metrics != nullptr) *metrics = read_file(dir_ / "metrics.prom");
    return rc;
  }

  static std::string target_yaml(const std::string& name, const std::string& table,
                                 const std::string& extra = "") {
    return "  - name: " + name + "\n    kind: dynamodb\n    table: " + table + "\n" + extra;
  }

  std::string endpoint_;
  fs::path dir_;
  std::string suffix_;
  std::string log_;
  static inline int counter_ = 0;
};

// `n` expired items, the oldest `oldest_age` seconds past its deadline, spread evenly; plus `live`
// items that expire tomorrow.
std::vector<int64_t> backlog(int n, int64_t oldest_age, int live) {
  std::vector<int64_t> ttl;
  for (int i = 0; i < n; ++i) ttl.push_back(kAsOf - oldest_age + oldest_age * i / n);
  for (int i = 0; i < live; ++i) ttl.push_back(kAsOf + 86400 + i);
  return ttl;
}

TEST_F(DeletionRate, CloudWatchDatapointsGiveTheExactRateAndDrainAndStallsAreTold) {
  // keeping_up: 120 expired (oldest 30 h, older than the window) but TTL deletes: 12 hourly
  // datapoints inside the window (every other hour missing: zeros), two outside that must not
  // count (the hour before the window, and the hour in progress at as_of).
  json keeping_deletions = json::array();
  double in_window = 0;
  for (int h = 0; h < 24; h += 2) {
    const double v = 5.0 * h + 3;
    keeping_deletions.push_back({kWindowStart + 3600 * h, v});
    in_window += v;
  }
  keeping_deletions.push_back({kWindowStart - 3600, 1000.0});
  keeping_deletions.push_back({kWindowEnd, 1000.0});
  // stalled: 150 expired, the oldest 3 days overdue, and no deletion inside the window (one
  // before it, which must not count).
  // quiet: zero deletions too, but only 5 expired items: below the backlog threshold.
  // off: stalled like `stalled`, with `cloudwatch: false`.
  create_tables(json::array(
      {{{"name", table("keeping")}, {"items", backlog(120, 30 * 3600, 30)},
        {"deletions", keeping_deletions}},
       {{"name", table("stalled")}, {"items", backlog(150, 3 * 86400, 10)},
        {"deletions", json::array({json::array({kWindowStart - 7200, 500.0})})}},
       {{"name", table("quiet")}, {"items", backlog(5, 3 * 86400, 10)}},
       {{"name", table("off")}, {"items", backlog(150, 3 * 86400, 0)}}}));

  json report;
  std::string metrics;
  const int rc = run(target_yaml("keeping_up", table("keeping")) +
                         target_yaml("stalled", table("stalled")) +
                         target_yaml("quiet", table("quiet")) +
                         target_yaml("off", table("off"), "    cloudwatch: false\n"),
                     &report, &metrics);
  ASSERT_FALSE(report.is_discarded()) << log_;
  EXPECT_EQ(rc, 1) << "ttl_stalled is critical: --fail-on critical exits 1\n" << log_;
  EXPECT_TRUE(ValidatesAgainstReportSchema(report));

  const json* keeping = find_target(report, "keeping_up");
  ASSERT_NE(keeping, nullptr);
  ASSERT_EQ(keeping->value("status", ""), "ok") << keeping->dump(1);
  ASSERT_TRUE(keeping->contains("deletion")) << keeping->dump(1);
  const json& d = (*keeping)["deletion"];
  EXPECT_EQ(d["source"], "cloudwatch");
  EXPECT_EQ(d["window_seconds"].get<int64_t>(), 86400);
  EXPECT_EQ(d["window_end"], "2026-11-30T06:00:00Z");
  EXPECT_DOUBLE_EQ(d["deleted_in_window"].get<double>(), in_window);  // 696
  EXPECT_EQ(d["datapoints"].get<int>(), 12);
  const double rate = in_window / 24.0;
  EXPECT_DOUBLE_EQ(d["rate_per_hour"].get<double>(), rate);
  EXPECT_EQ((*keeping)["expired"]["count"].get<int>(), 120);
  EXPECT_NEAR(d["drain_eta_seconds"].get<double>(), 120.0 / rate * 3600.0, 1e-6);
  EXPECT_FALSE(has_anomaly(*keeping, "ttl_stalled")) << keeping->dump(1);
  EXPECT_TRUE(has_anomaly(*keeping, "expired_backlog"));  // the backlog itself is still told

  const json* stalled = find_target(report, "stalled");
  ASSERT_NE(stalled, nullptr);
  ASSERT_TRUE(stalled->contains("deletion"));
  EXPECT_DOUBLE_EQ((*stalled)["deletion"]["deleted_in_window"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ((*stalled)["deletion"]["rate_per_hour"].get<double>(), 0.0);
  EXPECT_TRUE((*stalled)["deletion"]["drain_eta_seconds"].is_null());
  EXPECT_TRUE(has_anomaly(*stalled, "ttl_stalled")) << stalled->dump(1);
  for (const auto& a : (*stalled)["anomalies"]) {
    if (a["rule"] == "ttl_stalled") {
      EXPECT_EQ(a["severity"], "critical");
    }
  }

  const json* quiet = find_target(report, "quiet");
  ASSERT_NE(quiet, nullptr);
  EXPECT_DOUBLE_EQ((*quiet)["deletion"]["deleted_in_window"].get<double>(), 0.0);
  EXPECT_FALSE(has_anomaly(*quiet, "ttl_stalled")) << "5 items are below the backlog threshold";

  const json* off = find_target(report, "off");
  ASSERT_NE(off, nullptr);
  EXPECT_FALSE(off->contains("deletion"));
  EXPECT_FALSE(has_anomaly(*off, "ttl_stalled"));

  // Metrics: the rate, the drain estimate fed from it, the anomaly gauge firing only for stalled.
  char rate_text[64];
  std::snprintf(rate_text, sizeof rate_text, "%g", rate);
  EXPECT_TRUE(has_line(metrics, std::string("ttl_auditor_ttl_deleted_items_per_hour{kind=\"dynamodb\","
                                            "target=\"keeping_up\"} ") + rate_text))
      << metrics.substr(0, 3000);
  EXPECT_TRUE(has_line(metrics, "ttl_auditor_ttl_deleted_items_per_hour{kind=\"dynamodb\","
                                "target=\"stalled\"} 0"));
  EXPECT_EQ(metrics.find("ttl_auditor_ttl_deleted_items_per_hour{kind=\"dynamodb\",target=\"off\"}"),
            std::string::npos);
  EXPECT_NE(metrics.find("ttl_auditor_backlog_drain_estimate_seconds{kind=\"dynamodb\","
                         "target=\"keeping_up\"} "),
            std::string::npos);
  EXPECT_TRUE(has_line(metrics, "ttl_auditor_anomaly{kind=\"dynamodb\",rule=\"ttl_stalled\","
                                "severity=\"critical\",target=\"stalled\"} 1"));
  EXPECT_TRUE(has_line(metrics, "ttl_auditor_anomaly{kind=\"dynamodb\",rule=\"ttl_stalled\","
                                "severity=\"critical\",target=\"keeping_up\"} 0"));
}

TEST_F(DeletionRate, ConfiguredWindowAndUnreachableCloudWatchDoNotFailTheAudit) {
  // A 6 h window: only the last 6 hours' datapoints count.
  json deletions = json::array();
  for (int h = 0; h < 24; ++h) deletions.push_back({kWindowStart + 3600 * h, 10.0});
  create_tables(json::array({{{"name", table("six")}, {"items", backlog(20, 3600, 0)},
                              {"deletions", deletions}}}));
  json report;
  // The second target sends CloudWatch to a port nothing listens on.
  const int rc = run(target_yaml("six_hours", table("six"), "    deletion_window: 6h\n") +
                         target_yaml("no_cloudwatch", table("six"),
                                     "    cloudwatch_endpoint_url: http://127.0.0.1:9\n"),
                     &report);
  ASSERT_FALSE(report.is_discarded()) << log_;
  EXPECT_EQ(rc, 0) << log_;
  EXPECT_TRUE(ValidatesAgainstReportSchema(report));
  const json* six = find_target(report, "six_hours");
  ASSERT_NE(six, nullptr);
  EXPECT_EQ((*six)["deletion"]["window_seconds"].get<int64_t>(), 6 * 3600);
  EXPECT_DOUBLE_EQ((*six)["deletion"]["deleted_in_window"].get<double>(), 60.0);
  EXPECT_DOUBLE_EQ((*six)["deletion"]["rate_per_hour"].get<double>(), 10.0);
  EXPECT_NEAR((*six)["deletion"]["drain_eta_seconds"].get<double>(), 20.0 / 10.0 * 3600.0, 1e-6);

  const json* none = find_target(report, "no_cloudwatch");
  ASSERT_NE(none, nullptr);
  EXPECT_EQ(none->value("status", ""), "ok") << "the scan stands without CloudWatch";
  ASSERT_TRUE((*none)["deletion"].contains("error")) << none->dump(1);
  EXPECT_NE((*none)["deletion"]["error"].get<std::string>().find("network"), std::string::npos);
  EXPECT_FALSE((*none)["deletion"].contains("rate_per_hour"));
}

}  // namespace
