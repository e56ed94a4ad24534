#include "core/stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ttla {
namespace {

using nlohmann::json;

// The nearest-rank quantile the sketch approximates: 1-based rank ceil(q * n), rank 1 for q = 0.
double true_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double rank = std::max(1.0, std::ceil(q * static_cast<double>(v.size())));
  return v[static_cast<size_t>(rank) - 1];
}

void expect_within(double got, double want, double rel, const std::string& what) {
  if (want < 1) {
    EXPECT_EQ(got, 0) << what;
  } else {
    EXPECT_LE(std::abs(got - want), rel * want) << what << ": got " << got << " want " << want;
  }
}

// ------------------------------------------------------------------------------ QuantileSketch

TEST(QuantileSketch, EmptyReportsZero) {
  QuantileSketch s;
  EXPECT_EQ(s.count(), 0u);
  EXPECT_EQ(s.quantile(0.5), 0);
  EXPECT_EQ(s.quantile(1.0), 0);
}

TEST(QuantileSketch, SingleValueWithinAccuracy) {
  QuantileSketch s;
  s.add(86400);
  EXPECT_EQ(s.count(), 1u);
  for (double q : {0.0, 0.5, 0.99, 1.0}) expect_within(s.quantile(q), 86400, 0.005, "single");
}

TEST(QuantileSketch, ValuesBelowOneReportAsZero) {
  QuantileSketch s;
  s.add(0.25);
  s.add(0);
  s.add(-3);
  s.add(100, 1);
  EXPECT_EQ(s.count(), 4u);
  EXPECT_EQ(s.quantile(0.0), 0);
  EXPECT_EQ(s.quantile(0.5), 0);  // index floor(0.5*3) = 1 -> still in the zero bucket
  expect_within(s.quantile(1.0), 100, 0.005, "max");
}

TEST(QuantileSketch, WeightedAddEqualsRepeatedAdd) {
  QuantileSketch a, b;
  a.add(500, 7);
  for (int i = 0; i < 7; ++i) b.add(500);
  EXPECT_EQ(a.to_json(), b.to_json());
}

TEST(QuantileSketch, QuantilesWithinOnePercentOnSkewedData) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> dist(11, 2.5);  // seconds .. years, heavy tail
    std::vector<double> values;
    QuantileSketch s;
    for (int i = 0; i < 20000; ++i) {
      double v = dist(rng);
      values.push_back(v);
      s.add(v);
    }
    for (double q : {0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0}) {
      expect_within(s.quantile(q), true_quantile(values, q), 0.01,
                    "seed " + std::to_string(seed) + " q " + std::to_string(q));
    }
  }
}

TEST(QuantileSketch, RelativeAccuracyIsHonoured) {
  // Every single value must come back within alpha (0.5%), not only within 1%.
  for (double v = 1; v < 1e10; v *= 1.013) {
    QuantileSketch one;
    one.add(v);
    ASSERT_LE(std::abs(one.quantile(0.5) - v), 0.005 * v * (1 + 1e-9)) << v;
  }
}

TEST(QuantileSketch, MemoryIndependentOfCount) {
  QuantileSketch s;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(3600, 86400 * 30);
  for (int i = 0; i < 200000; ++i) s.add(dist(rng));
  size_t buckets = s.to_json()["counts"].size();
  // log(720)/log(1.01005) ~= 658 buckets for a 1h..30d range.
  EXPECT_LT(buckets, 700u);
  EXPECT_GT(buckets, 600u);
}

TEST(QuantileSketch, GrowsAtBothEnds) {
  QuantileSketch s;
  s.add(1000);
  s.add(10);      // below the first bucket
  s.add(1e8);     // above the last
  s.add(1.5);
  EXPECT_EQ(s.count(), 4u);
  expect_within(s.quantile(0), 1.5, 0.005, "min");
  expect_within(s.quantile(1.0 / 3), 10, 0.005, "q1/3");
  expect_within(s.quantile(2.0 / 3), 1000, 0.005, "q2/3");
  expect_within(s.quantile(1), 1e8, 0.005, "max");
}

TEST(QuantileSketch, MergeEqualsSingleSketch) {
  std::mt19937_64 rng(11);
  std::exponential_distribution<double> dist(1.0 / 50000);
  QuantileSketch whole, a, b, empty;
  for (int i = 0; i < 5000; ++i) {
    double v = dist(rng) * (i % 3 == 0 ? 100 : 1);
    whole.add(v);
    (i % 2 ? a : b).add(v);
  }
  QuantileSketch ab = a, ba = b;
  ab.merge(b);
  ba.merge(a);
  EXPECT_EQ(ab.to_json(), whole.to_json());
  EXPECT_EQ(ba.to_json(), whole.to_json());
  QuantileSketch e = empty;
  e.merge(whole);
  EXPECT_EQ(e.to_json(), whole.to_json());
  QuantileSketch w = whole;
  w.merge(empty);
  EXPECT_EQ(w.to_json(), whole.to_json());
}

TEST(QuantileSketch, MergeOfDifferentAccuracyStaysClose) {
  QuantileSketch fine(0.005), coarse(0.02);
  std::vector<double> values;
  for (int i = 1; i <= 1000; ++i) {
    double v = 100.0 * i;
    values.push_back(v);
    (i % 2 ? fine : coarse).add(v);
  }
  fine.merge(coarse);
  EXPECT_EQ(fine.count(), 1000u);
  for (double q : {0.1, 0.5, 0.9}) expect_within(fine.quantile(q), true_quantile(values, q), 0.03, "mixed");
}

TEST(QuantileSketch, JsonRoundTrip) {
  QuantileSketch s;
  for (double v : {0.5, 3.0, 3600.0, 7200.0, 1e7}) s.add(v, 3);
  json j = s.to_json();
  QuantileSketch back = QuantileSketch::from_json(json::parse(j.dump()));
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(back.count(), 15u);
  EXPECT_EQ(back.quantile(0.5), s.quantile(0.5));
}

TEST(QuantileSketch, FromJsonRejectsInconsistentState) {
  QuantileSketch s;
  s.add(10);
  json j = s.to_json();
  j["count"] = 5;
  EXPECT_THROW(QuantileSketch::from_json(j), Error);
  json k = s.to_json();
  k.erase("counts");
  EXPECT_THROW(QuantileSketch::from_json(k), Error);
  json m = s.to_json();
  m["relative_accuracy"] = 2;
  EXPECT_THROW(QuantileSketch::from_json(m), Error);
  EXPECT_THROW(QuantileSketch::from_json(json("nope")), Error);
}

TEST(QuantileSketch, RejectsBadAccuracy) {
  EXPECT_THROW(QuantileSketch(0), Error);
  EXPECT_THROW(QuantileSketch(1), Error);
}

// ---------------------------------------------------------------------------- OverdueHistogram

TEST(OverdueHistogram, BoundsMatchDocumentation) {
  std::vector<double> want = {3600, 21600, 43200, 86400, 172800, 259200, 604800, 1209600,
                              2592000, 7776000, 31536000};
  EXPECT_EQ(OverdueHistogram::bounds(), want);
}

TEST(OverdueHistogram, LeIsInclusiveAndCumulative) {
  OverdueHistogram h;
  h.add(0);
  h.add(3600);       // exactly on the first bound: le 3600
  h.add(3601);       // next bucket
  h.add(86400 * 2);  // le 172800
  h.add(1e9, 2);     // +Inf only
  auto cum = h.cumulative();
  ASSERT_EQ(cum.size(), 12u);
  EXPECT_EQ(cum[0], 2u);   // le 1h
  EXPECT_EQ(cum[1], 3u);   // le 6h
  EXPECT_EQ(cum[3], 3u);   // le 1d
  EXPECT_EQ(cum[4], 4u);   // le 2d
  EXPECT_EQ(cum[10], 4u);  // le 365d
  EXPECT_EQ(cum[11], 6u);  // +Inf == total
  EXPECT_DOUBLE_EQ(h.sum(), 0 + 3600 + 3601 + 172800 + 2e9);
}

TEST(OverdueHistogram, JsonShape) {
  OverdueHistogram h;
  h.add(100);
  json j = h.to_json();
  ASSERT_EQ(j.size(), 12u);
  EXPECT_EQ(j[0], json({{"le", 3600}, {"count", 1}}));
  EXPECT_EQ(j[11]["le"], "+Inf");
  EXPECT_EQ(j[11]["count"], 1);
}

TEST(OverdueHistogram, RoundTripsBothShapes) {
  OverdueHistogram h;
  for (double v : {10.0, 7000.0, 90000.0, 5e6, 1e8}) h.add(v, 2);
  OverdueHistogram a = OverdueHistogram::from_json(h.to_json());
  EXPECT_EQ(a.cumulative(), h.cumulative());
  EXPECT_EQ(a.sum(), 0);
  OverdueHistogram b = OverdueHistogram::from_json(json::parse(h.to_state().dump()));
  EXPECT_EQ(b.cumulative(), h.cumulative());
  EXPECT_DOUBLE_EQ(b.sum(), h.sum());
}

TEST(OverdueHistogram, FromJsonRejectsBadInput) {
  OverdueHistogram h;
  h.add(10);
  json wrong_le = h.to_json();
  wrong_le[2]["le"] = 1;
  EXPECT_THROW(OverdueHistogram::from_json(wrong_le), Error);
  json not_cumulative = h.to_json();
  not_cumulative[5]["count"] = 0;
  EXPECT_THROW(OverdueHistogram::from_json(not_cumulative), Error);
  json short_one = h.to_json();
  short_one.erase(3);
  EXPECT_THROW(OverdueHistogram::from_json(short_one), Error);
}

TEST(OverdueHistogram, MergeAddsBuckets) {
  OverdueHistogram a, b, whole;
  for (int i = 0; i < 100; ++i) {
    double v = i * 40000.0;
    whole.add(v);
    (i % 3 ? a : b).add(v);
  }
  a.merge(b);
  EXPECT_EQ(a.cumulative(), whole.cumulative());
  EXPECT_DOUBLE_EQ(a.sum(), whole.sum());
}

// ------------------------------------------------------------------------------------ hashing

TEST(SeededHash, StableAndSeedDependent) {
  EXPECT_EQ(seeded_hash("pk=user1#s1", 0), seeded_hash("pk=user1#s1", 0));
  EXPECT_NE(seeded_hash("pk=user1#s1", 0), seeded_hash("pk=user1#s1", 1));
  EXPECT_NE(seeded_hash("pk=user1#s1", 0), seeded_hash("pk=user1#s2", 0));
  EXPECT_NE(seeded_hash("", 0), seeded_hash(std::string_view("\0", 1), 0));
  EXPECT_NE(seeded_hash("abcdefgh", 0), seeded_hash(std::string_view("abcdefgh\0", 9), 0));
}

TEST(SeededHash, PinnedValuesKeepSamplesComparableAcrossVersions) {
  // Shard reports from different builds/machines must agree on priorities. These values were
  // computed by this implementation when it was written; a change here changes every persisted
  // sample and makes old shard reports unmergeable with new ones.
  EXPECT_EQ(seeded_hash("abc", 0), 1234775067777174510ULL);
  EXPECT_EQ(seeded_hash("pk=user1#s1,sk=meta", 42), 5534888397812112734ULL);
  EXPECT_EQ(seeded_hash("", 0), 5197578548964807871ULL);
  EXPECT_EQ(seeded_hash("0123456789abcdef", 7), 18016495025458495710ULL);
  EXPECT_EQ(redact_key("pk=user1", 0), "hash:48ef622eef053e7f");
  std::set<uint64_t> distinct;
  for (int i = 0; i < 10000; ++i) distinct.insert(seeded_hash("key" + std::to_string(i), 42));
  EXPECT_EQ(distinct.size(), 10000u);
}

TEST(SeededHash, UniformEnoughForSampling) {
  // Fraction of hashes below 2^64/4 over sequential keys should be close to 25%.
  int below = 0;
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    if (seeded_hash("user" + std::to_string(i) + "#session", 7) < (1ULL << 62)) ++below;
  }
  EXPECT_NEAR(below / static_cast<double>(n), 0.25, 0.015);
}

TEST(RedactKey, NeverContainsTheKey) {
  std::string r = redact_key("pk=alice@example.com", 0);
  EXPECT_EQ(r.rfind("hash:", 0), 0u);
  EXPECT_EQ(r.size(), 5u + 16u);
  EXPECT_EQ(r.find("alice"), std::string::npos);
  EXPECT_EQ(r, redact_key("pk=alice@example.com", 0));
  EXPECT_NE(r, redact_key("pk=bob@example.com", 0));
}

// ---------------------------------------------------------------------------------- TopGroups

TEST(TopGroups, ExactWithinCapacity) {
  TopGroups g(8);
  std::map<std::string, uint64_t> truth;
  std::mt19937 rng(5);
  for (int i = 0; i < 5000; ++i) {
    std::string name = "user" + std::to_string(rng() % 8);
    uint64_t n = 1 + rng() % 3;
    g.add(name, n);
    truth[name] += n;
  }
  EXPECT_EQ(g.error_bound(), 0u);
  auto top = g.top(100);
  ASSERT_EQ(top.size(), truth.size());
  for (const auto& [name, n] : top) EXPECT_EQ(n, truth[name]) << name;
  for (size_t i = 1; i < top.size(); ++i) EXPECT_GE(top[i - 1].second, top[i].second);
}

TEST(TopGroups, OrderIsCountDescThenName) {
  TopGroups g;
  g.add("b", 2);
  g.add("a", 2);
  g.add("c", 5);
  g.add("d", 1);
  auto top = g.top(3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0], std::make_pair(std::string("c"), uint64_t{5}));
  EXPECT_EQ(top[1].first, "a");
  EXPECT_EQ(top[2].first, "b");
}

TEST(TopGroups, HeavyHittersSurviveWithBoundedError) {
  const size_t capacity = 16;
  TopGroups g(capacity);
  std::map<std::string, uint64_t> truth;
  std::mt19937 rng(9);
  uint64_t total = 0;
  for (int i = 0; i < 50000; ++i) {
    // 3 heavy groups (~40% of the stream) and a long tail of 5000 singletons-ish.
    std::string name = (rng() % 10 < 4) ? "heavy" + std::to_string(rng() % 3)
                                         : "tail" + std::to_string(rng() % 5000);
    g.add(name);
    truth[name]++;
    total++;
  }
  EXPECT_GT(g.error_bound(), 0u);
  EXPECT_LE(g.error_bound(), total / (capacity + 1));
  auto top = g.top(3);
  ASSERT_EQ(top.size(), 3u);
  for (const auto& [name, n] : top) {
    EXPECT_EQ(name.rfind("heavy", 0), 0u) << name;
    EXPECT_LE(n, truth[name]);
    EXPECT_GE(n + g.error_bound(), truth[name]);
  }
  // Every reported count is an underestimate by at most the bound.
  for (const auto& [name, n] : g.top(1000)) {
    EXPECT_LE(n, truth[name]);
    EXPECT_GE(n + g.error_bound(), truth[name]);
  }
  EXPECT_LE(g.top(100000).size(), 2 * capacity);
}

TEST(TopGroups, MergeWithinCapacityIsExact) {
  TopGroups a(32), b(32), whole(32);
  for (int i = 0; i < 300; ++i) {
    std::string name = "g" + std::to_string(i % 20);
    whole.add(name);
    (i % 4 ? a : b).add(name);
  }
  TopGroups ab = a, ba = b;
  ab.merge(b);
  ba.merge(a);
  EXPECT_EQ(ab.top(100), whole.top(100));
  EXPECT_EQ(ba.top(100), whole.top(100));
  EXPECT_EQ(ab.to_json(), whole.to_json());
}

TEST(TopGroups, MergeBeyondCapacityKeepsBound) {
  const size_t capacity = 8;
  std::vector<TopGroups> parts(4, TopGroups(capacity));
  std::map<std::string, uint64_t> truth;
  uint64_t total = 0;
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) {
    std::string name = rng() % 3 == 0 ? "hot" : "t" + std::to_string(rng() % 400);
    parts[rng() % 4].add(name);
    truth[name]++;
    total++;
  }
  TopGroups merged(capacity);
  for (const auto& p : parts) merged.merge(p);
  EXPECT_LE(merged.error_bound(), total / (capacity + 1));
  auto top = merged.top(1);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].first, "hot");
  EXPECT_LE(top[0].second, truth["hot"]);
  EXPECT_GE(top[0].second + merged.error_bound(), truth["hot"]);
}

TEST(TopGroups, JsonRoundTrip) {
  TopGroups g(4);
  for (int i = 0; i < 50; ++i) g.add("g" + std::to_string(i % 11), 1 + i % 3);
  TopGroups back = TopGroups::from_json(json::parse(g.to_json().dump()));
  EXPECT_EQ(back.to_json(), g.to_json());
  EXPECT_EQ(back.top(5), g.top(5));
  EXPECT_EQ(back.error_bound(), g.error_bound());
  EXPECT_THROW(TopGroups::from_json(json{{"capacity", 4}, {"error", 0}, {"counts", {{"x", -1}}}}), Error);
}

// -------------------------------------------------------------------------------- TargetStats

constexpr double kAsOf = 1795341600;

TEST(TargetStats, EmptyIsAllZero) {
  TargetStats s;
  EXPECT_EQ(s.expired_count(), 0u);
  EXPECT_EQ(s.oldest_overdue_seconds(), 0);
  EXPECT_EQ(s.newest_overdue_seconds(), 0);
  EXPECT_TRUE(s.oldest_items().empty());
  EXPECT_TRUE(s.sample_items().empty());
  EXPECT_TRUE(s.top_groups().empty());
}

TEST(TargetStats, CountsClassesAndBytes) {
  TargetStats s;
  s.count(ItemClass::kMissingTtl, 3);
  s.count(ItemClass::kNotYetExpired);
  s.add_expired("k1", kAsOf - 100, 100, 10, "");
  s.add_expired("k2", kAsOf - 5000, 5000, 20, "");
  EXPECT_EQ(s.expired_count(), 2u);
  EXPECT_EQ(s.class_count(ItemClass::kMissingTtl), 3u);
  EXPECT_EQ(s.class_count(ItemClass::kNotYetExpired), 1u);
  EXPECT_EQ(s.class_count(ItemClass::kBeyondFiveYears), 0u);
  EXPECT_EQ(s.expired_bytes(), 30u);
  EXPECT_EQ(s.oldest_overdue_seconds(), 5000);
  EXPECT_EQ(s.newest_overdue_seconds(), 100);
  EXPECT_EQ(s.sketch().count(), 2u);
  EXPECT_EQ(s.histogram().cumulative().back(), 2u);
}

TEST(TargetStats, MinMaxAreExactIncludingZeroAndFractions) {
  TargetStats s;
  s.add_expired("a", kAsOf, 0, 0, "");
  s.add_expired("b", kAsOf - 12.75, 12.75, 0, "");
  EXPECT_EQ(s.newest_overdue_seconds(), 0);
  EXPECT_EQ(s.oldest_overdue_seconds(), 12.75);
}

TEST(TargetStats, OldestItemsAreTheKLargestSortedDescending) {
  StatsOptions o;
  o.k = 5;
  TargetStats s(o);
  std::vector<int> order(100);
  for (int i = 0; i < 100; ++i) order[static_cast<size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(1));
  for (int i : order) {
    s.add_expired("item" + std::to_string(i), kAsOf - i * 60.0, i * 60.0, static_cast<uint64_t>(i), "");
  }
  auto oldest = s.oldest_items();
  ASSERT_EQ(oldest.size(), 5u);
  for (size_t j = 0; j < 5; ++j) {
    EXPECT_EQ(oldest[j].key, "item" + std::to_string(99 - j));
    EXPECT_EQ(oldest[j].overdue_seconds, (99 - static_cast<int>(j)) * 60.0);
    EXPECT_EQ(oldest[j].deadline, kAsOf - (99 - static_cast<int>(j)) * 60.0);
    EXPECT_EQ(oldest[j].bytes, static_cast<uint64_t>(99 - j));
  }
}

TEST(TargetStats, SampleIsBottomKByPriority) {
  StatsOptions o;
  o.k = 10;
  o.seed = 99;
  TargetStats s(o);
  std::vector<std::pair<uint64_t, std::string>> prio;
  for (int i = 0; i < 1000; ++i) {
    std::string key = "pk=u" + std::to_string(i);
    s.add_expired(key, kAsOf - i, i, 0, "");
    prio.emplace_back(seeded_hash(key, 99), key);
  }
  std::sort(prio.begin(), prio.end());
  std::set<std::string> want, got;
  for (int i = 0; i < 10; ++i) want.insert(prio[static_cast<size_t>(i)].second);
  for (const auto& r : s.sample_items()) {
    got.insert(r.key);
    EXPECT_EQ(r.priority, seeded_hash(r.key, 99));
  }
  EXPECT_EQ(got, want);
}

TEST(TargetStats, SampleIsIndependentOfInsertionOrderAndDependsOnSeed) {
  auto run = [](uint64_t seed, uint32_t shuffle_seed) {
    StatsOptions o;
    o.k = 8;
    o.seed = seed;
    TargetStats s(o);
    std::vector<int> ids(500);
    for (int i = 0; i < 500; ++i) ids[static_cast<size_t>(i)] = i;
    std::shuffle(ids.begin(), ids.end(), std::mt19937(shuffle_seed));
    for (int i : ids) s.add_expired("k" + std::to_string(i), kAsOf - i, i, 0, "");
    std::vector<std::string> keys;
    for (const auto& r : s.sample_items()) keys.push_back(r.key);
    return keys;
  };
  EXPECT_EQ(run(1, 1), run(1, 2));
  EXPECT_EQ(run(1, 1), run(1, 3));
  EXPECT_NE(run(1, 1), run(2, 1));
}

TEST(TargetStats, SampleIsRoughlyUniform) {
  // Over many seeds, each of 20 keys should be sampled (k=5) about 25% of the time.
  std::map<std::string, int> hits;
  const int seeds = 2000;
  for (int seed = 0; seed < seeds; ++seed) {
    StatsOptions o;
    o.k = 5;
    o.seed = static_cast<uint64_t>(seed);
    TargetStats s(o);
    for (int i = 0; i < 20; ++i) s.add_expired("key" + std::to_string(i), kAsOf - i, i, 0, "");
    for (const auto& r : s.sample_items()) hits[r.key]++;
  }
  ASSERT_EQ(hits.size(), 20u);
  for (const auto& [key, n] : hits) EXPECT_NEAR(n / static_cast<double>(seeds), 0.25, 0.05) << key;
}

TEST(TargetStats, RedactedKeysNeverStoreTheRawValue) {
  StatsOptions o;
  o.k = 3;
  o.redact_keys = true;
  TargetStats s(o);
  for (int i = 0; i < 20; ++i) s.add_expired("secret-user-" + std::to_string(i), kAsOf - i, i, 0, "");
  for (const auto& r : s.oldest_items()) {
    EXPECT_EQ(r.key.rfind("hash:", 0), 0u) << r.key;
    EXPECT_EQ(r.key.find("secret"), std::string::npos);
  }
  ASSERT_FALSE(s.sample_items().empty());
  for (const auto& r : s.sample_items()) EXPECT_EQ(r.key.find("secret"), std::string::npos);
  EXPECT_EQ(s.to_state().dump().find("secret"), std::string::npos);
  EXPECT_EQ(s.oldest_items()[0].key, redact_key("secret-user-19", 0));
}

TEST(TargetStats, KZeroKeepsNoItems) {
  StatsOptions o;
  o.k = 0;
  TargetStats s(o);
  s.add_expired("a", kAsOf - 1, 1, 0, "g");
  EXPECT_TRUE(s.oldest_items().empty());
  EXPECT_TRUE(s.sample_items().empty());
  EXPECT_EQ(s.expired_count(), 1u);
}

TEST(TargetStats, GroupsCountExpiredItems) {
  StatsOptions o;
  o.top_groups = 2;
  TargetStats s(o);
  for (int i = 0; i < 10; ++i) s.add_expired("k" + std::to_string(i), kAsOf - i, i, 0, i < 6 ? "a" : (i < 9 ? "b" : "c"));
  s.add_expired("x", kAsOf, 0, 0, "");  // not grouped
  auto top = s.top_groups();
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0], std::make_pair(std::string("a"), uint64_t{6}));
  EXPECT_EQ(top[1], std::make_pair(std::string("b"), uint64_t{3}));
}

TEST(TargetStats, StateRoundTripPreservesEverything) {
  StatsOptions o;
  o.k = 4;
  o.seed = 0xFFFFFFFFFFFFFFFFULL;  // full 64-bit seeds survive JSON
  o.top_groups = 3;
  TargetStats s(o);
  s.count(ItemClass::kNonNumericTtl, 2);
  s.count(ItemClass::kMillisecondsTtl, 5);
  for (int i = 0; i < 50; ++i) {
    s.add_expired("key" + std::to_string(i), kAsOf - i * 1000.5, i * 1000.5, 100 + static_cast<uint64_t>(i),
                  "g" + std::to_string(i % 5));
  }
  json state = s.to_state();
  TargetStats back = TargetStats::from_state(json::parse(state.dump()));
  EXPECT_EQ(back.to_state(), state);
  EXPECT_EQ(back.expired_count(), 50u);
  EXPECT_EQ(back.class_count(ItemClass::kMillisecondsTtl), 5u);
  EXPECT_EQ(back.options().seed, o.seed);
  EXPECT_EQ(back.oldest_overdue_seconds(), s.oldest_overdue_seconds());
  ASSERT_EQ(back.sample_items().size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(back.sample_items()[i].key, s.sample_items()[i].key);
    EXPECT_EQ(back.sample_items()[i].priority, s.sample_items()[i].priority);
  }
  EXPECT_EQ(back.top_groups(), s.top_groups());
  EXPECT_DOUBLE_EQ(back.histogram().sum(), s.histogram().sum());
}

TEST(TargetStats, FromStateRejectsGarbage) {
  EXPECT_THROW(TargetStats::from_state(json::object()), Error);
  EXPECT_THROW(TargetStats::from_state(json::array()), Error);
  json st = TargetStats().to_state();
  st["version"] = 2;
  EXPECT_THROW(TargetStats::from_state(st), Error);
  json bad_prio = TargetStats().to_state();
  bad_prio["oldest"] = json::array({{{"key", "a"}, {"deadline", 1}, {"overdue_seconds", 1}, {"priority", "xyz"}}});
  EXPECT_THROW(TargetStats::from_state(bad_prio), Error);
  json wrong_type = TargetStats().to_state();
  wrong_type["expired_bytes"] = "many";
  EXPECT_THROW(TargetStats::from_state(wrong_type), Error);
}

TEST(ItemRefJson, ReportShape) {
  ItemRef r{"pk=a", 1700000000.5, 42.5, 0, 77};
  json j = r;
  EXPECT_EQ(j["key"], "pk=a");
  EXPECT_EQ(j["deadline"], 1700000000.5);
  EXPECT_EQ(j["deadline_at"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(j["overdue_seconds"], 42.5);
  EXPECT_FALSE(j.contains("bytes"));
  EXPECT_FALSE(j.contains("priority"));
  r.bytes = 9;
  json k = r;
  EXPECT_EQ(k["bytes"], 9);
  ItemRef back = k.get<ItemRef>();
  EXPECT_EQ(back.key, "pk=a");
  EXPECT_EQ(back.bytes, 9u);
  EXPECT_EQ(back.priority, 0u);
}

}  // namespace
}  // namespace ttla
