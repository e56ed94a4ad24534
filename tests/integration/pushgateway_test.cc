// The Pushgateway sink against a real prometheus-pushgateway: a failed run must leave the last
// success timestamp of the previous successful run in place (DOMAIN-FACTS, batch jobs).
// Needs TTLA_PUSHGATEWAY_URL: start servers with scripts/servers/prometheus.sh.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include "sinks/pushgateway_sink.h"
#include "sinks/sinks.h"
#include "unit/sinks/sinks_test_report.h"
#include "support/require.h"

namespace ttla {
namespace {

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::pair<long, std::string> request(const std::string& method, const std::string& url) {
  std::string body;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 5000L);
  long status = 0;
  if (curl_easy_perform(curl.get()) == CURLE_OK) {
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  }
  return {status, body};
}

// Value of `metric` whose label set contains target="<target>" in the gateway's exposition.
std::optional<double> value_of(const std::string& text, const std::string& metric,
                               const std::string& target) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(metric + "{", 0) != 0) continue;
    if (line.find("target=\"" + target + "\"") == std::string::npos) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::nullopt;
}

std::optional<double> run_level(const std::string& text, const std::string& metric) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(metric + "{", 0) != 0 || line.find("target=") != std::string::npos) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::nullopt;
}

class PushgatewayLive : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("TTLA_PUSHGATEWAY_URL");
    if (url == nullptr || *url == '\0') {
      TTLA_SKIP_OR_FAIL("TTLA_PUSHGATEWAY_URL not set: start servers with "
                      "scripts/servers/prometheus.sh");
    }
    url_ = url;
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    // Unique names so parallel test runs on one gateway do not see each other's groups.
    suffix_ = std::to_string(::getpid());
  }
  void TearDown() override {
    for (const auto& t : targets_) {
      request("DELETE", url_ + "/metrics/job/" + kPushgatewayJob + "/target/" + t);
    }
  }

  Report report_for(const std::string& name, Status status, double finished_at) {
    auto full = testing::crafted_report();
    Report r;
    r.run = full.run;
    r.run.finished_at = finished_at;
    r.run.started_at = finished_at - 5;
    TargetReport t = full.targets[0];  // the DynamoDB target with findings
    t.name = name;
    t.status = status;
    if (status == Status::kFailed) {
      t.error = "ThrottlingException: rate exceeded";
      t.anomalies = {{"target_failed", "critical", "target failed", 0, 0}};
    }
    r.targets.push_back(t);
    targets_.push_back(name);
    return r;
  }

  std::string url_;
  std::string suffix_;
  std::vector<std::string> targets_;
};

TEST_F(PushgatewayLive, FailedRunKeepsLastSuccess) {
  std::string target = "pgtest_" + suffix_;
  SinkOptions o;
  o.pushgateway_url = url_;

  auto ok = report_for(target, Status::kOk, 1795000100);
  auto errors = publish(ok, o);
  ASSERT_TRUE(errors.empty()) << errors.front();
  auto [s1, after_ok] = request("GET", url_ + "/metrics");
  ASSERT_EQ(s1, 200);
  EXPECT_EQ(value_of(after_ok, "ttl_auditor_last_success_timestamp_seconds", target), 1795000100);
  EXPECT_EQ(value_of(after_ok, "ttl_auditor_target_success", target), 1);
  EXPECT_EQ(value_of(after_ok, "ttl_auditor_expired_items", target), 3);

  auto failed = report_for(target, Status::kFailed, 1795003700);
  errors = publish(failed, o);
  ASSERT_TRUE(errors.empty()) << errors.front();
  auto [s2, after_fail] = request("GET", url_ + "/metrics");
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(value_of(after_fail, "ttl_auditor_target_success", target), 0) << after_fail;
  EXPECT_EQ(value_of(after_fail, "ttl_auditor_last_success_timestamp_seconds", target), 1795000100)
      << "the failed run must not move or drop the success timestamp";
  EXPECT_EQ(run_level(after_fail, "ttl_auditor_last_run_timestamp_seconds"), 1795003700);
  // The anomaly family was replaced by the failed push: target_failed fires, the old data
  // rules are gone rather than stale.
  std::regex failed_rule("ttl_auditor_anomaly\\{[^}]*rule=\"target_failed\"[^}]*target=\"" +
                         target + "\"[^}]*\\} 1");
  EXPECT_TRUE(std::regex_search(after_fail, failed_rule)) << after_fail;

  // A later success replaces the whole group again and advances the timestamp.
  auto ok2 = report_for(target, Status::kOk, 1795007300);
  ASSERT_TRUE(publish(ok2, o).empty());
  auto [s3, after_ok2] = request("GET", url_ + "/metrics");
  EXPECT_EQ(value_of(after_ok2, "ttl_auditor_last_success_timestamp_seconds", target), 1795007300);
  EXPECT_EQ(value_of(after_ok2, "ttl_auditor_target_success", target), 1);
}

TEST_F(PushgatewayLive, TargetsAreSeparateGroups) {
  std::string a = "pgtest_a_" + suffix_, b = "pgtest_b_" + suffix_;
  SinkOptions o;
  o.pushgateway_url = url_;
  ASSERT_TRUE(publish(report_for(a, Status::kOk, 1795000100), o).empty());
  // A run auditing only b must not remove a's series (PUT replaces only b's group).
  ASSERT_TRUE(publish(report_for(b, Status::kOk, 1795000200), o).empty());
  auto [status, text] = request("GET", url_ + "/metrics");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(value_of(text, "ttl_auditor_last_success_timestamp_seconds", a), 1795000100);
  EXPECT_EQ(value_of(text, "ttl_auditor_last_success_timestamp_seconds", b), 1795000200);
}

// A table discovered by `tables:` is target `parent/table`: its group goes as target@base64 and
// comes back as the same `target` label, separate from its siblings.
TEST_F(PushgatewayLive, DiscoveredTableNamesWithASlashPushAsTheirOwnGroup) {
  std::string a = "pgfleet_" + suffix_ + "/Sessions", b = "pgfleet_" + suffix_ + "/Uploads.v2";
  SinkOptions o;
  o.pushgateway_url = url_;
  auto errors = publish(report_for(a, Status::kOk, 1795000100), o);
  ASSERT_TRUE(errors.empty()) << errors.front();
  errors = publish(report_for(b, Status::kOk, 1795000200), o);
  ASSERT_TRUE(errors.empty()) << errors.front();
  auto [status, text] = request("GET", url_ + "/metrics");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(value_of(text, "ttl_auditor_last_success_timestamp_seconds", a), 1795000100) << text.substr(0, 3000);
  EXPECT_EQ(value_of(text, "ttl_auditor_last_success_timestamp_seconds", b), 1795000200);
}

}  // namespace
}  // namespace ttla
