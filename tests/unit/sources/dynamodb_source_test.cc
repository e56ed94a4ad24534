// The DynamoDB source end to end against a loopback HTTP server that plays DynamoDB: recorded
// DescribeTable / DescribeTimeToLive bodies and a paginated, segmented Scan over a generated
// table (with the Segment/TotalSegments, ExclusiveStartKey and FilterExpression semantics the
// source relies on). Counts are checked against an independent classification of the data.
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sources/dynamodb_kind.h"
#include "core/error.h"
#include "sources/aws_target.h"
#include "sources/dynamodb_source.h"
#include "sources/sampling.h"
#include "support/test_http_server.h"
#include "support/fixtures.h"

namespace ttla {
namespace {

using nlohmann::json;
using testing::CannedResponse;
using testing::ReceivedRequest;
using testing::TestHttpServer;

constexpr int64_t kAsOf = 1763800000;

std::string fixture(const std::string& name) { return ttla::testing::fixture("dynamodb", name); }

struct Item {
  std::string pk;
  std::string sk;
  std::string ttl_type;  // "N", "S", "BOOL" or "" (absent)
  std::string ttl_text;
  std::string cls;       // expected class, decided here independently of the parser
  double overdue = 0;
};

// 600 items over every class; the expected class is written down with the data.
std::vector<Item> make_table() {
  std::vector<Item> items;
  for (int i = 0; i < 600; ++i) {
    Item it;
    it.pk = "user" + std::to_string(i % 37) + "#s" + std::to_string(i);
    it.sk = "meta";
    switch (i % 12) {
      case 0: case 1: case 2: case 3:
        it.ttl_type = "N";
        it.ttl_text = std::to_string(kAsOf - 3600 * i);
        it.cls = "expired";
        it.overdue = 3600.0 * i;
        break;
      case 4: case 5:
        it.ttl_type = "N";
        it.ttl_text = std::to_string(kAsOf + 1 + i);
        it.cls = "not_yet_expired";
        break;
      case 6:
        it.ttl_type = "N";
        it.ttl_text = std::to_string(kAsOf * 1000 + i);
        it.cls = "milliseconds_ttl";
        break;
      case 7:
        it.ttl_type = "N";
        it.ttl_text = std::to_string(1000 + i);
        it.cls = "beyond_five_years";
        break;
      case 8:
        it.ttl_type = "S";
        it.ttl_text = std::to_string(kAsOf - 10);
        it.cls = "non_numeric_ttl";
        break;
      case 9:
        it.cls = "missing_ttl";
        break;
      case 10:
        it.ttl_type = "N";
        it.ttl_text = std::to_string(kAsOf - i) + ".5";
        it.cls = "expired";
        it.overdue = i - 0.5;
        break;
      default:
        it.ttl_type = "BOOL";
        it.cls = "non_numeric_ttl";
        break;
    }
    items.push_back(it);
  }
  return items;
}

std::map<std::string, uint64_t> truth_counts(const std::vector<Item>& items,
                                             const std::function<bool(size_t)>& keep = {}) {
  std::map<std::string, uint64_t> m;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!keep || keep(i)) ++m[items[i].cls];
  }
  return m;
}

uint64_t fnv(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::string item_json(const Item& it) {
  json j = {{"pk", {{"S", it.pk}}}, {"sk", {{"S", it.sk}}}};
  if (it.ttl_type == "N" || it.ttl_type == "S") j["ttl"] = {{it.ttl_type, it.ttl_text}};
  if (it.ttl_type == "BOOL") j["ttl"] = {{"BOOL", true}};
  j["payload"] = {{"S", std::string(40, 'x')}};
  return j.dump();
}

// Plays DynamoDB for one table. Hooks let a test inject failures per Scan request number.
class FakeDynamo {
 public:
  explicit FakeDynamo(std::vector<Item> items, size_t page_size = 9)
      : items_(std::move(items)), page_size_(page_size) {}

  std::string ttl_body = fixture("describe_ttl_enabled.json");
  std::function<std::optional<CannedResponse>(int scan_number)> scan_hook;

  CannedResponse handle(const ReceivedRequest& req) {
    auto target = req.headers.find("x-amz-target");
    if (target == req.headers.end()) return {400, {}, "no target"};
    if (req.headers.find("authorization") == req.headers.end()) return {403, {}, "unsigned"};
    const std::string op = target->second.substr(target->second.find('.') + 1);
    if (op == "DescribeTable") return {200, {}, fixture("describe_table.json")};
    if (op == "DescribeTimeToLive") return {200, {}, ttl_body};
    if (op != "Scan") return {400, {}, R"({"__type":"x#UnknownOperationException"})"};
    int number;
    {
      std::lock_guard<std::mutex> lock(mu_);
      number = ++scans_;
      bodies_.push_back(json::parse(req.body));
    }
    if (scan_hook) {
      if (auto r = scan_hook(number)) return *r;
    }
    return {200, {{"Content-Type", "application/x-amz-json-1.0"}}, scan(json::parse(req.body))};
  }

  std::vector<json> scan_bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }

  uint64_t segment_of(size_t i, uint64_t total) const { return fnv(items_[i].pk) % total; }

 private:
  std::string scan(const json& req) {
    const uint64_t segment = req.at("Segment");
    const uint64_t total = req.at("TotalSegments");
    std::vector<size_t> mine;
    for (size_t i = 0; i < items_.size(); ++i) {
      if (segment_of(i, total) == segment) mine.push_back(i);
    }
    size_t pos = 0;
    if (req.contains("ExclusiveStartKey")) {
      const std::string after = req["ExclusiveStartKey"]["pk"]["S"];
      while (pos < mine.size() && items_[mine[pos]].pk != after) ++pos;
      ++pos;
    }
    // The only filter this source sends on its own: NOT (#t > :asof AND #t < :ms).
    std::optional<double> drop_above;
    // Items here hold their TTL in "ttl"; a filter on another attribute drops nothing.
    if (req.contains("FilterExpression") && req["ExpressionAttributeNames"]["#ttla_t"] == "ttl") {
      std::string asof = req["ExpressionAttributeValues"][":ttla_asof"]["N"];
      drop_above = std::stod(asof);
    }
    json out = json::object();
    std::string items_text;
    uint64_t count = 0;
    size_t end = std::min(mine.size(), pos + page_size_);
    for (size_t k = pos; k < end; ++k) {
      const Item& it = items_[mine[k]];
      if (drop_above && it.ttl_type == "N") {
        double v = std::stod(it.ttl_text);
        if (v > *drop_above && v < 1e11) continue;
      }
      if (count++) items_text += ",";
      items_text += item_json(it);
    }
    std::string body = "{\"ConsumedCapacity\":{\"TableName\":\"UploadSessions\",\"CapacityUnits\":" +
                       std::to_string(0.5 * static_cast<double>(end - pos + 1)) +
                       "},\"Count\":" + std::to_string(count) + ",\"Items\":[" + items_text + "]";
    if (end < mine.size()) {
      const Item& last = items_[mine[end - 1]];
      body += ",\"LastEvaluatedKey\":" +
              json({{"pk", {{"S", last.pk}}}, {"sk", {{"S", last.sk}}}}).dump();
    }
    body += ",\"ScannedCount\":" + std::to_string(end - pos) + "}";
    return body;
  }

  std::vector<Item> items_;
  size_t page_size_;
  std::mutex mu_;
  int scans_ = 0;
  std::vector<json> bodies_;
};

struct Harness {
  explicit Harness(size_t page_size = 9)
      : fake(make_table(), page_size),
        server([this](const ReceivedRequest& r) { return fake.handle(r); }) {}
  FakeDynamo fake;
  TestHttpServer server;

  TargetConfig target() const {
    TargetConfig t;
    t.name = "sessions";
    t.kind = "dynamodb";
    dynamodb_config(t).table = "UploadSessions";
    t.region = "us-east-1";
    t.endpoint_url = server.url("");
    dynamodb_config(t).segments = 4;
    return t;
  }
};

DynamodbSourceOptions test_options() {
  DynamodbSourceOptions o;
  aws::Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  c.source = "test";
  o.credentials = aws::make_static_provider(c);
  o.retry.base_delay_seconds = 0.01;
  o.retry.max_delay_seconds = 0.05;
  o.default_workers = 3;
  return o;
}

RunContext context() {
  RunContext ctx;
  ctx.as_of = kAsOf;
  ctx.seed = 7;
  return ctx;
}

void expect_counts(const TargetReport& r, const std::map<std::string, uint64_t>& truth) {
  for (int c = 0; c < kItemClassCount; ++c) {
    const std::string name(class_name(static_cast<ItemClass>(c)));
    uint64_t want = truth.count(name) ? truth.at(name) : 0;
    EXPECT_EQ(r.stats.class_count(static_cast<ItemClass>(c)), want) << name;
  }
}

TEST(DynamodbSource, FullScanCountsEveryClassExactly) {
  Harness h;
  auto source = make_dynamodb_source(test_options());
  std::vector<uint64_t> progress;
  std::mutex progress_mu;
  RunContext ctx = context();
  ctx.progress = [&](const std::string& name, const Progress& p) {
    EXPECT_EQ(name, "sessions");
    std::lock_guard<std::mutex> lock(progress_mu);
    progress.push_back(p.items_scanned);
  };
  TargetReport r = source->audit(h.target(), ctx);
  const auto items = make_table();
  expect_counts(r, truth_counts(items));
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_EQ(r.kind, "dynamodb");
  EXPECT_EQ(r.scan.mode, "full");
  EXPECT_EQ(r.scan.items_scanned, 600u);
  EXPECT_EQ(r.scan.segments_total, 4u);
  EXPECT_EQ(r.scan.segments_scanned, 4u);
  EXPECT_FALSE(r.estimated);
  ASSERT_TRUE(r.table_metrics);
  EXPECT_EQ(r.table_metrics->ttl_status, "ENABLED");
  EXPECT_EQ(r.table_metrics->ttl_attribute, "ttl");
  EXPECT_EQ(r.table_metrics->table_status, "ACTIVE");
  EXPECT_EQ(r.table_metrics->item_count.value_or(0), 123456);
  EXPECT_TRUE(r.has_hygiene);

  // Overdue: the oldest expired item is i=591 (591 % 12 == 3): 591 hours.
  EXPECT_DOUBLE_EQ(r.stats.oldest_overdue_seconds(), 3600.0 * 591);
  auto oldest = r.stats.oldest_items();
  ASSERT_FALSE(oldest.empty());
  EXPECT_EQ(oldest[0].key, "pk=user36#s591,sk=meta");

  // Consumed capacity adds up over every page of every segment.
  auto bodies = h.fake.scan_bodies();
  EXPECT_EQ(r.scan.requests, bodies.size() + 2);  // + DescribeTable + DescribeTimeToLive
  double units = 0;
  std::set<uint64_t> segments;
  for (const json& b : bodies) {
    EXPECT_EQ(b["TotalSegments"], 4);
    EXPECT_EQ(b["ReturnConsumedCapacity"], "TOTAL");
    EXPECT_EQ(b["ConsistentRead"], false);
    EXPECT_EQ(b["ProjectionExpression"], "#ttla_k0, #ttla_k1, #ttla_t");
    EXPECT_EQ(b["ExpressionAttributeNames"]["#ttla_t"], "ttl");
    segments.insert(b["Segment"].get<uint64_t>());
  }
  EXPECT_EQ(segments.size(), 4u);
  // 600 items in pages of 9 plus one empty-or-short last page per segment.
  for (uint64_t s = 0; s < 4; ++s) {
    size_t n = 0;
    for (size_t i = 0; i < items.size(); ++i) n += h.fake.segment_of(i, 4) == s;
    size_t pages = n / 9 + 1;
    units += 0.5 * static_cast<double>(n + pages);
  }
  EXPECT_NEAR(r.scan.consumed_read_units, units, 1e-6);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), 600u);
}

TEST(DynamodbSource, ServerSideDropGivesTheSameCounts) {
  Harness h;
  auto with_drop = make_dynamodb_source(test_options());
  TargetReport a = with_drop->audit(h.target(), context());
  auto bodies = h.fake.scan_bodies();
  ASSERT_FALSE(bodies.empty());
  EXPECT_EQ(bodies[0]["FilterExpression"], "NOT (#ttla_t > :ttla_asof AND #ttla_t < :ttla_ms)");

  Harness h2;
  DynamodbSourceOptions o = test_options();
  o.server_side_drop = false;
  TargetReport b = make_dynamodb_source(o)->audit(h2.target(), context());
  EXPECT_FALSE(h2.fake.scan_bodies()[0].contains("FilterExpression"));
  for (int c = 0; c < kItemClassCount; ++c) {
    EXPECT_EQ(a.stats.class_count(static_cast<ItemClass>(c)),
              b.stats.class_count(static_cast<ItemClass>(c)));
  }
  EXPECT_EQ(a.scan.items_scanned, b.scan.items_scanned);
  EXPECT_GT(a.stats.class_count(ItemClass::kNotYetExpired), 0u);
}

TEST(DynamodbSource, ThrottlingAndServiceUnavailableMidScanAreRetriedWithExactTotals) {
  Harness h;
  h.fake.scan_hook = [](int n) -> std::optional<CannedResponse> {
    if (n == 3) {
      return CannedResponse{400, {}, fixture("error_throttling.json")};
    }
    if (n == 6) return CannedResponse{503, {}, ""};
    if (n == 9) {
      return CannedResponse{400, {}, fixture("error_provisioned_throughput.json")};
    }
    return std::nullopt;
  };
  TargetReport r = make_dynamodb_source(test_options())->audit(h.target(), context());
  expect_counts(r, truth_counts(make_table()));
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_EQ(r.scan.items_scanned, 600u);
  EXPECT_GE(r.extra["dynamodb"]["retries"].get<uint64_t>(), 3u);
  EXPECT_GE(r.extra["dynamodb"]["throttles"].get<uint64_t>(), 2u);
}

TEST(DynamodbSource, MalformedPageFailsTheTargetWithAParseError) {
  Harness h;
  h.fake.scan_hook = [](int n) -> std::optional<CannedResponse> {
    if (n == 4) return CannedResponse{200, {}, fixture("scan_page_truncated.json")};
    return std::nullopt;
  };
  try {
    make_dynamodb_source(test_options())->audit(h.target(), context());
    ADD_FAILURE() << "a truncated page was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse) << e.what();
  }
}

TEST(DynamodbSource, ReadBudgetStopsWithPartialStatus) {
  Harness h;
  TargetConfig t = h.target();
  dynamodb_config(t).max_read_units = 20;
  TargetReport r = make_dynamodb_source(test_options())->audit(t, context());
  EXPECT_EQ(r.status, Status::kPartial);
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("read budget of 20 units reached after " +
                          std::to_string(r.scan.items_scanned) + " items"),
            std::string::npos)
      << *r.error;
  EXPECT_GE(r.scan.consumed_read_units, 20.0);
  // At most one page per worker past the budget (a page here costs 5 units).
  EXPECT_LE(r.scan.consumed_read_units, 20.0 + 3 * 5.0);
  EXPECT_LT(r.scan.items_scanned, 600u);
  EXPECT_LT(r.scan.segments_scanned, 4u);
  // What was read is reported.
  uint64_t total = 0;
  for (int c = 0; c < kItemClassCount; ++c) total += r.stats.class_count(static_cast<ItemClass>(c));
  EXPECT_EQ(total, r.scan.items_scanned);
  ASSERT_TRUE(r.scan.full_scan_read_units_estimate);
}

TEST(DynamodbSource, RateLimitSlowsTheScan) {
  Harness h(60);
  TargetConfig t = h.target();
  dynamodb_config(t).segments = 1;
  dynamodb_config(t).max_read_units_per_second = 200;
  auto start = std::chrono::steady_clock::now();
  TargetReport r = make_dynamodb_source(test_options())->audit(t, context());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // 305 units at 200/s with a 200-unit first burst: the 10th page waits until ~0.37 s.
  EXPECT_GT(r.scan.consumed_read_units, 300);
  EXPECT_GE(seconds, 0.33);
  EXPECT_EQ(r.status, Status::kOk);
}

TEST(DynamodbSource, CancelMakesThePartialReport) {
  Harness h;
  std::atomic<bool> cancel{false};
  h.fake.scan_hook = [&](int n) -> std::optional<CannedResponse> {
    if (n == 5) cancel = true;
    return std::nullopt;
  };
  RunContext ctx = context();
  ctx.cancel = &cancel;
  TargetReport r = make_dynamodb_source(test_options())->audit(h.target(), ctx);
  EXPECT_EQ(r.status, Status::kPartial);
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("cancelled"), std::string::npos);
  EXPECT_LT(r.scan.items_scanned, 600u);
}

TEST(DynamodbSource, ShardsTogetherEqualTheFullRun) {
  Harness h;
  TargetConfig t = h.target();
  dynamodb_config(t).segments = 5;  // raised to 6, a multiple of 3 shards
  TargetStats merged;
  uint64_t scanned = 0;
  std::set<uint64_t> seen_segments;
  for (int i = 0; i < 3; ++i) {
    RunContext ctx = context();
    ctx.shard = std::make_pair(i, 3);
    size_t before = h.fake.scan_bodies().size();
    TargetReport r = make_dynamodb_source(test_options())->audit(t, ctx);
    EXPECT_EQ(r.scan.segments_total, 6u);
    EXPECT_EQ(r.scan.segments_scanned, 2u);
    auto bodies = h.fake.scan_bodies();
    for (size_t k = before; k < bodies.size(); ++k) {
      uint64_t s = bodies[k]["Segment"];
      EXPECT_EQ(s % 3, static_cast<uint64_t>(i));
      seen_segments.insert(s);
    }
    merged.merge(r.stats);
    scanned += r.scan.items_scanned;
  }
  EXPECT_EQ(seen_segments.size(), 6u);
  EXPECT_EQ(scanned, 600u);
  auto truth = truth_counts(make_table());
  for (int c = 0; c < kItemClassCount; ++c) {
    const std::string name(class_name(static_cast<ItemClass>(c)));
    EXPECT_EQ(merged.class_count(static_cast<ItemClass>(c)), truth[name]) << name;
  }
}

TEST(DynamodbSource, SampleEstimatesWithAnIntervalAndReadsOnlyItsSegments) {
  Harness h;
  TargetConfig t = h.target();
  dynamodb_config(t).sample = 0.5;
  TargetReport r = make_dynamodb_source(test_options())->audit(t, context());
  EXPECT_EQ(r.scan.mode, "sample");
  EXPECT_TRUE(r.estimated);
  EXPECT_EQ(r.scan.segments_total, 512u);  // 256 sampled segments at 50%
  EXPECT_EQ(r.scan.segments_scanned, 256u);
  EXPECT_EQ(r.scan.seed, context().seed);  // recorded for replay
  EXPECT_DOUBLE_EQ(r.scan.sample_fraction, 0.5);
  std::set<uint64_t> read;
  for (const json& b : h.fake.scan_bodies()) {
    EXPECT_EQ(b["TotalSegments"], 512);
    read.insert(b["Segment"].get<uint64_t>());
  }
  EXPECT_EQ(read.size(), 256u);
  // The sample's own counts are exact for the segments read.
  const auto items = make_table();
  auto truth_read = truth_counts(items, [&](size_t i) {
    return read.count(h.fake.segment_of(i, 512)) > 0;
  });
  expect_counts(r, truth_read);
  // The estimate of the whole table's expired items comes with an interval around it.
  const double truth_expired = static_cast<double>(truth_counts(items)["expired"]);
  EXPECT_LE(r.ci95[0], r.expired_estimate);
  EXPECT_GE(r.ci95[1], r.expired_estimate);
  EXPECT_GE(r.ci95[0], static_cast<double>(truth_read["expired"]));  // never below what was seen
  EXPECT_NEAR(r.expired_estimate, truth_expired, truth_expired * 0.3);
  ASSERT_TRUE(r.scan.full_scan_read_units_estimate);
  EXPECT_GT(*r.scan.full_scan_read_units_estimate, r.scan.consumed_read_units);
  EXPECT_TRUE(r.extra["dynamodb"]["sampling"]["classes"].contains("missing_ttl"));
  // Every class is estimated, each inside its interval, and no interval is below what was seen.
  for (int c = 0; c < kItemClassCount; ++c) {
    const ClassEstimate& e = r.class_estimates[static_cast<size_t>(c)];
    const std::string name(class_name(static_cast<ItemClass>(c)));
    EXPECT_LE(e.low, e.estimate) << name;
    EXPECT_GE(e.high, e.estimate) << name;
    EXPECT_GT(e.high, 0) << name << ": [0, 0] would claim certainty";
    EXPECT_GE(e.low, static_cast<double>(truth_read[name])) << name;
  }
  EXPECT_FALSE(r.expired_bytes_measured);  // the projection carries no sizes

  // Same seed, same segments.
  Harness h2;
  TargetConfig t2 = h2.target();
  dynamodb_config(t2).sample = 0.5;
  make_dynamodb_source(test_options())->audit(t2, context());
  std::set<uint64_t> read2;
  for (const json& b : h2.fake.scan_bodies()) read2.insert(b["Segment"].get<uint64_t>());
  EXPECT_EQ(read, read2);
}

TEST(DynamodbSource, SampleStoppedByItsBudgetKeepsAPrefixOfThePlanWhateverTheSizes) {
  // One item per page, so a segment takes as many requests as it has items: small segments
  // finish first. The budget stop must still keep exactly the segments started, in plan order,
  // each read to its end (no size-dependent selection).
  Harness h(1);
  TargetConfig t = h.target();
  dynamodb_config(t).sample = 0.5;
  dynamodb_config(t).max_read_units = 30;
  TargetReport r = make_dynamodb_source(test_options())->audit(t, context());
  EXPECT_EQ(r.status, Status::kPartial);
  ASSERT_TRUE(r.sample);
  EXPECT_TRUE(r.sample->budget_stopped);
  std::set<uint64_t> started;
  for (const json& b : h.fake.scan_bodies()) started.insert(b["Segment"].get<uint64_t>());
  const sampling::SamplePlan plan = sampling::plan_sample(0.5, context().seed);
  ASSERT_LT(started.size(), plan.segments.size());
  // A prefix of the plan's random order...
  const std::set<uint64_t> prefix(plan.segments.begin(),
                                  plan.segments.begin() + static_cast<long>(started.size()));
  EXPECT_EQ(started, prefix);
  // ...every one of them kept, and read completely.
  std::set<uint64_t> kept;
  for (const SampledSegment& g : r.sample->segments) kept.insert(g.segment);
  EXPECT_EQ(kept, started);
  EXPECT_EQ(r.scan.segments_scanned, started.size());
  const auto items = make_table();
  auto truth_read = truth_counts(items, [&](size_t i) { return started.count(h.fake.segment_of(i, 512)) > 0; });
  expect_counts(r, truth_read);
  EXPECT_TRUE(r.extra["dynamodb"]["sampling"]["budget_stopped"].get<bool>());
}

TEST(DynamodbSource, TtlDisabledIsReportedAndNoAttributeIsAConfigError) {
  {
    Harness h;
    h.fake.ttl_body = fixture("describe_ttl_disabled.json");
    try {
      make_dynamodb_source(test_options())->audit(h.target(), context());
      ADD_FAILURE() << "no error without any TTL attribute";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kConfig);
      EXPECT_STREQ(e.what(),
                   "no TTL attribute: DescribeTimeToLive reports none and ttl_attribute is not set");
    }
    EXPECT_TRUE(h.fake.scan_bodies().empty());
  }
  {
    Harness h;
    h.fake.ttl_body = fixture("describe_ttl_disabled.json");
    TargetConfig t = h.target();
    dynamodb_config(t).ttl_attribute = "ttl";
    TargetReport r = make_dynamodb_source(test_options())->audit(t, context());
    EXPECT_EQ(r.table_metrics->ttl_status, "DISABLED");
    EXPECT_EQ(r.table_metrics->ttl_attribute, "ttl");
    expect_counts(r, truth_counts(make_table()));
  }
}

TEST(DynamodbSource, ConfiguredAttributeOverridesTheTables) {
  Harness h;
  TargetConfig t = h.target();
  dynamodb_config(t).ttl_attribute = "expires_at";  // absent from every item
  TargetReport r = make_dynamodb_source(test_options())->audit(t, context());
  EXPECT_EQ(r.stats.class_count(ItemClass::kMissingTtl), 600u);
  EXPECT_EQ(r.extra["dynamodb"]["table_ttl_attribute"], "ttl");
}

class EnvGuard {
 public:
  explicit EnvGuard(std::vector<std::string> names) : names_(std::move(names)) {
    for (auto& n : names_) {
      const char* v = std::getenv(n.c_str());
      saved_.push_back(v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(n.c_str());
    }
  }
  ~EnvGuard() {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (saved_[i]) {
        ::setenv(names_[i].c_str(), saved_[i]->c_str(), 1);
      } else {
        ::unsetenv(names_[i].c_str());
      }
    }
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::optional<std::string>> saved_;
};

TEST(DynamodbRegion, ConfigThenEnvThenProfileThenLocalEndpoint) {
  EnvGuard guard({"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_PROFILE"});
  const std::string cfg = ::testing::TempDir() + "/ttla_dynamodb_region_config";
  {
    std::ofstream out(cfg);
    out << "[default]\nregion = eu-west-1\n[profile prod]\noutput = json\nregion=ap-south-1\n";
  }
  ::setenv("AWS_CONFIG_FILE", "/nonexistent/ttla", 1);
  TargetConfig t;
  t.name = "x";
  EXPECT_THROW(aws::resolve_region(aws_access(t)), Error);
  t.endpoint_url = "http://127.0.0.1:1";
  EXPECT_EQ(aws::resolve_region(aws_access(t)), "us-east-1");
  ::setenv("AWS_CONFIG_FILE", cfg.c_str(), 1);
  EXPECT_EQ(aws::resolve_region(aws_access(t)), "eu-west-1");
  t.profile = "prod";
  EXPECT_EQ(aws::resolve_region(aws_access(t)), "ap-south-1");
  ::setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
  EXPECT_EQ(aws::resolve_region(aws_access(t)), "us-west-1");
  ::setenv("AWS_REGION", "us-west-2", 1);
  EXPECT_EQ(aws::resolve_region(aws_access(t)), "us-west-2");
  t.region = "sa-east-1";
  EXPECT_EQ(aws::resolve_region(aws_access(t)), "sa-east-1");
  std::remove(cfg.c_str());
}

TEST(DynamodbSegments, FullScanSegmentCount) {
  EXPECT_EQ(full_scan_total_segments(16, std::nullopt, 4, 1), 16u);
  EXPECT_EQ(full_scan_total_segments(0, std::nullopt, 4, 1), 4u);
  EXPECT_EQ(full_scan_total_segments(0, int64_t{10} << 30, 4, 1), 10u);  // one per GiB
  EXPECT_EQ(full_scan_total_segments(0, int64_t{5000} << 30, 4, 1), 1000u);
  EXPECT_EQ(full_scan_total_segments(5, std::nullopt, 4, 3), 6u);
  EXPECT_EQ(full_scan_total_segments(2, std::nullopt, 4, 8), 8u);
}

}  // namespace
}  // namespace ttla
