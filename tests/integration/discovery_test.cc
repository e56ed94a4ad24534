// kind: dynamodb with `tables:` — discovery over ListTables (paged) on moto, include/exclude
// globs, one target `<name>/<table>` per table, sampled by default, TTL-disabled tables reported
// with ttl_disabled, `--target parent/table`, history per discovered table. Tables are created by
// tests/tools/moto_ttl_tables.py: ten `app-NN` tables with NN+1 expired and 3 live items each
// (app-05 without TTL), one `app-tmp` (excluded), one `other` (not included) and 95 fillers that
// push ListTables past one 100-name page.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

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

constexpr int64_t kAsOf = 1'796'019'200;  // 2026-11-30T06:13:20Z
constexpr const char* kPython = "/usr/bin/python3";
constexpr int kApps = 10;
constexpr int kDisabled = 5;

std::string two_digits(int i) { return (i < 10 ? "0" : "") + std::to_string(i); }

class Discovery : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* e = std::getenv("TTLA_MOTO_ENDPOINT");
    if (e == nullptr || *e == '\0') return;
    endpoint_ = e;
    prefix_ = "disc" + std::to_string(getpid()) + "-";
    dir_ = make_temp_dir("ttla-discovery");
    json tables = json::array();
    for (int i = 0; i < kApps; ++i) {
      std::vector<int64_t> ttl;
      for (int k = 0; k <= i; ++k) ttl.push_back(kAsOf - 3600 * (k + 1));
      for (int k = 0; k < 3; ++k) ttl.push_back(kAsOf + 86400);
      tables.push_back({{"name", prefix_ + "app-" + two_digits(i)}, {"items", ttl},
                        {"ttl", i != kDisabled}});
    }
    tables.push_back({{"name", prefix_ + "app-tmp"}, {"items", {kAsOf - 60}}});
    tables.push_back({{"name", prefix_ + "other"}, {"items", {kAsOf - 60}}});
    for (int i = 0; i < 95; ++i) tables.push_back({{"name", prefix_ + "zz-" + two_digits(i)}});
    std::ofstream(dir_ / "spec.json") << json({{"endpoint", endpoint_}, {"tables", tables}}).dump();
    const std::string cmd = std::string(kPython) + " '" + TTLA_SOURCE_DIR +
                            "/tests/tools/moto_ttl_tables.py' < '" + (dir_ / "spec.json").string() +
                            "' > '" + (dir_ / "spec.out").string() + "' 2>&1";
    if (shell(cmd) != 0) setup_error_ = read_file(dir_ / "spec.out");
  }
  static void TearDownTestSuite() {
    remove_temp_dir(dir_);
  }
  void SetUp() override {
    if (endpoint_.empty()) TTLA_SKIP_OR_FAIL("TTLA_MOTO_ENDPOINT not set: start scripts/servers/moto.sh");
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  }

  // Runs `ttl-auditor run` with the `fleet` target; returns the exit code.
  static int run(const std::string& tag, const std::string& extra_yaml,
                 const std::vector<std::string>& args, json* report) {
    const std::string yaml = "state_dir: " + (dir_ / "state").string() +
                             "\ntargets:\n  - name: fleet\n    kind: dynamodb\n"
                             "    region: us-east-1\n    endpoint_url: " + endpoint_ +
                             "\n    tables: {include: [\"" + prefix_ + "app-*\"], exclude: [\"*-tmp\"]}\n" +
                             extra_yaml;
    std::ofstream(dir_ / (tag + ".yaml")) << yaml;
    std::string cmd = std::string("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
                                  "AWS_EC2_METADATA_DISABLED=true '") +
                      TTLA_BINARY + "' run --config '" + (dir_ / (tag + ".yaml")).string() +
                      "' --as-of " + std::to_string(kAsOf) + " --record-history --seed 11 --fail-on never --report '" +
                      (dir_ / (tag + ".json")).string() + "' --textfile '" +
                      (dir_ / (tag + ".prom")).string() + "'";
    for (const auto& a : args) cmd += " '" + a + "'";
    cmd += " > '" + (dir_ / (tag + ".log")).string() + "' 2>&1";
    const int rc = shell(cmd);
    *report = json::parse(read_file(dir_ / (tag + ".json")), nullptr, false);
    return rc;
  }

  static std::string endpoint_, prefix_, setup_error_;
  static fs::path dir_;
};

std::string Discovery::endpoint_, Discovery::prefix_, Discovery::setup_error_;
fs::path Discovery::dir_;

TEST_F(Discovery, EveryIncludedTableIsItsOwnTargetSampledByDefault) {
  json report;
  ASSERT_EQ(run("sampled", "", {}, &report), 0) << read_file(dir_ / "sampled.log");
  ASSERT_FALSE(report.is_discarded());
  EXPECT_TRUE(ValidatesAgainstReportSchema(report));
  std::set<std::string> names;
  for (const auto& t : report["targets"]) names.insert(t["name"].get<std::string>());
  std::set<std::string> want;
  for (int i = 0; i < kApps; ++i) want.insert("fleet/" + prefix_ + "app-" + two_digits(i));
  EXPECT_EQ(names, want) << "app-tmp is excluded, other and the fillers are not included";
  for (const auto& t : report["targets"]) {
    SCOPED_TRACE(t["name"].get<std::string>());
    EXPECT_EQ(t["status"], "ok") << t.dump(1).substr(0, 1500);
    EXPECT_EQ(t["kind"], "dynamodb");
    const bool disabled = t["name"] == "fleet/" + prefix_ + "app-" + two_digits(kDisabled);
    bool ttl_disabled = false;
    for (const auto& a : t["anomalies"]) ttl_disabled |= a["rule"] == "ttl_disabled";
    EXPECT_EQ(ttl_disabled, disabled);
    if (disabled) {
      EXPECT_EQ(t["table_metrics"]["ttl_status"], "DISABLED");
      EXPECT_EQ(t["scan"]["items_scanned"].get<int>(), 0);
    } else {
      EXPECT_EQ(t["scan"]["mode"], "sample") << "discovered tables are sampled by default";
      EXPECT_TRUE(t.contains("deletion")) << "CloudWatch from moto";
    }
  }
  // The ListTables pages: the log counts every name listed (more than one 100-name page).
  const std::string log = read_file(dir_ / "sampled.log");
  const size_t at = log.find("dynamodb tables discovered");
  ASSERT_NE(at, std::string::npos) << log.substr(0, 2000);
  const size_t listed_at = log.find("listed=", at);
  ASSERT_NE(listed_at, std::string::npos);
  EXPECT_GT(std::stoi(log.substr(listed_at + 7)), 100) << "paged past the first page";
  EXPECT_NE(log.find("matched=10", at), std::string::npos);
  // Metrics carry the discovered name as the `target` label.
  const std::string prom = read_file(dir_ / "sampled.prom");
  EXPECT_NE(prom.find("ttl_auditor_target_success{kind=\"dynamodb\",target=\"fleet/" + prefix_ +
                      "app-03\"} 1"),
            std::string::npos);
}

TEST_F(Discovery, FullScanCountsEachTableExactlyAndTargetSelectsOneTable) {
  json report;
  ASSERT_EQ(run("full", "    sample: 1\n", {}, &report), 0)
      << read_file(dir_ / "full.log");
  ASSERT_EQ(report["targets"].size(), static_cast<size_t>(kApps));
  for (int i = 0; i < kApps; ++i) {
    if (i == kDisabled) continue;
    const std::string name = "fleet/" + prefix_ + "app-" + two_digits(i);
    const json* t = nullptr;
    for (const auto& x : report["targets"]) {
      if (x["name"] == name) t = &x;
    }
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ((*t)["scan"]["mode"], "full");
    EXPECT_EQ((*t)["expired"]["count"].get<int>(), i + 1) << name;
    EXPECT_EQ((*t)["hygiene"]["not_yet_expired"].get<int>(), 3) << name;
    // History is kept per discovered table.
    EXPECT_TRUE(fs::exists(dir_ / "state" / ("fleet%2F" + prefix_ + "app-" + two_digits(i) + ".jsonl")))
        << name;
  }

  json one;
  const std::string pick = "fleet/" + prefix_ + "app-07";
  ASSERT_EQ(run("one", "    sample: 1\n", {"--target", pick}, &one), 0) << read_file(dir_ / "one.log");
  ASSERT_EQ(one["targets"].size(), 1u);
  EXPECT_EQ(one["targets"][0]["name"], pick);
  EXPECT_EQ(one["targets"][0]["expired"]["count"].get<int>(), 8);
}

TEST_F(Discovery, UnreachableListTablesFailsTheParentTarget) {
  json report;
  const std::string yaml = "targets:\n  - name: fleet\n    kind: dynamodb\n    region: us-east-1\n"
                           "    endpoint_url: http://127.0.0.1:9\n    tables: all\n";
  std::ofstream(dir_ / "dead.yaml") << yaml;
  const int rc = shell(std::string("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing '") +
                       TTLA_BINARY + "' run --config '" + (dir_ / "dead.yaml").string() +
                       "' --report '" + (dir_ / "dead.json").string() + "' > '" +
                       (dir_ / "dead.log").string() + "' 2>&1");
  EXPECT_EQ(rc, 3) << read_file(dir_ / "dead.log");
  report = json::parse(read_file(dir_ / "dead.json"), nullptr, false);
  ASSERT_FALSE(report.is_discarded());
  ASSERT_EQ(report["targets"].size(), 1u);
  EXPECT_EQ(report["targets"][0]["name"], "fleet");
  EXPECT_EQ(report["targets"][0]["status"], "failed");
  EXPECT_NE(report["targets"][0]["error"].get<std::string>().find("discovery"), std::string::npos);
}

}  // namespace
