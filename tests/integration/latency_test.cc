// Deletion latency without writing: black-box runs of the real binary against moto, stepping
// --as-of hour by hour with --record-history. Between runs the test itself deletes the items
// whose (known) latency has elapsed, as a TTL process would; the auditor only reads. The true
// latency distribution is uniform on [1h, 4h] (every item is still there at the first run, so
// none escapes observation), and the estimate must bracket its quantiles within the run spacing.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
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
using ttla::testing::write_file;

constexpr int64_t kT1 = 1'796'019'200;  // 2026-11-30T06:13:20Z
constexpr int64_t kHour = 3600;
constexpr int kItems = 240;
constexpr const char* kPython = "/usr/bin/python3";

// Item i: deadline spread over the 50 minutes before T1; latencies 1h + 3h * (j + 0.5) / n with j
// a permutation of i, so that the latency does not depend on where the deadline falls between
// two runs (the estimator assumes the run times say nothing about the latency).
int64_t deadline(int i) { return kT1 - 3000 + (i * 2940) / kItems; }
double latency(int i) { return kHour + 3.0 * kHour * ((i * 97) % kItems + 0.5) / kItems; }
// Quantile of the true (empirical) latency distribution: nearest rank.
double true_quantile(double p) {
  std::vector<double> v;
  for (int i = 0; i < kItems; ++i) v.push_back(latency(i));
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(p * kItems));
  return v[rank - 1];
}

class Latency : public ::testing::Test {
 protected:
  void SetUp() override {
    TTLA_REQUIRE_ENV(endpoint_, "TTLA_MOTO_ENDPOINT", "start scripts/servers/moto.sh");
    dir_ = make_temp_dir("ttla-latency");
    fs::create_directories(dir_ / "state");
    table_ = "latency-" + std::to_string(getpid()) + "-" + std::to_string(counter_++);
  }
  void TearDown() override {
    remove_temp_dir(dir_);
  }

  void tool(const json& spec) {
    write_file(dir_ / "spec.json", spec.dump());
    const std::string cmd = std::string(kPython) + " '" + TTLA_SOURCE_DIR +
                            "/tests/tools/moto_ttl_tables.py' < '" + (dir_ / "spec.json").string() +
                            "' > '" + (dir_ / "spec.out").string() + "' 2>&1";
    ASSERT_EQ(shell(cmd), 0) << read_file(dir_ / "spec.out");
  }

  void create_table() {
    json items = json::array();
    for (int i = 0; i < kItems; ++i) items.push_back(deadline(i));
    // Plus a few items expiring tomorrow (not tracked: not expired).
    for (int i = 0; i < 5; ++i) items.push_back(kT1 + 86400 + i);
    tool({{"endpoint", endpoint_}, {"tables", {{{"name", table_}, {"items", items}}}}});
  }

  // What the TTL process has deleted by `t` (and not before `since`).
  void delete_due(int64_t since, int64_t t) {
    json keys = json::array();
    for (int i = 0; i < kItems; ++i) {
      const double gone = static_cast<double>(deadline(i)) + latency(i);
      if (gone > static_cast<double>(since) && gone <= static_cast<double>(t)) {
        keys.push_back("k" + std::to_string(i));
      }
    }
    if (keys.empty()) return;
    tool({{"endpoint", endpoint_}, {"delete", {{"table", table_}, {"keys", keys}}}});
  }

  // One `run` at `as_of`; `endpoint` defaults to moto.
  int run(int64_t as_of, const std::string& extra, json* report, std::string* metrics = nullptr,
          const std::string& endpoint = "") {
    const std::string yaml = "state_dir: " + (dir_ / "state").string() +
                             "\ndefaults:\n  region: us-east-1\n  endpoint_url: " +
                             (endpoint.empty() ? endpoint_ : endpoint) +
                             "\ntargets:\n  - name: sessions\n    kind: dynamodb\n    table: " +
                             table_ + "\n    cloudwatch: false\n" + extra;
    write_file(dir_ / "config.yaml", yaml);
    const std::string cmd =
        std::string("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
                    "AWS_EC2_METADATA_DISABLED=true '") +
        TTLA_BINARY + "' run --config '" + (dir_ / "config.yaml").string() + "' --as-of " +
        std::to_string(as_of) + " --record-history --report '" + (dir_ / "report.json").string() +
        "' --textfile '" + (dir_ / "metrics.prom").string() + "' --log-format json > '" +
        (dir_ / "run.log").string() + "' 2>&1";
    const int rc = shell(cmd);
    log_ = read_file(dir_ / "run.log");
    *report = json::parse(read_file(dir_ / "report.json"), nullptr, false);
    if (metrics != nullptr) *metrics = read_file(dir_ / "metrics.prom");
    return rc;
  }

  static const json& deletion(const json& report) { return report["targets"][0]["deletion"]; }

  // Runs at T1 .. T1 + 5h, the TTL process deleting between them; returns the last report.
  json run_series(const std::string& extra, std::string* metrics) {
    create_table();
    json report;
    int64_t previous = 0;
    for (int k = 0; k <= 5; ++k) {
      const int64_t t = kT1 + k * kHour;
      delete_due(previous, t);
      previous = t;
      EXPECT_EQ(run(t, extra, &report, metrics), 0) << log_;
      EXPECT_TRUE(ValidatesAgainstReportSchema(report));
      if (k == 0) {
        // First run: everything is tracked, nothing is known yet, and no zeros are invented.
        const json& d = deletion(report);
        EXPECT_EQ(d.value("latency_source", ""), "snapshots") << d.dump();
        EXPECT_EQ(d.value("latency_tracked", 0), kItems) << d.dump();
        EXPECT_EQ(d.value("latency_observations", -1), 0);
        EXPECT_FALSE(d.contains("latency_seconds_quantiles"));
      }
    }
    return report;
  }

  std::string endpoint_;
  fs::path dir_;
  std::string table_;
  std::string log_;
  static inline int counter_ = 0;
};

void expect_brackets_truth(const json& d) {
  ASSERT_TRUE(d.contains("latency_seconds_quantiles")) << d.dump();
  EXPECT_EQ(d["latency_resolution_seconds"].get<double>(), kHour);
  for (const auto& [name, p] : {std::pair<const char*, double>{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}}) {
    const double truth = true_quantile(p);
    const json& b = d["latency_seconds_brackets"][name];
    ASSERT_TRUE(b.is_array() && b[1].is_number()) << name << " " << d.dump();
    // The estimate's interval is within one run spacing (the stated resolution) of the truth...
    EXPECT_LE(b[0].get<double>(), truth + kHour) << name << " truth " << truth << " " << b.dump();
    EXPECT_GE(b[1].get<double>(), truth - kHour) << name << " truth " << truth << " " << b.dump();
    // ...and so is the reported value.
    EXPECT_NEAR(d["latency_seconds_quantiles"][name].get<double>(), truth, kHour) << name;
    std::printf("%s truth %.0f estimate %.0f bracket %s\n", name, truth,
                d["latency_seconds_quantiles"][name].get<double>(), b.dump().c_str());
  }
}

TEST_F(Latency, SnapshotsBracketTheTrueLatency) {
  std::string metrics;
  const json report = run_series("", &metrics);
  const json& d = deletion(report);
  // Every item was deleted by T1 + 4h 10m: 240 deletions seen, none left to track.
  EXPECT_EQ(d.value("latency_observations", 0), kItems) << d.dump();
  expect_brackets_truth(d);
  // The metric carries the same numbers, one series per quantile.
  for (const auto& [name, q] : {std::pair<const char*, const char*>{"p50", "0.5"}, {"p90", "0.9"}, {"p99", "0.99"}}) {
    std::ostringstream line;
    line << "ttl_auditor_deletion_latency_seconds{kind=\"dynamodb\",target=\"sessions\",quantile=\""
         << q << "\"} " << d["latency_seconds_quantiles"][name].get<double>();
    EXPECT_NE(metrics.find(line.str()), std::string::npos) << line.str() << "\n" << metrics;
  }
  if (shell("command -v promtool >/dev/null 2>&1") == 0) {
    EXPECT_EQ(shell("promtool check metrics < '" + (dir_ / "metrics.prom").string() + "' > '" +
                    (dir_ / "promtool.out").string() + "' 2>&1"),
              0)
        << read_file(dir_ / "promtool.out");
  }
  // The state holds keys to look up (not redacted) and no item any more.
  const json state = json::parse(read_file(dir_ / "state/latency/sessions.json"));
  EXPECT_TRUE(state["tracked"].empty());
  EXPECT_EQ(state["observations"].size(), static_cast<size_t>(kItems));
}

// redact_keys: the state keeps hashes only, presence comes from the full scan's expired set, and
// the estimate is the same.
TEST_F(Latency, RedactedKeysTrackByHashWithTheSameEstimate) {
  const json report = run_series("    redact_keys: true\n", nullptr);
  expect_brackets_truth(deletion(report));
  const std::string state = read_file(dir_ / "state/latency/sessions.json");
  EXPECT_EQ(state.find("\"key\""), std::string::npos) << state.substr(0, 400);
  EXPECT_EQ(state.find("k1"), std::string::npos);
}

// redact_keys with a sampled scan cannot tell deleted from unscanned: latency_error, and the
// state is left for the next complete scan, which sees the deletions.
TEST_F(Latency, RedactedKeysNeedACompleteScan) {
  create_table();
  json r;
  ASSERT_EQ(run(kT1, "    redact_keys: true\n", &r), 0) << log_;
  delete_due(0, kT1 + 2 * kHour);
  EXPECT_EQ(run(kT1 + 2 * kHour, "    redact_keys: true\n    sample: 0.5\n", &r), 0) << log_;
  EXPECT_TRUE(ValidatesAgainstReportSchema(r));
  EXPECT_NE(deletion(r).value("latency_error", "").find("complete full scan"), std::string::npos)
      << deletion(r).dump();
  EXPECT_FALSE(deletion(r).contains("latency_seconds_quantiles"));
  ASSERT_EQ(run(kT1 + 2 * kHour + 60, "    redact_keys: true\n", &r), 0) << log_;
  EXPECT_GT(deletion(r).value("latency_observations", 0), 0) << deletion(r).dump();
}

// A fault proxy that throttles every BatchGetItem: the target stays ok (the scan stands), the
// deletion section says why there is no latency, no metric series is invented, and the next
// healthy run still sees what happened (the state was not advanced).
TEST_F(Latency, ThrottledPresenceCheckIsReportedNotZero) {
  create_table();
  json report;
  ASSERT_EQ(run(kT1, "", &report), 0) << log_;
  delete_due(0, kT1 + kHour * 3);

  const fs::path out = dir_ / "proxy.out";
  const std::string cmd = std::string(kPython) + " '" + TTLA_SOURCE_DIR +
                          "/tests/tools/fault_proxy.py' --upstream " + endpoint_ +
                          " --port 0 --ops BatchGetItem --mode throttle --after 0 --every 1 > '" +
                          out.string() + "' 2>'" + (dir_ / "proxy.err").string() +
                          "' & echo $! > '" + (dir_ / "proxy.pid").string() + "'";
  ASSERT_EQ(shell(cmd), 0);
  int port = 0;
  for (int i = 0; i < 1200 && port == 0; ++i) {
    const std::string s = read_file(out);
    if (s.rfind("PORT ", 0) == 0 && s.find('\n') != std::string::npos) {
      port = std::stoi(s.substr(5));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  struct Kill {
    fs::path pid;
    ~Kill() {
      const std::string p = read_file(pid);
      if (!p.empty()) ::kill(std::stoi(p), SIGTERM);
    }
  } kill_proxy{dir_ / "proxy.pid"};
  ASSERT_GT(port, 0) << read_file(dir_ / "proxy.err");

  std::string metrics;
  EXPECT_EQ(run(kT1 + kHour * 3, "", &report, &metrics, "http://127.0.0.1:" + std::to_string(port)), 0)
      << log_;
  EXPECT_TRUE(ValidatesAgainstReportSchema(report));
  EXPECT_EQ(report["targets"][0]["status"], "ok");
  const json& d = deletion(report);
  EXPECT_NE(d.value("latency_error", "").find("BatchGetItem"), std::string::npos) << d.dump();
  EXPECT_FALSE(d.contains("latency_seconds_quantiles"));
  EXPECT_EQ(metrics.find("ttl_auditor_deletion_latency_seconds{"), std::string::npos);

  // Healthy again: the deletions since T1 are seen in one interval (0, 3h] past T1.
  ASSERT_EQ(run(kT1 + kHour * 3 + 60, "", &report), 0) << log_;
  EXPECT_GT(deletion(report).value("latency_observations", 0), 0) << deletion(report).dump();
  EXPECT_FALSE(deletion(report).contains("latency_error"));
}

// A corrupt state file is ignored with a warning: tracking restarts, the run does not fail.
TEST_F(Latency, CorruptStateIsIgnoredWithAWarning) {
  create_table();
  fs::create_directories(dir_ / "state/latency");
  write_file(dir_ / "state/latency/sessions.json", "{\"version\":1,\"tracked\":[");
  json report;
  ASSERT_EQ(run(kT1, "", &report), 0) << log_;
  EXPECT_TRUE(ValidatesAgainstReportSchema(report));
  const json& d = deletion(report);
  EXPECT_NE(d.value("latency_state_warning", "").find("ignored"), std::string::npos) << d.dump();
  EXPECT_EQ(d.value("latency_tracked", 0), kItems);
  EXPECT_NE(log_.find("latency state unusable"), std::string::npos) << log_;
  // And it was replaced by a good one.
  EXPECT_TRUE(json::parse(read_file(dir_ / "state/latency/sessions.json"), nullptr, false).is_object());
}

// A run at an --as-of that is not now, without --record-history, leaves no state behind.
TEST_F(Latency, WhatIfRunsWriteNoState) {
  create_table();
  const std::string yaml = "state_dir: " + (dir_ / "state").string() +
                           "\ndefaults:\n  region: us-east-1\n  endpoint_url: " + endpoint_ +
                           "\ntargets:\n  - name: sessions\n    kind: dynamodb\n    table: " +
                           table_ + "\n    cloudwatch: false\n";
  write_file(dir_ / "config.yaml", yaml);
  const std::string cmd = std::string("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
                                      "AWS_EC2_METADATA_DISABLED=true '") +
                          TTLA_BINARY + "' run --config '" + (dir_ / "config.yaml").string() +
                          "' --as-of " + std::to_string(kT1) + " --report '" +
                          (dir_ / "report.json").string() + "' > /dev/null 2>&1";
  EXPECT_EQ(shell(cmd), 0);
  EXPECT_FALSE(fs::exists(dir_ / "state/latency/sessions.json"));
  EXPECT_FALSE(fs::exists(dir_ / "state/latency.secret"));
}

}  // namespace
