// S3 deletion latency without writing, against moto's server: objects under a lifecycle rule
// (Expiration.Days 1, so they share one deadline D, the midnight after upload + 1 day) are
// audited hour by hour with as_of stepped past D, and the test itself plays the lifecycle
// process, deleting each object when its known latency has elapsed (tests/tools/
// s3_latency_fixture.py; the auditor only reads). Presence comes from the audit's own listing:
// a tracked object the complete listing no longer shows was deleted. The true latencies are
// uniform on [1 h, 4 h] for 50 objects; 10 more are never deleted (right-censored survivors).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/run.h"
#include "config/config.h"
#include "core/report.h"
#include "sinks/metrics.h"
#include "sources/kinds.h"
#include "support/files.h"
#include "support/report_schema.h"
#include "support/require.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace ttla;

constexpr int64_t kHour = 3600;
constexpr int64_t kFirstRunAge = 600;  // the first run is 10 minutes past the deadline
constexpr int kObjects = 60;
constexpr int kDeleted = 50;  // the others survive every run

std::string key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "logs/obj-%03d", i);
  return buf;
}
bool survives(int i) { return i % 6 == 5; }
// Object i's latency past the deadline: 1 h + 3 h (j + 0.5) / 50 with j a permutation of the
// deleted objects, so the latency does not follow the key order (nor the keyed hash).
double latency(int i) {
  const int m = i - i / 6;
  return static_cast<double>(kHour) + 3.0 * kHour * ((m * 7) % kDeleted + 0.5) / kDeleted;
}
// Nearest-rank quantile of the true latencies, survivors counting as longer than any run.
double true_quantile(double p) {
  std::vector<double> v;
  for (int i = 0; i < kObjects; ++i) v.push_back(survives(i) ? INFINITY : latency(i));
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(std::ceil(p * kObjects)) - 1];
}

class S3Latency : public ::testing::Test {
 protected:
  void SetUp() override {
    TTLA_REQUIRE_ENV(endpoint_, "TTLA_MOTO_ENDPOINT", "start scripts/servers/moto.sh start DIR");
    ::setenv("AWS_ACCESS_KEY_ID", "testing", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    ::unsetenv("AWS_PROFILE");
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    dir_ = fs::temp_directory_path() / ("ttla-s3-latency-" + std::to_string(getpid()) + "-" +
                                        std::to_string(stamp));
    fs::create_directories(dir_);
    bucket_ = "ttla-lat-" + std::to_string(getpid()) + "-" + std::to_string(stamp % 1000000);
  }
  void TearDown() override {
    if (!dir_.empty() && !std::getenv("TTLA_KEEP_TEST_DIR")) fs::remove_all(dir_);
  }

  json tool(const std::string& args) {
    const fs::path out = dir_ / "tool.out";
    const std::string cmd = std::string("/usr/bin/python3 '") + TTLA_SOURCE_DIR +
                            "/tests/tools/s3_latency_fixture.py' " + args + " > '" +
                            out.string() + "' 2>&1";
    const int st = std::system(cmd.c_str());
    const bool ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    const std::string text = ttla::testing::read_file(out);
    EXPECT_TRUE(ok) << cmd << "\n" << text;
    return ok ? json::parse(text, nullptr, false) : json();
  }

  // The bucket, its lifecycle rule and the objects; returns their shared deadline.
  int64_t create_bucket() {
    const json r = tool("create " + bucket_ + " --objects " + std::to_string(kObjects) +
                        " --prefix logs/ --days 1");
    return r.is_object() ? r.value("deadline", int64_t{0}) : 0;
  }

  // What the lifecycle process has deleted by `t` (and not by `since`).
  void delete_due(int64_t since, int64_t t) {
    std::string keys;
    for (int i = 0; i < kObjects; ++i) {
      if (survives(i)) continue;
      const double gone = static_cast<double>(deadline_) + latency(i);
      if (gone > static_cast<double>(since) && gone <= static_cast<double>(t)) keys += " " + key(i);
    }
    if (!keys.empty()) tool("delete " + bucket_ + keys);
  }

  Report run(int64_t as_of, const std::string& extra = "") {
    const std::string yaml = "state_dir: " + (dir_ / "state").string() +
                             "\ntargets:\n  - name: logs\n    kind: s3\n    bucket: " + bucket_ +
                             "\n    prefix: \"logs/\"\n    region: us-east-1\n    endpoint_url: " +
                             endpoint_ + "\n" + extra;
    ConfigResult cr = parse_config(yaml, "s3_latency_test");
    if (!cr.config) {
      ADD_FAILURE() << "config rejected: " << (cr.errors.empty() ? "" : cr.errors[0].str());
      return {};
    }
    RunOptions o;
    o.as_of = as_of;
    o.seed = 7;
    o.record_history = true;  // as_of is not now: state is written anyway (the test steps it)
    return run_audit(*cr.config, o);
  }

  static json deletion(const Report& r) {
    if (r.targets.empty()) return json();
    return r.targets[0].extra.value("deletion", json());
  }
  fs::path state_file() const { return dir_ / "state" / "latency" / "logs.json"; }
  int64_t at(int k) const { return deadline_ + kFirstRunAge + k * kHour; }

  std::string endpoint_;
  fs::path dir_;
  std::string bucket_;
  int64_t deadline_ = 0;
};

// Six runs an hour apart (the fifth stopped by its request budget after the object listing): the
// quantiles bracket the true ones within the run spacing, the survivors stay tracked and
// right-censored, and the metric carries the same numbers.
TEST_F(S3Latency, ListingPresenceBracketsTheTrueLatency) {
  deadline_ = create_bucket();
  ASSERT_GT(deadline_, 0);
  Report r = run(at(0));
  ASSERT_EQ(r.targets.size(), 1u);
  ASSERT_EQ(r.targets[0].status, Status::kOk) << r.targets[0].error.value_or("");
  json d = deletion(r);
  // First run: every expired object is tracked (not other/keep: no rule expires it), nothing is
  // known yet, and no zero is invented.
  EXPECT_EQ(d.value("latency_source", ""), "snapshots") << d.dump();
  EXPECT_EQ(d.value("latency_tracked", 0), kObjects) << d.dump();
  EXPECT_EQ(d.value("latency_observations", -1), 0);
  EXPECT_FALSE(d.contains("latency_seconds_quantiles"));
  EXPECT_TRUE(ValidatesAgainstReportSchema(report_to_json(r)));

  for (int k = 1; k <= 5; ++k) {
    delete_due(at(k - 1), at(k));
    // Run 4 may send 3 requests: versioning, lifecycle and the one ListObjectsV2 page. The
    // listing is complete, so the run learns from it although the target is partial.
    r = run(at(k), k == 4 ? "    max_requests: 3\n" : "");
    ASSERT_EQ(r.targets.size(), 1u);
    EXPECT_EQ(r.targets[0].status, k == 4 ? Status::kPartial : Status::kOk)
        << r.targets[0].error.value_or("");
    d = deletion(r);
    EXPECT_FALSE(d.contains("latency_error")) << d.dump();
    EXPECT_TRUE(ValidatesAgainstReportSchema(report_to_json(r)));
  }
  // Every deletion was seen, each within one run spacing; the survivors remain tracked.
  EXPECT_EQ(d.value("latency_observations", 0), kDeleted) << d.dump();
  EXPECT_EQ(d.value("latency_tracked", 0), kObjects - kDeleted) << d.dump();
  EXPECT_EQ(d.value("latency_censored", 0), kObjects - kDeleted) << d.dump();
  EXPECT_EQ(d.value("latency_resolution_seconds", 0.0), static_cast<double>(kHour));
  ASSERT_TRUE(d.contains("latency_seconds_quantiles")) << d.dump();
  const double p50 = true_quantile(0.5);
  const json& b50 = d["latency_seconds_brackets"]["p50"];
  ASSERT_TRUE(b50.is_array() && b50[1].is_number()) << d.dump();
  EXPECT_LE(b50[0].get<double>(), p50 + kHour) << b50.dump() << " truth " << p50;
  EXPECT_GE(b50[1].get<double>(), p50 - kHour) << b50.dump() << " truth " << p50;
  EXPECT_NEAR(d["latency_seconds_quantiles"]["p50"].get<double>(), p50, kHour);
  // p90 and p99 are survivors: beyond every deletion seen, open-ended at the censoring age.
  double longest = 0;
  for (int i = 0; i < kObjects; ++i) {
    if (!survives(i)) longest = std::max(longest, latency(i));
  }
  for (const char* q : {"p90", "p99"}) {
    const json& b = d["latency_seconds_brackets"][q];
    ASSERT_TRUE(b.is_array()) << d.dump();
    EXPECT_TRUE(b[1].is_null()) << q << " " << b.dump();
    EXPECT_GE(b[0].get<double>(), longest) << q << " " << b.dump();
    EXPECT_LE(b[0].get<double>(), static_cast<double>(at(5) - deadline_)) << q << " " << b.dump();
    EXPECT_EQ(d["latency_seconds_quantiles"][q], b[0]);
  }
  std::printf("p50 truth %.0f; deletion %s\n", p50, d.dump().c_str());

  const std::string metrics = metrics_text(r);
  std::ostringstream line;
  line << "ttl_auditor_deletion_latency_seconds{kind=\"s3\",target=\"logs\",quantile=\"0.5\"} "
       << d["latency_seconds_quantiles"]["p50"].get<double>();
  EXPECT_NE(metrics.find(line.str()), std::string::npos) << line.str() << "\n" << metrics;

  // Not redacted: the state names the tracked objects (the survivors) by key, and its scope.
  const json state = json::parse(ttla::testing::read_file(state_file()));
  EXPECT_EQ(state.value("scope", ""), "s3://" + bucket_ + "/logs/");
  ASSERT_EQ(state["tracked"].size(), static_cast<size_t>(kObjects - kDeleted));
  for (const json& t : state["tracked"]) {
    const std::string k = t.value("key", "");
    ASSERT_EQ(k.rfind("logs/obj-", 0), 0u) << t.dump();
    EXPECT_TRUE(survives(std::stoi(k.substr(9)))) << k;
    EXPECT_EQ(t["deadline"].get<double>(), static_cast<double>(deadline_));
  }
}

// redact_keys: the state keeps hashes only and presence still comes from the listing. A listing
// cut short by the request budget cannot tell unlisted from deleted: latency_error, no estimate,
// no metric series, the state file untouched; the next complete listing sees the deletions.
TEST_F(S3Latency, RedactedKeysAndAnInterruptedListing) {
  deadline_ = create_bucket();
  ASSERT_GT(deadline_, 0);
  const std::string redact = "    redact_keys: true\n";
  Report r = run(at(0), redact);
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(deletion(r).value("latency_tracked", 0), kObjects) << deletion(r).dump();
  const std::string before = ttla::testing::read_file(state_file());
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(before.find("\"key\""), std::string::npos) << before.substr(0, 400);
  EXPECT_EQ(before.find("obj-"), std::string::npos);

  delete_due(at(0), at(2));
  // Two requests: versioning and lifecycle; the listing is never reached.
  r = run(at(2), redact + "    max_requests: 2\n");
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].status, Status::kPartial);
  json d = deletion(r);
  EXPECT_NE(d.value("latency_error", "").find("object listing was incomplete"), std::string::npos)
      << d.dump();
  EXPECT_NE(d.value("latency_error", "").find("request budget of 2"), std::string::npos) << d.dump();
  EXPECT_FALSE(d.contains("latency_seconds_quantiles"));
  EXPECT_TRUE(ValidatesAgainstReportSchema(report_to_json(r)));
  EXPECT_EQ(metrics_text(r).find("ttl_auditor_deletion_latency_seconds{"), std::string::npos);
  EXPECT_TRUE(ttla::testing::read_file(state_file()) == before) << "the state file changed";

  // Complete again: the deletions of both hours are seen, in one interval (600 s, 2 h 600 s].
  r = run(at(2), redact);
  d = deletion(r);
  int deleted = 0;
  for (int i = 0; i < kObjects; ++i) deleted += !survives(i) && latency(i) <= 2 * kHour + kFirstRunAge;
  ASSERT_GT(deleted, 0);
  EXPECT_EQ(d.value("latency_observations", 0), deleted) << d.dump();
  EXPECT_EQ(d.value("latency_tracked", 0), kObjects - deleted) << d.dump();
  EXPECT_EQ(d.value("latency_resolution_seconds", 0.0), static_cast<double>(2 * kHour));
  const std::string after = ttla::testing::read_file(state_file());
  EXPECT_EQ(after.find("\"key\""), std::string::npos);
  EXPECT_EQ(after.find("obj-"), std::string::npos);
}

}  // namespace
