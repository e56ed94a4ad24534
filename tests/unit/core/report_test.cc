#include "core/report.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/time.h"
#include "support/report_schema.h"
#include "ttla_version.h"

namespace ttla {
namespace {

using nlohmann::json;

constexpr int64_t kAsOf = 1795341600;  // 2026-11-22T10:00:00Z

TargetReport dynamodb_target(const std::string& name = "sessions") {
  TargetReport t;
  t.name = name;
  t.kind = "dynamodb";
  t.scan.items_scanned = 10;
  t.scan.segments_total = 4;
  t.scan.segments_scanned = 4;
  t.scan.consumed_read_units = 12.5;
  t.scan.duration_seconds = 0.75;
  t.scan.requests = 3;
  t.has_hygiene = true;
  t.stats.count(ItemClass::kMissingTtl, 2);
  t.stats.count(ItemClass::kNotYetExpired, 3);
  t.stats.count(ItemClass::kMillisecondsTtl, 1);
  t.stats.add_expired("pk=user1#s1", kAsOf - 7200, 7200, 300, "user1");
  t.stats.add_expired("pk=user1#s2", kAsOf - 90000, 90000, 200, "user1");
  t.stats.add_expired("pk=user2#s1", kAsOf - 30, 30, 100, "user2");
  t.stats.add_expired("pk=user3#s9", kAsOf - 4e7, 4e7, 50, "user3");
  t.table_metrics = TableMetrics{1000, 123456, "ACTIVE", "ENABLED", "expires_at"};
  t.anomalies.push_back(Anomaly{"oldest_overdue", "critical", "oldest item is 462d overdue", 4e7, 172800});
  return t;
}

TargetReport s3_target() {
  TargetReport t;
  t.name = "uploads";
  t.kind = "s3";
  t.scan.items_scanned = 5;
  t.stats.add_expired("uploads/a.mp4", kAsOf - 86400, 86400, 1 << 20, "");
  t.multipart = MultipartInfo{2, 200000};
  t.noncurrent = NoncurrentInfo{3, 4096};
  t.extra = {{"s3", {{"bucket", "video-uploads"}, {"rule_id", "expire-7d"}}}, {"name", "must-not-override"}};
  return t;
}

Report sample_report() {
  Report r;
  r.run.id = "run-123";
  r.run.started_at = kAsOf + 0.25;
  r.run.finished_at = kAsOf + 2.5;
  r.run.as_of = kAsOf;
  r.run.status = Status::kOk;
  r.targets.push_back(dynamodb_target());
  r.targets.push_back(s3_target());
  return r;
}

TEST(Status, StringsAndWorst) {
  EXPECT_EQ(to_string(Status::kOk), "ok");
  EXPECT_EQ(to_string(Status::kPartial), "partial");
  EXPECT_EQ(to_string(Status::kFailed), "failed");
  EXPECT_EQ(status_from_string("partial"), Status::kPartial);
  EXPECT_THROW(status_from_string("fine"), Error);
  EXPECT_EQ(worst(Status::kOk, Status::kPartial), Status::kPartial);
  EXPECT_EQ(worst(Status::kFailed, Status::kPartial), Status::kFailed);
  EXPECT_EQ(worst(Status::kOk, Status::kOk), Status::kOk);
  EXPECT_EQ(worst(Status::kPartial, Status::kFailed), Status::kFailed);
}

TEST(ReportToJson, TopLevelShape) {
  json j = report_to_json(sample_report());
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["tool"], json({{"name", "ttl-auditor"}, {"version", TTLA_VERSION}}));
  const json& run = j["run"];
  EXPECT_EQ(run["id"], "run-123");
  EXPECT_EQ(run["started_at"], "2026-11-22T10:00:00.250Z");
  EXPECT_EQ(run["finished_at"], "2026-11-22T10:00:02.500Z");
  EXPECT_EQ(run["as_of"], "2026-11-22T10:00:00Z");
  EXPECT_DOUBLE_EQ(run["duration_seconds"].get<double>(), 2.25);
  EXPECT_EQ(run["status"], "ok");
  EXPECT_FALSE(run.contains("shard"));
  ASSERT_EQ(j["targets"].size(), 2u);
  EXPECT_FALSE(j["targets"][0].contains("state"));
  EXPECT_TRUE(ValidatesAgainstReportSchema(j));
}

TEST(ReportToJson, DynamoDbTarget) {
  json t = report_to_json(sample_report())["targets"][0];
  EXPECT_EQ(t["name"], "sessions");
  EXPECT_EQ(t["kind"], "dynamodb");
  EXPECT_EQ(t["status"], "ok");
  EXPECT_TRUE(t["error"].is_null());
  EXPECT_EQ(t["scan"]["mode"], "full");
  EXPECT_EQ(t["scan"]["items_scanned"], 10);
  EXPECT_EQ(t["scan"]["segments_total"], 4);
  EXPECT_EQ(t["scan"]["segments_scanned"], 4);
  EXPECT_EQ(t["scan"]["consumed_read_units"], 12.5);
  EXPECT_EQ(t["scan"]["duration_seconds"], 0.75);

  const json& e = t["expired"];
  EXPECT_EQ(e["count"], 4);
  EXPECT_EQ(e["estimated"], false);
  EXPECT_EQ(e["ci95"], json({4, 4}));
  EXPECT_EQ(e["bytes"], 650);
  EXPECT_EQ(e["oldest_overdue_seconds"], 4e7);
  EXPECT_EQ(e["newest_overdue_seconds"], 30);
  // Sorted overdue: 30, 7200, 90000, 4e7 -> nearest rank: p50 rank 2, p90/p99 rank 4.
  EXPECT_NEAR(e["overdue_seconds_quantiles"]["p50"].get<double>(), 7200, 7200 * 0.01);
  EXPECT_NEAR(e["overdue_seconds_quantiles"]["p90"].get<double>(), 4e7, 4e7 * 0.01);
  EXPECT_NEAR(e["overdue_seconds_quantiles"]["p99"].get<double>(), 4e7, 4e7 * 0.01);
  ASSERT_EQ(e["histogram"].size(), 12u);
  EXPECT_EQ(e["histogram"][0], json({{"le", 3600}, {"count", 1}}));
  EXPECT_EQ(e["histogram"][1], json({{"le", 21600}, {"count", 2}}));
  EXPECT_EQ(e["histogram"][4], json({{"le", 172800}, {"count", 3}}));
  EXPECT_EQ(e["histogram"][11], json({{"le", "+Inf"}, {"count", 4}}));
  ASSERT_EQ(e["oldest_items"].size(), 4u);
  EXPECT_EQ(e["oldest_items"][0]["key"], "pk=user3#s9");
  EXPECT_EQ(e["oldest_items"][0]["bytes"], 50);
  EXPECT_EQ(e["oldest_items"][3]["key"], "pk=user2#s1");
  EXPECT_EQ(e["sample_items"].size(), 4u);  // k=10 > 4 items: all of them
  EXPECT_EQ(e["top_groups"][0], json({{"group", "user1"}, {"count", 2}}));
  EXPECT_EQ(e["top_groups"].size(), 3u);

  EXPECT_EQ(t["hygiene"], json({{"not_yet_expired", 3},
                                {"missing_ttl", 2},
                                {"non_numeric_ttl", 0},
                                {"milliseconds_ttl", 1},
                                {"beyond_five_years", 0}}));
  EXPECT_EQ(t["table_metrics"], json({{"item_count", 1000},
                                      {"table_size_bytes", 123456},
                                      {"table_status", "ACTIVE"},
                                      {"ttl_status", "ENABLED"},
                                      {"ttl_attribute", "expires_at"}}));
  ASSERT_EQ(t["anomalies"].size(), 1u);
  EXPECT_EQ(t["anomalies"][0], json({{"rule", "oldest_overdue"},
                                     {"severity", "critical"},
                                     {"message", "oldest item is 462d overdue"},
                                     {"value", 4e7},
                                     {"threshold", 172800}}));
  EXPECT_FALSE(t.contains("multipart"));
  EXPECT_FALSE(t.contains("noncurrent"));
}

TEST(ReportToJson, S3TargetOmitsDynamoDbSectionsAndMergesExtra) {
  json t = report_to_json(sample_report())["targets"][1];
  EXPECT_FALSE(t.contains("hygiene"));
  EXPECT_FALSE(t.contains("table_metrics"));
  EXPECT_EQ(t["multipart"], json({{"stale_count", 2}, {"oldest_age_seconds", 200000}}));
  EXPECT_EQ(t["noncurrent"], json({{"expired_count", 3}, {"expired_bytes", 4096}}));
  EXPECT_EQ(t["s3"]["bucket"], "video-uploads");
  EXPECT_EQ(t["name"], "uploads");  // extra never overrides a CONTRACT field
  EXPECT_TRUE(t["anomalies"].is_array());
  EXPECT_TRUE(t["anomalies"].empty());
}

// A failed target measured nothing: `expired` is null and there is no hygiene section, never
// zeros that read as "nothing expired".
TEST(ReportToJson, FailedTargetHasNullExpiredNotZeros) {
  Report r = sample_report();
  r.targets.clear();
  TargetReport t;
  t.name = "images";
  t.kind = "filesystem";
  t.status = Status::kFailed;
  t.error = "io: permission denied";
  r.targets.push_back(t);
  r.run.status = Status::kPartial;
  json j = report_to_json(r);
  EXPECT_TRUE(j["targets"][0].at("expired").is_null()) << j["targets"][0].dump();
  EXPECT_FALSE(j["targets"][0].contains("hygiene"));
  EXPECT_EQ(j["targets"][0]["error"], "io: permission denied");
  EXPECT_EQ(j["targets"][0]["status"], "failed");
  EXPECT_EQ(j["run"]["status"], "partial");
  EXPECT_TRUE(ValidatesAgainstReportSchema(j));
}

TEST(ReportToJson, EstimatedCountAndIntervalRoundOutwards) {
  Report r = sample_report();
  TargetReport& t = r.targets[0];
  t.scan.mode = "sample";
  t.scan.sample_fraction = 0.05;
  t.scan.full_scan_read_units_estimate = 250;
  t.scan.seed = 42;
  t.estimated = true;
  t.expired_estimate = 80.4;
  t.ci95 = {60.7, 100.2};
  json j = report_to_json(r);
  const json& e = j["targets"][0]["expired"];
  EXPECT_EQ(e["count"], 80);
  EXPECT_EQ(e["estimated"], true);
  EXPECT_EQ(e["ci95"], json({60, 101}));
  EXPECT_EQ(j["targets"][0]["scan"]["mode"], "sample");
  EXPECT_EQ(j["targets"][0]["scan"]["full_scan_read_units_estimate"], 250);
  EXPECT_EQ(j["targets"][0]["scan"]["seed"], 42);
  EXPECT_EQ(t.expired_count_reported(), 80.4);
  EXPECT_TRUE(ValidatesAgainstReportSchema(j));
}

TEST(ReportToJson, QuantilesNeverExceedExactExtremes) {
  Report r = sample_report();
  TargetReport t;
  t.name = "one";
  t.kind = "filesystem";
  t.stats.add_expired("f", kAsOf - 1000, 1000, 0, "");  // sketch alone would say ~1000 +- 0.5%
  r.targets = {t};
  json q = report_to_json(r)["targets"][0]["expired"]["overdue_seconds_quantiles"];
  EXPECT_EQ(q["p50"], 1000);
  EXPECT_EQ(q["p99"], 1000);
}

TEST(ReportToJson, RedactedKeysInReport) {
  Report r = sample_report();
  StatsOptions o;
  o.redact_keys = true;
  TargetReport t;
  t.name = "private";
  t.kind = "postgres";
  t.stats = TargetStats(o);
  t.stats.add_expired("id=alice@example.com", kAsOf - 5, 5, 0, "");
  r.targets = {t};
  std::string text = report_to_json(r, true).dump();
  EXPECT_EQ(text.find("alice"), std::string::npos);
  EXPECT_NE(text.find("hash:"), std::string::npos);
}

TEST(ReportSchema, RejectsBrokenReports) {
  json good = report_to_json(sample_report());
  ASSERT_TRUE(ValidatesAgainstReportSchema(good));

  json missing = good;
  missing["targets"][0]["expired"].erase("count");
  EXPECT_FALSE(ValidatesAgainstReportSchema(missing));

  json bad_status = good;
  bad_status["targets"][1]["status"] = "fine";
  EXPECT_FALSE(ValidatesAgainstReportSchema(bad_status));

  json bad_severity = good;
  bad_severity["targets"][0]["anomalies"][0]["severity"] = "info";
  EXPECT_FALSE(ValidatesAgainstReportSchema(bad_severity));

  json bad_mode = good;
  bad_mode["targets"][0]["scan"]["mode"] = "partial";
  EXPECT_FALSE(ValidatesAgainstReportSchema(bad_mode));

  json negative = good;
  negative["targets"][0]["expired"]["count"] = -1;
  EXPECT_FALSE(ValidatesAgainstReportSchema(negative));

  json bad_time = good;
  bad_time["run"]["as_of"] = "yesterday";
  EXPECT_FALSE(ValidatesAgainstReportSchema(bad_time));

  json wrong_version = good;
  wrong_version["schema_version"] = 2;
  auto result = ValidatesAgainstReportSchema(wrong_version);
  EXPECT_FALSE(result);
  EXPECT_NE(std::string(result.message()).find("schema_version"), std::string::npos) << result.message();
}

TEST(ReportSchema, AllowsKindSpecificAdditions) {
  json j = report_to_json(sample_report());
  j["targets"][0]["dynamodb"] = {{"gsi_count", 2}};
  j["run"]["host"] = "auditor-1";
  EXPECT_TRUE(ValidatesAgainstReportSchema(j));
}

TEST(ReportRoundTrip, WithStateReproducesTheSameJson) {
  Report r = sample_report();
  r.run.shard = "1/3";
  r.targets[0].status = Status::kPartial;
  r.targets[0].error = "budget: max_read_units reached";
  r.targets[0].estimated = true;
  r.targets[0].expired_estimate = 41.7;
  r.targets[0].ci95 = {30.1, 53.3};
  r.targets[0].scan.full_scan_read_units_estimate = 99.5;
  r.targets[0].table_metrics->item_count.reset();
  json j = report_to_json(r, true);
  EXPECT_EQ(j["run"]["shard"], "1/3");
  ASSERT_TRUE(j["targets"][0].contains("state"));
  EXPECT_TRUE(ValidatesAgainstReportSchema(j));

  Report back = report_from_json(json::parse(j.dump()));
  EXPECT_EQ(back.run.shard, "1/3");
  EXPECT_DOUBLE_EQ(back.run.started_at, r.run.started_at);
  EXPECT_EQ(back.run.as_of, kAsOf);
  ASSERT_EQ(back.targets.size(), 2u);
  EXPECT_EQ(back.targets[0].error, r.targets[0].error);
  EXPECT_EQ(back.targets[0].expired_estimate, 41.7);
  EXPECT_FALSE(back.targets[0].table_metrics->item_count.has_value());
  EXPECT_EQ(back.targets[1].extra["s3"]["bucket"], "video-uploads");
  EXPECT_EQ(report_to_json(back, true), j);
  EXPECT_EQ(report_to_json(back, false), report_to_json(r, false));
}

TEST(ReportRoundTrip, WithoutStateIsRejected) {
  json j = report_to_json(sample_report(), false);
  try {
    report_from_json(j);
    FAIL() << "expected ttla::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse);
    EXPECT_NE(std::string(e.what()).find("state"), std::string::npos) << e.what();
  }
}

TEST(ReportRoundTrip, RejectsMalformed) {
  json base = report_to_json(sample_report(), true);
  for (auto mutate : std::vector<void (*)(json&)>{
           [](json& j) { j["schema_version"] = 2; },
           [](json& j) { j["run"]["as_of"] = "tomorrow"; },
           [](json& j) { j["run"]["status"] = "great"; },
           [](json& j) { j["targets"][0]["scan"].erase("items_scanned"); },
           [](json& j) { j["targets"][0]["state"]["stats"]["sketch"]["count"] = 99; },
           [](json& j) { j["targets"] = "none"; },
           [](json& j) { j = json::array(); }}) {
    json j = base;
    mutate(j);
    EXPECT_THROW(report_from_json(j), Error) << j.dump().substr(0, 200);
  }
}

// -------------------------------------------------------------------------------- merge_reports

struct Scanned {
  std::string key;
  double overdue;
  uint64_t bytes;
  std::string group;
  ItemClass cls;
};

std::vector<Scanned> population(uint32_t seed, size_t n) {
  std::mt19937 rng(seed);
  std::vector<Scanned> items;
  for (size_t i = 0; i < n; ++i) {
    uint32_t r = rng() % 20;
    ItemClass cls = r < 14 ? ItemClass::kExpired : static_cast<ItemClass>(1 + r % 5);
    items.push_back({"pk=u" + std::to_string(rng() % 300) + "#" + std::to_string(i),
                     static_cast<double>(rng() % 50000000), 10 + rng() % 1000,
                     "u" + std::to_string(rng() % 12), cls});
  }
  return items;
}

void scan_into(TargetReport& t, const Scanned& s) {
  t.scan.items_scanned++;
  if (s.cls == ItemClass::kExpired) {
    t.stats.add_expired(s.key, kAsOf - s.overdue, s.overdue, s.bytes, s.group);
  } else {
    t.stats.count(s.cls);
  }
}

TEST(MergeReports, ShardsEqualOneFullRun) {
  StatsOptions options;
  options.k = 7;
  options.seed = 1234;
  const size_t shards = 3;
  std::vector<Scanned> items = population(5, 4000);

  Report whole;
  whole.run = {"full", kAsOf + 1, kAsOf + 10, kAsOf, Status::kOk, std::nullopt};
  TargetReport wt;
  wt.name = "sessions";
  wt.kind = "dynamodb";
  wt.has_hygiene = true;
  wt.stats = TargetStats(options);
  for (const auto& s : items) scan_into(wt, s);
  whole.targets.push_back(wt);

  std::vector<Report> parts;
  for (size_t i = 0; i < shards; ++i) {
    Report p;
    p.run = {"shard" + std::to_string(i), kAsOf + 1.0 + static_cast<double>(i), kAsOf + 5.0 + 2.0 * static_cast<double>(i),
             kAsOf, Status::kOk, std::to_string(i) + "/3"};
    TargetReport t;
    t.name = "sessions";
    t.kind = "dynamodb";
    t.has_hygiene = true;
    t.stats = TargetStats(options);
    t.scan.segments_total = 6;  // every shard reports the plan's TotalSegments
    t.scan.segments_scanned = 2;
    t.scan.consumed_read_units = 10.5;
    t.scan.duration_seconds = 1.0 + static_cast<double>(i);
    t.scan.requests = 4;
    for (size_t k = i; k < items.size(); k += shards) scan_into(t, items[k]);
    p.targets.push_back(t);
    // Shard reports go through their JSON form, as `ttl-auditor merge` reads them from files.
    json pj = report_to_json(p, true);
    EXPECT_TRUE(ValidatesAgainstReportSchema(pj));
    parts.push_back(report_from_json(json::parse(pj.dump())));
  }

  Report merged = merge_reports(parts);
  ASSERT_EQ(merged.targets.size(), 1u);
  json mj = report_to_json(merged);
  json wj = report_to_json(whole);
  EXPECT_EQ(mj["targets"][0]["expired"], wj["targets"][0]["expired"]);
  EXPECT_EQ(mj["targets"][0]["hygiene"], wj["targets"][0]["hygiene"]);
  const json& scan = mj["targets"][0]["scan"];
  EXPECT_EQ(scan["items_scanned"], items.size());
  EXPECT_EQ(scan["segments_total"], 6);
  EXPECT_EQ(scan["segments_scanned"], 6);
  EXPECT_EQ(scan["consumed_read_units"], 31.5);
  EXPECT_EQ(scan["requests"], 12);
  EXPECT_EQ(scan["duration_seconds"], 3.0);  // shards run side by side: the slowest one
  EXPECT_EQ(mj["run"]["started_at"], format_rfc3339_ms(kAsOf + 1.0));
  EXPECT_EQ(mj["run"]["finished_at"], format_rfc3339_ms(kAsOf + 9.0));
  EXPECT_FALSE(mj["run"].contains("shard"));
  EXPECT_EQ(mj["run"]["id"], "shard0");
  EXPECT_TRUE(ValidatesAgainstReportSchema(mj));

  // Order of the parts does not matter.
  std::vector<Report> reversed(parts.rbegin(), parts.rend());
  json rj = report_to_json(merge_reports(reversed));
  EXPECT_EQ(rj["targets"][0]["expired"], wj["targets"][0]["expired"]);
  EXPECT_EQ(rj["targets"][0]["scan"], scan);
}

TEST(MergeReports, StatusErrorsAndDisjointTargets) {
  Report a = sample_report();
  Report b = sample_report();
  b.run.status = Status::kPartial;
  b.targets[0].status = Status::kPartial;
  b.targets[0].error = "throttled: segment 3";
  b.targets.pop_back();
  TargetReport extra_target;
  extra_target.name = "images";
  extra_target.kind = "filesystem";
  extra_target.status = Status::kFailed;
  extra_target.error = "io: no such directory";
  b.targets.push_back(extra_target);
  Report c = sample_report();
  c.targets[0].error = "throttled: segment 3";  // same message is not repeated
  c.targets[0].status = Status::kPartial;
  Report d = sample_report();
  d.targets[0].error = "network: reset";
  d.targets[0].status = Status::kPartial;

  b.run.id = "run-b";
  c.run.id = "run-c";
  d.run.id = "run-d";
  Report m = merge_reports({a, b, c, d});
  ASSERT_EQ(m.targets.size(), 3u);
  EXPECT_EQ(m.targets[0].name, "sessions");
  EXPECT_EQ(m.targets[1].name, "uploads");
  EXPECT_EQ(m.targets[2].name, "images");
  EXPECT_EQ(m.targets[0].status, Status::kPartial);
  EXPECT_EQ(m.targets[0].error, "throttled: segment 3; network: reset");
  EXPECT_EQ(m.targets[2].status, Status::kFailed);
  EXPECT_EQ(m.run.status, Status::kFailed);  // worst of runs and targets
  EXPECT_EQ(m.targets[0].stats.expired_count(), 16u);
  EXPECT_EQ(m.targets[1].stats.expired_count(), 3u);
  EXPECT_EQ(m.targets[1].multipart->stale_count, 6u);
  EXPECT_EQ(m.targets[1].multipart->oldest_age_seconds, 200000);
  EXPECT_EQ(m.targets[1].noncurrent->expired_bytes, 3u * 4096);
  EXPECT_EQ(m.targets[0].anomalies.size(), 1u);  // identical anomalies are not repeated
  EXPECT_EQ(m.targets[0].table_metrics->item_count, 1000);
}

TEST(MergeReports, SampledShardsCombineEstimates) {
  Report a = sample_report(), b = sample_report();
  a.targets[0].estimated = true;
  a.targets[0].expired_estimate = 100;
  a.targets[0].ci95 = {70, 130};
  a.targets[0].scan.mode = "sample";
  b.targets[0].estimated = true;
  b.targets[0].expired_estimate = 200;
  b.targets[0].ci95 = {160, 240};
  b.targets[0].scan.mode = "sample";
  b.run.id = "run-b";
  Report m = merge_reports({a, b});
  const TargetReport& t = m.targets[0];
  EXPECT_TRUE(t.estimated);
  EXPECT_DOUBLE_EQ(t.expired_estimate, 300);
  EXPECT_NEAR(t.ci95[1] - 300, 50, 1e-9);  // sqrt(30^2 + 40^2)
  EXPECT_NEAR(300 - t.ci95[0], 50, 1e-9);
  EXPECT_EQ(t.scan.mode, "sample");

  // A fully scanned shard contributes its exact count with no uncertainty.
  Report c = sample_report();
  c.run.id = "run-c";
  Report m2 = merge_reports({a, c});
  EXPECT_DOUBLE_EQ(m2.targets[0].expired_estimate, 104);
  EXPECT_NEAR(m2.targets[0].ci95[0], 74, 1e-9);
  EXPECT_NEAR(m2.targets[0].ci95[1], 134, 1e-9);
}

TEST(MergeReports, RejectsNothingAndKindMismatch) {
  EXPECT_THROW(merge_reports({}), Error);
  Report a = sample_report(), b = sample_report();
  b.targets[0].kind = "s3";
  b.run.id = "run-b";
  EXPECT_THROW(merge_reports({a, b}), Error);
}

TEST(MergeReports, SinglePartIsUnchanged) {
  Report a = sample_report();
  a.run.shard = "0/1";
  Report m = merge_reports({a});
  json mj = report_to_json(m), aj = report_to_json(a);
  aj["run"].erase("shard");
  EXPECT_EQ(mj, aj);
}

TEST(ReportModel, KindsWithoutDeadlinesHaveNoExpiredSectionAndKeepItAbsentThroughMerge) {
  Report r;
  r.run.id = "r1";
  r.run.as_of = 1790000000;
  TargetReport t;
  t.name = "dlq";
  t.kind = "sqs";
  t.has_expired = false;
  t.extra["sqs"] = {{"queue_url", "https://sqs.us-east-1.amazonaws.com/1/dlq"},
                    {"queue_name", "dlq"},
                    {"messages", {{"visible", 3}, {"in_flight", 0}, {"delayed", 1}}}};
  r.targets.push_back(t);
  const json j = report_to_json(r);
  EXPECT_FALSE(j["targets"][0].contains("expired")) << j.dump(1);
  EXPECT_EQ(j["targets"][0]["sqs"]["messages"]["visible"], 3);
  EXPECT_TRUE(ValidatesAgainstReportSchema(j));
  // A dynamodb target without `expired` is not a valid report; an sqs target with one is not.
  json broken = j;
  broken["targets"][0]["kind"] = "dynamodb";
  EXPECT_FALSE(ValidatesAgainstReportSchema(broken));

  const Report back = report_from_json(report_to_json(r, true));
  ASSERT_EQ(back.targets.size(), 1u);
  EXPECT_FALSE(back.targets[0].has_expired);
  Report other = back;
  other.run.id = "r2";
  const Report merged = merge_reports({back, other});
  EXPECT_FALSE(report_to_json(merged)["targets"][0].contains("expired"));
}

}  // namespace
}  // namespace ttla

