// Deletion latency from snapshots: the tracked sample, how a run turns disappearances into
// interval-censored observations, the state file (corrupt files are ignored, not fatal), and the
// BatchGetItem request/response shapes.
#include "sources/latency_tracker.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/stats.h"
#include "sources/dynamodb_latency.h"
#include "sources/scan_page.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

TrackedItem item(uint64_t hash, double deadline, int64_t first, int64_t last, std::string key = "") {
  TrackedItem t;
  t.hash = hash;
  t.deadline = deadline;
  t.first_seen = first;
  t.last_seen = last;
  t.key = std::move(key);
  return t;
}

// The sample is the k smallest hashes whatever the split between workers and the order.
TEST(KeySample, BottomKIndependentOfSplit) {
  KeySample whole(5, 42);
  KeySample a(5, 42);
  KeySample b(5, 42);
  for (int i = 0; i < 200; ++i) {
    const std::string key = "pk=user" + std::to_string(i);
    const uint64_t h = whole.hash(key);
    whole.add(h, 1000 + i, key);
    (i % 3 == 0 ? a : b).add(h, 1000 + i, key);
  }
  b.merge(a);
  const auto w = whole.items();
  const auto m = b.items();
  ASSERT_EQ(w.size(), 5u);
  ASSERT_EQ(m.size(), 5u);
  for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ(w[i].hash, m[i].hash);
  for (size_t i = 1; i < w.size(); ++i) EXPECT_LT(w[i - 1].hash, w[i].hash);
  // Another seed picks another sample.
  KeySample other(5, 43);
  for (int i = 0; i < 200; ++i) {
    const std::string key = "pk=user" + std::to_string(i);
    other.add(other.hash(key), 0, key);
  }
  EXPECT_NE(other.items()[0].hash, w[0].hash);
}

TEST(KeySample, RecordsWatchedHashesOnly) {
  std::unordered_set<uint64_t> watch = {7, 9};
  KeySample s(3, 1, &watch);
  s.saw(7);
  s.saw(8);
  EXPECT_EQ(s.seen().size(), 1u);
  EXPECT_EQ(s.seen().count(7), 1u);
}

// Run at 10000 saw three items; at 13600 the first is gone, the second present, the third (a
// larger hash) pushed out by a new smaller one when k = 2.
TEST(LatencyState, AdvanceTurnsDisappearancesIntoIntervals) {
  LatencyState prev;
  prev.target = "t";
  prev.as_of = 10000;
  prev.tracked = {item(10, 9000, 10000, 10000), item(20, 6000, 6400, 10000),
                  item(30, 6200, 6400, 10000)};
  const std::vector<TrackedItem> sampled = {item(5, 13000, 0, 0)};
  LatencyState next = advance_latency_state(
      prev, {Presence::kGone, Presence::kPresent, Presence::kPresent}, sampled, 2, 13600);
  EXPECT_EQ(next.as_of, 13600);
  ASSERT_EQ(next.tracked.size(), 2u);
  EXPECT_EQ(next.tracked[0].hash, 5u);
  EXPECT_EQ(next.tracked[0].first_seen, 13600);
  EXPECT_EQ(next.tracked[1].hash, 20u);
  EXPECT_EQ(next.tracked[1].first_seen, 6400);
  EXPECT_EQ(next.tracked[1].last_seen, 13600);
  ASSERT_EQ(next.observations.size(), 2u);
  // Item 10: first and last seen at age 1000, gone by age 4600.
  EXPECT_DOUBLE_EQ(next.observations[0].ages.entry, 1000);
  EXPECT_DOUBLE_EQ(next.observations[0].ages.left, 1000);
  EXPECT_DOUBLE_EQ(*next.observations[0].ages.right, 4600);
  // Item 30: pushed out of the sample while alive: right-censored at age 7400, entry 200.
  EXPECT_FALSE(next.observations[1].ages.right.has_value());
  EXPECT_DOUBLE_EQ(next.observations[1].ages.entry, 200);
  EXPECT_DOUBLE_EQ(next.observations[1].ages.left, 13600 - 6200);

  // A run at or before the last one learns nothing.
  LatencyState same = advance_latency_state(prev, {}, {}, 3, 10000);
  EXPECT_EQ(same.tracked.size(), 3u);
  EXPECT_TRUE(same.observations.empty());
}

TEST(LatencyState, ObservationsLeaveTheWindow) {
  LatencyState prev;
  prev.as_of = 100;
  StoredObservation old;
  old.ages = {0, 10, 20};
  old.observed_at = 100;
  prev.observations = {old};
  EXPECT_EQ(advance_latency_state(prev, {}, {}, 10, 100 + kLatencyWindowSeconds).observations.size(), 1u);
  EXPECT_TRUE(advance_latency_state(prev, {}, {}, 10, 101 + kLatencyWindowSeconds).observations.empty());
}

// Deletions seen in (600, 4200] and (4200, 7800]: the report's quantiles are the brackets' upper
// ends, the resolution the run spacing; no deletion seen: no quantiles at all (never zeros).
TEST(LatencyReport, QuantilesFromObservations) {
  LatencyState s;
  s.as_of = 20000;
  for (int i = 0; i < 6; ++i) s.observations.push_back({{600, 600, 4200.0}, 20000});
  for (int i = 0; i < 4; ++i) s.observations.push_back({{600, 4200, 7800.0}, 20000});
  nlohmann::json r = latency_report(s, 20000);
  EXPECT_EQ(r["latency_source"], "snapshots");
  EXPECT_EQ(r["latency_observations"], 10);
  EXPECT_EQ(r["latency_resolution_seconds"], 3600);
  EXPECT_EQ(r["latency_seconds_quantiles"]["p50"], 4200);
  EXPECT_EQ(r["latency_seconds_quantiles"]["p90"], 7800);
  EXPECT_EQ(r["latency_seconds_brackets"]["p50"], nlohmann::json::array({600, 4200}));

  LatencyState none;
  none.as_of = 20000;
  none.tracked = {item(1, 19000, 20000, 20000)};
  nlohmann::json n = latency_report(none, 20000);
  EXPECT_EQ(n["latency_observations"], 0);
  EXPECT_FALSE(n.contains("latency_seconds_quantiles"));
  EXPECT_TRUE(n.contains("latency_note"));
}

// A listing that sees every item: listed with the tracked deadline is present, listed with
// another (or none) changed, not listed gone; hashes that are not tracked are ignored.
TEST(ListedItems, PresenceFromACompleteListing) {
  const std::vector<TrackedItem> tracked = {item(1, 100, 200, 200), item(2, 100, 200, 200),
                                            item(3, 150, 200, 200), item(4, 150, 200, 200)};
  ListedItems listed(tracked);
  EXPECT_TRUE(listed.tracks(3));
  EXPECT_FALSE(listed.tracks(9));
  listed.saw(1, 100.0);
  listed.saw(3, 86400.0);       // overwritten: a new deadline
  listed.saw(4, std::nullopt);  // no rule expires it any more
  listed.saw(9, 100.0);         // not tracked
  EXPECT_EQ(listed.presence(), (std::vector<Presence>{Presence::kPresent, Presence::kGone,
                                                      Presence::kChanged, Presence::kChanged}));
}

// A changed item leaves the sample censored at the last run that saw it unchanged (no deletion),
// or without a trace when that run was its first; this run's own sample may pick it up anew.
TEST(LatencyState, ChangedItemsAreCensoredNotDeleted) {
  LatencyState prev;
  prev.as_of = 10000;
  prev.tracked = {item(10, 6000, 6400, 10000), item(20, 9000, 10000, 10000)};
  const std::vector<TrackedItem> sampled = {item(20, 13000, 0, 0)};
  LatencyState next = advance_latency_state(prev, {Presence::kChanged, Presence::kChanged}, sampled, 5, 13600);
  ASSERT_EQ(next.observations.size(), 1u);
  EXPECT_FALSE(next.observations[0].ages.right.has_value());
  EXPECT_DOUBLE_EQ(next.observations[0].ages.entry, 400);
  EXPECT_DOUBLE_EQ(next.observations[0].ages.left, 4000);
  ASSERT_EQ(next.tracked.size(), 1u);
  EXPECT_EQ(next.tracked[0].hash, 20u);
  EXPECT_EQ(next.tracked[0].deadline, 13000);  // the new object's deadline
  EXPECT_EQ(next.tracked[0].first_seen, 13600);
  EXPECT_EQ(latency_report(next, 13600)["latency_observations"], 0);
}

class LatencyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ttla-latency-" + std::to_string(getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(LatencyStoreTest, RoundTripSecretAndCorruption) {
  LatencyStore store(dir_.string(), "parent/table");
  EXPECT_FALSE(store.seed(false).has_value());  // no secret and may not create one
  const auto seed = store.seed(true);
  ASSERT_TRUE(seed);
  EXPECT_EQ(store.seed(false), seed);  // stable
  EXPECT_NE(LatencyStore(dir_.string(), "other").seed(false), seed);  // per target
  EXPECT_EQ(fs::status(dir_ / "latency.secret").permissions() & fs::perms::others_read,
            fs::perms::none);

  LatencyState s;
  s.target = "parent/table";
  s.as_of = 5000;
  s.tracked = {item(0xabc, 4000, 4500, 5000, R"({"pk":{"S":"a\"b"}})")};
  s.observations.push_back({{1, 2, 3.0}, 5000});
  s.observations.push_back({{1, 2, std::nullopt}, 5000});
  store.save(s);
  EXPECT_NE(store.path().find("parent%2Ftable.json"), std::string::npos);
  std::string warning;
  auto back = store.load(&warning);
  ASSERT_TRUE(back) << warning;
  EXPECT_EQ(back->tracked[0].hash, 0xabcu);
  EXPECT_EQ(back->tracked[0].key, R"({"pk":{"S":"a\"b"}})");
  EXPECT_FALSE(back->observations[1].ages.right.has_value());

  for (const std::string& bad :
       {std::string("{not json"), std::string(R"({"version":1})"),
        std::string(R"({"version":1,"target":"parent/table","redacted":false,"as_of":1,"tracked":[{"hash":"xyz","deadline":0,"first_seen":0,"last_seen":0}],"observations":[]})"),
        std::string(R"({"version":1,"target":"parent/table","redacted":false,"as_of":1,"tracked":[],"observations":[[5,3,null,1]]})")}) {
    std::ofstream(store.path(), std::ios::trunc) << bad;
    warning.clear();
    EXPECT_FALSE(store.load(&warning).has_value()) << bad;
    EXPECT_NE(warning.find("ignored"), std::string::npos) << bad;
  }
}

// The scope is kept in the state; a state of another scope (an S3 target pointed at another
// bucket or prefix) or another redact_keys is ignored with a warning and tracking restarts.
TEST_F(LatencyStoreTest, RunIgnoresAStateOfAnotherScope) {
  RunContext ctx;
  ctx.state_dir = dir_.string();
  ctx.may_record_state = true;
  ctx.as_of = 5000;
  {
    LatencyRun run("logs", false, 10, "s3://b/one/", ctx);
    ASSERT_TRUE(run.enabled());
    KeySample sample = run.sample();
    sample.add(sample.hash("b/one/x"), 4000, "one/x");
    const nlohmann::json fields = run.finish(sample, {});
    EXPECT_EQ(fields["latency_tracked"], 1) << fields.dump();
  }
  std::string warning;
  auto saved = LatencyStore(dir_.string(), "logs").load(&warning);
  ASSERT_TRUE(saved) << warning;
  EXPECT_EQ(saved->scope, "s3://b/one/");
  ctx.as_of = 6000;
  LatencyRun same("logs", false, 10, "s3://b/one/", ctx);
  EXPECT_EQ(same.previous().tracked.size(), 1u);
  EXPECT_TRUE(same.needs_presence());
  LatencyRun other("logs", false, 10, "s3://b/two/", ctx);
  EXPECT_TRUE(other.previous().tracked.empty());
  EXPECT_FALSE(other.needs_presence());
  const nlohmann::json fields = other.finish(other.sample(), {});
  EXPECT_NE(fields.value("latency_state_warning", "").find("s3://b/one/"), std::string::npos)
      << fields.dump();
  // Off without a state_dir and in shard runs.
  RunContext none;
  EXPECT_FALSE(LatencyRun("logs", false, 10, "", none).enabled());
  ctx.shard = std::make_pair(0, 2);
  EXPECT_FALSE(LatencyRun("logs", false, 10, "", ctx).enabled());
}

// Shapes from the DynamoDB API reference (BatchGetItem: Responses, UnprocessedKeys,
// ConsumedCapacity list).
TEST(BatchGetItem, RequestAndResponse) {
  const std::string body = dynamodb::batch_get_body(
      "T", {"pk", "sk"}, {R"({"pk":{"S":"a"},"sk":{"N":"1"}})", R"({"pk":{"S":"b"},"sk":{"N":"2"}})"});
  const nlohmann::json j = nlohmann::json::parse(body);
  EXPECT_EQ(j["RequestItems"]["T"]["Keys"].size(), 2u);
  EXPECT_EQ(j["RequestItems"]["T"]["ProjectionExpression"], "#k0, #k1");
  EXPECT_EQ(j["RequestItems"]["T"]["ExpressionAttributeNames"]["#k1"], "sk");
  EXPECT_EQ(j["ReturnConsumedCapacity"], "TOTAL");
  EXPECT_THROW(dynamodb::batch_get_body("T", {"pk"}, {}), Error);

  const auto r = dynamodb::parse_batch_get(
      R"({"Responses":{"T":[{"sk":{"N":"1"},"pk":{"S":"a"}}]},
          "UnprocessedKeys":{"T":{"Keys":[{"pk":{"S":"b"},"sk":{"N":"2"}}],"ProjectionExpression":"#k0, #k1"}},
          "ConsumedCapacity":[{"TableName":"T","CapacityUnits":0.5}]})",
      "T", {"pk", "sk"});
  ASSERT_EQ(r.found.size(), 1u);
  EXPECT_EQ(r.found[0], dynamodb::normalize_key_json(R"({"pk":{"S":"a"},"sk":{"N":"1"}})"));
  ASSERT_EQ(r.unprocessed.size(), 1u);
  EXPECT_DOUBLE_EQ(r.consumed_units, 0.5);
  EXPECT_THROW(dynamodb::parse_batch_get(R"({"message":"x"})", "T", {"pk"}), Error);
  EXPECT_THROW(dynamodb::parse_batch_get(R"({"Responses":{"T":[{"x":{"S":"1"}}]}})", "T", {"pk"}), Error);
}

// The scan parser hands observers the item's key as DynamoDB JSON, escapes intact.
TEST(ScanPageObserver, KeyJsonOfExpiredItems) {
  struct Collect : dynamodb::ExpiredItemObserver {
    void expired(std::string_view key, double deadline, const dynamodb::ScanPageParser& p) override {
      keys.emplace_back(key);
      json.push_back(p.key_json());
      deadlines.push_back(deadline);
    }
    std::vector<std::string> keys, json;
    std::vector<double> deadlines;
  } c;
  dynamodb::ItemSchema schema;
  schema.ttl_attribute = "ttl";
  schema.key_attributes = {"pk", "sk"};
  dynamodb::ScanPageParser parser(schema);
  parser.set_observer(&c);
  std::string page =
      R"({"Items":[{"pk":{"S":"a\"q"},"sk":{"N":"7"},"ttl":{"N":"100"}},)"
      R"({"pk":{"S":"live"},"sk":{"N":"8"},"ttl":{"N":"99999"}}],"Count":2,"ScannedCount":2})";
  TargetStats stats;
  parser.parse(dynamodb::pad_in_place(page), 1000, stats);
  ASSERT_EQ(c.json.size(), 1u);
  EXPECT_EQ(c.keys[0], "pk=a\"q,sk=7");
  EXPECT_DOUBLE_EQ(c.deadlines[0], 100);
  const nlohmann::json k = nlohmann::json::parse(c.json[0]);
  EXPECT_EQ(k["pk"]["S"], "a\"q");
  EXPECT_EQ(k["sk"]["N"], "7");
}

}  // namespace
}  // namespace ttla
