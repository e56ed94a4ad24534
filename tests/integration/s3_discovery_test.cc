// kind s3 with `buckets:`: ListBuckets on moto, include/exclude globs, one target per bucket
// named <name>/<bucket>, each audited against its own lifecycle rules. Buckets are created by
// tests/tools/s3_buckets.py (the test writes; the auditor only reads).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/files.h"
#include "support/report_schema.h"
#include "support/require.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ttla::testing::make_temp_dir;
using ttla::testing::read_file;
using ttla::testing::remove_temp_dir;
using ttla::testing::shell;

constexpr const char* kPython = "/usr/bin/python3";

class S3Discovery : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* e = std::getenv("TTLA_MOTO_ENDPOINT");
    if (e == nullptr || *e == '\0') return;
    endpoint_ = e;
    prefix_ = "s3disc" + std::to_string(getpid()) + "-";
    dir_ = make_temp_dir("ttla-s3-discovery");
    const json keys = {"logs/a", "logs/b", "logs/c", "other/d"};
    json buckets = json::array({
        {{"name", prefix_ + "logs-a"}, {"lifecycle_days", 1}, {"keys", keys}},
        {{"name", prefix_ + "logs-b"}, {"lifecycle_days", 1}, {"keys", keys}},
        {{"name", prefix_ + "logs-c"}, {"lifecycle_days", 3}, {"keys", {"logs/x", "top"}}},
        {{"name", prefix_ + "tmp-d"}, {"keys", keys}},  // no lifecycle at all
        {{"name", prefix_ + "keep-e"}, {"lifecycle_days", 1}, {"keys", keys}},
    });
    std::ofstream(dir_ / "spec.json") << json({{"endpoint", endpoint_}, {"buckets", buckets}}).dump();
    const std::string cmd = std::string(kPython) + " '" + TTLA_SOURCE_DIR +
                            "/tests/tools/s3_buckets.py' < '" + (dir_ / "spec.json").string() +
                            "' > '" + (dir_ / "spec.out").string() + "' 2>&1";
    if (shell(cmd) != 0) {
      setup_error_ = read_file(dir_ / "spec.out");
      return;
    }
    // Ten days after the uploads every lifecycle deadline (1 or 3 days) has passed.
    as_of_ = json::parse(read_file(dir_ / "spec.out"))["now"].get<int64_t>() + 10 * 86400;
  }
  static void TearDownTestSuite() {
    remove_temp_dir(dir_);
  }
  void SetUp() override {
    if (endpoint_.empty()) TTLA_SKIP_OR_FAIL("TTLA_MOTO_ENDPOINT not set: start scripts/servers/moto.sh");
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  }

  static std::string config(const std::string& selector, const std::string& endpoint) {
    return "targets:\n  - name: fleet\n    kind: s3\n    region: us-east-1\n    endpoint_url: " +
           endpoint + "\n    buckets: " + selector + "\n";
  }

  static int run(const std::string& tag, const std::string& yaml, const std::string& args,
                 json* report) {
    std::ofstream(dir_ / (tag + ".yaml")) << yaml;
    const std::string cmd = std::string("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
                                        "AWS_EC2_METADATA_DISABLED=true '") +
                            TTLA_BINARY + "' run --config '" + (dir_ / (tag + ".yaml")).string() +
                            "' --as-of " + std::to_string(as_of_) + " --fail-on never --report '" +
                            (dir_ / (tag + ".json")).string() + "' " + args + " > '" +
                            (dir_ / (tag + ".log")).string() + "' 2>&1";
    const int rc = shell(cmd);
    *report = json::parse(read_file(dir_ / (tag + ".json")), nullptr, false);
    return rc;
  }

  static const json* find(const json& report, const std::string& name) {
    for (const auto& t : report["targets"]) {
      if (t.value("name", "") == name) return &t;
    }
    return nullptr;
  }

  static bool has_anomaly(const json& t, const std::string& rule) {
    for (const auto& a : t.value("anomalies", json::array())) {
      if (a.value("rule", "") == rule) return true;
    }
    return false;
  }

  static inline std::string endpoint_, prefix_, setup_error_;
  static inline fs::path dir_;
  static inline int64_t as_of_ = 0;
};

TEST_F(S3Discovery, IncludedBucketsBecomeTargetsAuditedByTheirOwnRules) {
  json report;
  const std::string selector = "{include: [\"" + prefix_ + "logs-*\", \"" + prefix_ +
                               "tmp-*\"], exclude: [\"*-b\"]}";
  ASSERT_EQ(run("include", config(selector, endpoint_), "", &report), 0)
      << read_file(dir_ / "include.log");
  EXPECT_TRUE(ValidatesAgainstReportSchema(report));
  std::vector<std::string> names;
  for (const auto& t : report["targets"]) names.push_back(t.value("name", ""));
  const std::vector<std::string> expected = {"fleet/" + prefix_ + "logs-a", "fleet/" + prefix_ + "logs-c",
                                             "fleet/" + prefix_ + "tmp-d"};
  EXPECT_EQ(names, expected) << report.dump().substr(0, 800);

  // logs-a: the rule covers logs/ only: 3 of its 4 objects expired.
  const json* a = find(report, "fleet/" + prefix_ + "logs-a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ((*a)["status"], "ok") << a->dump();
  EXPECT_EQ((*a)["kind"], "s3");
  EXPECT_EQ((*a)["expired"]["count"], 3) << a->dump();
  EXPECT_FALSE(has_anomaly(*a, "lifecycle_missing"));
  // logs-c: 3-day rule on logs/x; "top" is outside every rule.
  const json* c = find(report, "fleet/" + prefix_ + "logs-c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["expired"]["count"], 1) << c->dump();
  // tmp-d has no lifecycle: nothing expires, and that is the finding.
  const json* d = find(report, "fleet/" + prefix_ + "tmp-d");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ((*d)["expired"]["count"], 0);
  EXPECT_TRUE(has_anomaly(*d, "lifecycle_missing")) << d->dump();
}

TEST_F(S3Discovery, TargetSelectsOneBucketAndAllListsEvery) {
  json report;
  ASSERT_EQ(run("one", config("all", endpoint_), "--target 'fleet/" + prefix_ + "keep-e'", &report), 0)
      << read_file(dir_ / "one.log");
  ASSERT_EQ(report["targets"].size(), 1u) << report.dump().substr(0, 600);
  EXPECT_EQ(report["targets"][0]["name"], "fleet/" + prefix_ + "keep-e");
  EXPECT_EQ(report["targets"][0]["expired"]["count"], 3);
}

// ListBuckets failing (nothing listens) fails the parent target under its own name; the run
// goes on and says so (exit 3).
TEST_F(S3Discovery, UnreachableListBucketsFailsTheParent) {
  json report;
  EXPECT_EQ(run("down", config("all", "http://127.0.0.1:9"), "", &report), 3)
      << read_file(dir_ / "down.log");
  ASSERT_EQ(report["targets"].size(), 1u);
  EXPECT_EQ(report["targets"][0]["name"], "fleet");
  EXPECT_EQ(report["targets"][0]["status"], "failed");
  EXPECT_NE(report["targets"][0].value("error", "").find("discovery"), std::string::npos);
}

}  // namespace
