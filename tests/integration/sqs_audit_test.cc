// kind: sqs through the real binary against moto (scripts/servers/moto.sh), which serves SQS and
// CloudWatch: tests/tools/moto_sqs.py creates queues in known states (messages sent, some
// received and so in flight, some sent with a delay) and puts ApproximateAgeOfOldestMessage
// datapoints; the report must give exactly those counts, the newest age datapoint, dlq_depth
// above the threshold only, and a missing queue must fail alone.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/files.h"
#include "support/report_json.h"
#include "support/report_schema.h"
#include "support/require.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ttla::testing::find_anomaly;
using ttla::testing::find_target;
using ttla::testing::has_line;
using ttla::testing::make_temp_dir;
using ttla::testing::read_file;
using ttla::testing::remove_temp_dir;
using ttla::testing::shell;
using ttla::testing::write_file;

constexpr const char* kPython = "/usr/bin/python3";

class SqsAudit : public ::testing::Test {
 protected:
  void SetUp() override {
    TTLA_REQUIRE_ENV(endpoint_, "TTLA_MOTO_ENDPOINT", "start scripts/servers/moto.sh");
    dir_ = make_temp_dir("ttla-sqs");
    suffix_ = std::to_string(getpid()) + "-" + std::to_string(counter_++);
    // CloudWatch datapoints are timestamped; moto keeps them relative to the real clock, so the
    // audit runs at a fixed instant a little in the past.
    as_of_ = static_cast<int64_t>(std::time(nullptr)) / 60 * 60 - 120;
  }
  void TearDown() override {
    remove_temp_dir(dir_);
  }

  std::string queue(const std::string& base) const { return base + "-" + suffix_; }

  json create_queues(const json& queues) {
    write_file(dir_ / "spec.json", json{{"endpoint", endpoint_}, {"queues", queues}}.dump());
    const std::string cmd = std::string(kPython) + " '" + TTLA_SOURCE_DIR +
                            "/tests/tools/moto_sqs.py' < '" + (dir_ / "spec.json").string() +
                            "' > '" + (dir_ / "spec.out").string() + "' 2>&1";
    const int rc = shell(cmd);
    EXPECT_EQ(rc, 0) << read_file(dir_ / "spec.out");
    return json::parse(read_file(dir_ / "spec.out"), nullptr, false);
  }

  int run(const std::string& targets_yaml, json* report, std::string* metrics,
          const std::string& top = "") {
    write_file(dir_ / "config.yaml", "defaults:\n  region: us-east-1\n  endpoint_url: " + endpoint_ +
                                         "\n" + top + "targets:\n" + targets_yaml);
    const std::string cmd =
        std::string("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
                    "AWS_EC2_METADATA_DISABLED=true '") +
        TTLA_BINARY + "' run --config '" + (dir_ / "config.yaml").string() + "' --as-of " +
        std::to_string(as_of_) + " --report '" + (dir_ / "report.json").string() +
        "' --textfile '" + (dir_ / "metrics.prom").string() + "' --fail-on warning > '" +
        (dir_ / "run.log").string() + "' 2>&1";
    const int rc = shell(cmd);
    log_ = read_file(dir_ / "run.log");
    *report = json::parse(read_file(dir_ / "report.json"), nullptr, false);
    *metrics = read_file(dir_ / "metrics.prom");
    return rc;
  }

  std::string endpoint_;
  fs::path dir_;
  std::string suffix_;
  std::string log_;
  int64_t as_of_ = 0;
  static inline int counter_ = 0;
};

TEST_F(SqsAudit, CountsAreExactAgeIsTheNewestDatapointAndDlqDepthFiresAboveTheThresholdOnly) {
  // deep: 60 sent, 7 received (in flight) -> 53 visible, above the default 50; 4 delayed.
  // Three age datapoints: the newest at or before as_of (at as_of - 60) must be reported, not the
  // larger older one nor the one after as_of.
  // shallow: 50 sent -> 50 visible: not above 50. No datapoint: no age, not a zero.
  // by_name: resolved with GetQueueUrl; 3 visible, 2 in flight, 1 delayed.
  const json urls = create_queues(json::array(
      {{{"name", queue("deep")}, {"send", 60}, {"receive", 7}, {"delayed", 4},
        {"ages",
         {{as_of_ - 1200, 5000.0}, {as_of_ - 60, 4321.0}, {as_of_ + 60, 9999.0}}}},
       {{"name", queue("shallow")}, {"send", 50}},
       {{"name", queue("byname")}, {"send", 5}, {"receive", 2}, {"delayed", 1}}}));
  ASSERT_TRUE(urls.contains("urls")) << urls.dump();
  const std::string deep_url = urls["urls"][queue("deep")];

  json report;
  std::string metrics;
  const int rc = run("  - name: deep\n    kind: sqs\n    queue_url: " + deep_url + "\n" +
                         "  - name: shallow\n    kind: sqs\n    queue_url: " +
                         urls["urls"][queue("shallow")].get<std::string>() + "\n" +
                         "  - name: by_name\n    kind: sqs\n    queue: " + queue("byname") + "\n",
                     &report, &metrics);
  ASSERT_FALSE(report.is_discarded()) << log_;
  EXPECT_EQ(rc, 1) << "dlq_depth warns and --fail-on warning exits 1\n" << log_;
  EXPECT_TRUE(ValidatesAgainstReportSchema(report));

  const json* deep = find_target(report, "deep");
  ASSERT_NE(deep, nullptr);
  ASSERT_EQ(deep->value("status", ""), "ok") << deep->dump(1);
  EXPECT_EQ((*deep)["kind"], "sqs");
  const json& s = (*deep)["sqs"];
  EXPECT_EQ(s["messages"]["visible"].get<int>(), 53) << s.dump(1);
  EXPECT_EQ(s["messages"]["in_flight"].get<int>(), 7);
  EXPECT_EQ(s["messages"]["delayed"].get<int>(), 4);
  EXPECT_EQ(s["queue_name"], queue("deep"));
  EXPECT_DOUBLE_EQ(s["oldest_message_age_seconds"].get<double>(), 4321.0) << s.dump(1);
  // What the kind cannot measure is absent, not zero.
  EXPECT_FALSE(deep->contains("expired")) << deep->dump(1);
  EXPECT_FALSE(deep->contains("hygiene"));
  const json* dlq = find_anomaly(*deep, "dlq_depth");
  ASSERT_NE(dlq, nullptr) << deep->dump(1);
  EXPECT_EQ((*dlq)["severity"], "warning");
  EXPECT_DOUBLE_EQ((*dlq)["value"].get<double>(), 53);
  EXPECT_DOUBLE_EQ((*dlq)["threshold"].get<double>(), 50);
  EXPECT_EQ(find_anomaly(*deep, "expired_backlog"), nullptr);

  const json* shallow = find_target(report, "shallow");
  ASSERT_NE(shallow, nullptr);
  EXPECT_EQ(shallow->value("status", ""), "ok") << shallow->dump(1);
  EXPECT_EQ((*shallow)["sqs"]["messages"]["visible"].get<int>(), 50);
  EXPECT_EQ(find_anomaly(*shallow, "dlq_depth"), nullptr) << shallow->dump(1);
  EXPECT_FALSE((*shallow)["sqs"].contains("oldest_message_age_seconds")) << shallow->dump(1);
  EXPECT_TRUE((*shallow)["sqs"]["oldest_message_age"].contains("note"));

  const json* by_name = find_target(report, "by_name");
  ASSERT_NE(by_name, nullptr);
  ASSERT_EQ(by_name->value("status", ""), "ok") << by_name->dump(1);
  EXPECT_EQ((*by_name)["sqs"]["messages"]["visible"].get<int>(), 3);
  EXPECT_EQ((*by_name)["sqs"]["messages"]["in_flight"].get<int>(), 2);
  EXPECT_EQ((*by_name)["sqs"]["messages"]["delayed"].get<int>(), 1);
  EXPECT_NE((*by_name)["sqs"]["queue_url"].get<std::string>().find(queue("byname")),
            std::string::npos);

  EXPECT_TRUE(has_line(metrics, "ttl_auditor_sqs_messages{kind=\"sqs\",state=\"visible\",target=\"deep\"} 53"))
      << metrics;
  EXPECT_TRUE(has_line(metrics, "ttl_auditor_sqs_messages{kind=\"sqs\",state=\"in_flight\",target=\"deep\"} 7"));
  EXPECT_TRUE(has_line(metrics, "ttl_auditor_sqs_messages{kind=\"sqs\",state=\"delayed\",target=\"deep\"} 4"));
  EXPECT_TRUE(has_line(metrics, "ttl_auditor_sqs_oldest_message_age_seconds{kind=\"sqs\",target=\"deep\"} 4321"));
  EXPECT_TRUE(has_line(metrics, "ttl_auditor_anomaly{kind=\"sqs\",rule=\"dlq_depth\",severity=\"warning\",target=\"deep\"} 1"));
  EXPECT_TRUE(has_line(metrics, "ttl_auditor_anomaly{kind=\"sqs\",rule=\"dlq_depth\",severity=\"warning\",target=\"shallow\"} 0"));
  EXPECT_EQ(metrics.find("ttl_auditor_sqs_oldest_message_age_seconds{kind=\"sqs\",target=\"shallow\"}"),
            std::string::npos);
  EXPECT_EQ(metrics.find("ttl_auditor_expired_items{kind=\"sqs\""), std::string::npos) << metrics;
}

TEST_F(SqsAudit, ThresholdIsConfigurableAndCloudWatchOffMeansNoAge) {
  const json urls = create_queues(json::array(
      {{{"name", queue("small")}, {"send", 6}, {"ages", {{as_of_ - 60, 77.0}}}}}));
  ASSERT_TRUE(urls.contains("urls")) << urls.dump();
  const std::string url = urls["urls"][queue("small")];
  json report;
  std::string metrics;
  const int rc = run("  - name: strict\n    kind: sqs\n    queue_url: " + url +
                         "\n    anomalies: {dlq_depth: {warning: 2, critical: 5}}\n" +
                         "  - name: lenient\n    kind: sqs\n    cloudwatch: false\n    queue_url: " +
                         url + "\n    anomalies: {dlq_depth: {warning: 6}}\n",
                     &report, &metrics);
  ASSERT_FALSE(report.is_discarded()) << log_;
  EXPECT_EQ(rc, 1) << log_;
  const json* strict = find_target(report, "strict");
  ASSERT_NE(strict, nullptr);
  const json* dlq = find_anomaly(*strict, "dlq_depth");
  ASSERT_NE(dlq, nullptr) << strict->dump(1);
  EXPECT_EQ((*dlq)["severity"], "critical");
  EXPECT_DOUBLE_EQ((*dlq)["threshold"].get<double>(), 5);
  EXPECT_DOUBLE_EQ((*strict)["sqs"]["oldest_message_age_seconds"].get<double>(), 77.0);

  const json* lenient = find_target(report, "lenient");
  ASSERT_NE(lenient, nullptr);
  EXPECT_EQ(find_anomaly(*lenient, "dlq_depth"), nullptr) << lenient->dump(1);  // 6 is not above 6
  EXPECT_FALSE((*lenient)["sqs"].contains("oldest_message_age_seconds"));
  EXPECT_FALSE((*lenient)["sqs"].contains("oldest_message_age"));
}

TEST_F(SqsAudit, MissingQueueFailsItsTargetWithTheReasonAndTheOthersAreStillAudited) {
  const json urls = create_queues(json::array({{{"name", queue("present")}, {"send", 2}}}));
  ASSERT_TRUE(urls.contains("urls")) << urls.dump();
  const std::string url = urls["urls"][queue("present")];
  const std::string missing_url = url.substr(0, url.rfind('/') + 1) + queue("absent");
  json report;
  std::string metrics;
  const int rc = run("  - name: gone\n    kind: sqs\n    queue_url: " + missing_url + "\n" +
                         "  - name: gone_by_name\n    kind: sqs\n    queue: " + queue("absent") + "\n" +
                         "  - name: present\n    kind: sqs\n    queue_url: " + url + "\n",
                     &report, &metrics);
  ASSERT_FALSE(report.is_discarded()) << log_;
  EXPECT_EQ(rc, 3) << "a failed target exits 3\n" << log_;
  EXPECT_TRUE(ValidatesAgainstReportSchema(report));
  for (const char* name : {"gone", "gone_by_name"}) {
    const json* gone = find_target(report, name);
    ASSERT_NE(gone, nullptr);
    EXPECT_EQ(gone->value("status", ""), "failed") << gone->dump(1);
    EXPECT_NE((*gone)["error"].get<std::string>().find("does not exist"), std::string::npos)
        << gone->dump(1);
    EXPECT_FALSE(gone->contains("expired")) << gone->dump(1);
    EXPECT_NE(find_anomaly(*gone, "target_failed"), nullptr);
    EXPECT_TRUE(has_line(metrics, std::string("ttl_auditor_target_success{kind=\"sqs\",target=\"") +
                                      name + "\"} 0"))
        << metrics;
  }
  const json* present = find_target(report, "present");
  ASSERT_NE(present, nullptr);
  EXPECT_EQ(present->value("status", ""), "ok") << present->dump(1);
  EXPECT_EQ((*present)["sqs"]["messages"]["visible"].get<int>(), 2);
  EXPECT_EQ(metrics.find("ttl_auditor_sqs_messages{kind=\"sqs\",state=\"visible\",target=\"gone\"}"),
            std::string::npos);
}

// Preflight on queues: `check-config --online` reads the queue's attributes (a missing queue is
// "not ready", exit 3) and `run --plan` says a queue is not scanned, with today's depth.
TEST_F(SqsAudit, OnlineCheckAndPlanReadOnlyTheAttributes) {
  const json urls = create_queues(json::array({{{"name", queue("ready")}, {"send", 3}}}));
  ASSERT_TRUE(urls.contains("urls")) << urls.dump();
  const std::string url = urls["urls"][queue("ready")];
  const std::string missing_url = url.substr(0, url.rfind('/') + 1) + queue("nowhere");
  write_file(dir_ / "config.yaml", "defaults:\n  region: us-east-1\n  endpoint_url: " + endpoint_ +
                                       "\ntargets:\n  - name: ready\n    kind: sqs\n    cloudwatch: false\n"
                                       "    queue_url: " + url + "\n  - name: nowhere\n    kind: sqs\n"
                                       "    queue_url: " + missing_url + "\n");
  auto cli = [&](const std::string& args, std::string* out) {
    const int rc = shell(std::string("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
                                     "AWS_EC2_METADATA_DISABLED=true '") +
                         TTLA_BINARY + "' " + args + " --config '" + (dir_ / "config.yaml").string() + "' > '" +
                         (dir_ / "cli.log").string() + "' 2>&1");
    *out = read_file(dir_ / "cli.log");
    return rc;
  };
  std::string out;
  EXPECT_EQ(cli("check-config --online", &out), 3) << out;
  EXPECT_NE(out.find("ready (sqs): ok: queue readable: 3 visible, 0 in flight, 0 delayed"), std::string::npos) << out;
  EXPECT_NE(out.find("nowhere (sqs): error:"), std::string::npos) << out;
  EXPECT_NE(out.find("does not exist"), std::string::npos) << out;

  EXPECT_EQ(cli("run --plan --target ready", &out), 0) << out;
  EXPECT_NE(out.find("ready (sqs): items=unknown"), std::string::npos) << out;
  EXPECT_NE(out.find("no message is read (now 3 visible, 0 in flight, 0 delayed)"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "report.json"));
}

}  // namespace
