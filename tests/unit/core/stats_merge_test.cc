// The merge contract (ARCHITECTURE example 5): merge(a, b) equals the statistics of a ∪ b, in any
// order, including empty sides. Exact for counts, bytes, min/max, oldest items, the reservoir
// sample, the histogram and the sketch buckets; quantiles within 1% of the sorted truth; top
// groups exact while the distinct groups fit the capacity.
#include <algorithm>
#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/stats.h"

namespace ttla {
namespace {

using nlohmann::json;

constexpr double kAsOf = 1795341600;

struct Item {
  std::string key;
  double overdue;
  uint64_t bytes;
  std::string group;
};

// Items shaped like a DynamoDB scan: composite keys, overdue from minutes to years, and for some
// seeds many exact ties in overdue (whole hours) so tie-breaking is exercised.
std::vector<Item> make_items(uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> overdue(10, 2);
  const bool ties = seed % 2 == 0;
  std::vector<Item> items;
  items.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Item it;
    it.key = "pk=user" + std::to_string(rng() % 5000) + "#sess" + std::to_string(i) + ",sk=meta";
    double v = std::min(overdue(rng), 1.5e8);
    it.overdue = ties ? std::floor(v / 3600) * 3600 : v;
    it.bytes = 100 + rng() % 4000;
    it.group = (rng() % 5 == 0) ? "" : "user" + std::to_string(rng() % 40);
    items.push_back(std::move(it));
  }
  return items;
}

void add_all(TargetStats& s, const std::vector<const Item*>& items) {
  for (const Item* it : items) s.add_expired(it->key, kAsOf - it->overdue, it->overdue, it->bytes, it->group);
}

// State minus the histogram's floating-point sum, whose last bits depend on summation order.
json comparable_state(const TargetStats& s) {
  json st = s.to_state();
  st["histogram"].erase("sum");
  return st;
}

void expect_same_items(const std::vector<ItemRef>& a, const std::vector<ItemRef>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key) << what << " #" << i;
    EXPECT_EQ(a[i].overdue_seconds, b[i].overdue_seconds) << what << " #" << i;
    EXPECT_EQ(a[i].deadline, b[i].deadline) << what << " #" << i;
    EXPECT_EQ(a[i].bytes, b[i].bytes) << what << " #" << i;
    EXPECT_EQ(a[i].priority, b[i].priority) << what << " #" << i;
  }
}

void expect_equivalent(const TargetStats& merged, const TargetStats& whole, const std::string& what) {
  SCOPED_TRACE(what);
  for (int c = 0; c < kItemClassCount; ++c) {
    EXPECT_EQ(merged.class_count(static_cast<ItemClass>(c)), whole.class_count(static_cast<ItemClass>(c)));
  }
  EXPECT_EQ(merged.expired_bytes(), whole.expired_bytes());
  EXPECT_EQ(merged.oldest_overdue_seconds(), whole.oldest_overdue_seconds());
  EXPECT_EQ(merged.newest_overdue_seconds(), whole.newest_overdue_seconds());
  EXPECT_EQ(merged.histogram().cumulative(), whole.histogram().cumulative());
  EXPECT_NEAR(merged.histogram().sum(), whole.histogram().sum(), 1e-9 * std::abs(whole.histogram().sum()) + 1e-6);
  EXPECT_EQ(merged.sketch().to_json(), whole.sketch().to_json());
  expect_same_items(merged.oldest_items(), whole.oldest_items(), "oldest");
  expect_same_items(merged.sample_items(), whole.sample_items(), "sample");
  EXPECT_EQ(merged.top_groups(), whole.top_groups());
  EXPECT_EQ(comparable_state(merged), comparable_state(whole));
}

double true_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double rank = std::max(1.0, std::ceil(q * static_cast<double>(v.size())));
  return v[static_cast<size_t>(rank) - 1];
}

class MergeContract : public ::testing::TestWithParam<uint64_t> {};

TEST_P(MergeContract, ShardedEqualsWholeInAnyOrder) {
  const uint64_t seed = GetParam();
  std::mt19937_64 rng(seed * 7919 + 1);
  const size_t n = 3000 + seed * 500;
  std::vector<Item> items = make_items(seed, n);

  StatsOptions options;
  options.k = 10;
  options.seed = seed;
  options.redact_keys = seed % 3 == 0;
  options.top_groups = 10;

  // The whole population in one shuffled order...
  std::vector<const Item*> order;
  for (const Item& it : items) order.push_back(&it);
  std::shuffle(order.begin(), order.end(), rng);
  TargetStats whole(options);
  add_all(whole, order);
  whole.count(ItemClass::kMissingTtl, 7);
  whole.count(ItemClass::kNotYetExpired, 11);

  // ...and split across 2..6 shards (some possibly empty) in another order.
  const size_t shards = 2 + rng() % 5;
  std::vector<std::vector<const Item*>> split(shards);
  std::shuffle(order.begin(), order.end(), rng);
  for (const Item* it : order) split[rng() % (shards - (seed % 4 == 1 ? 1 : 0))].push_back(it);
  std::vector<TargetStats> parts(shards, TargetStats(options));
  for (size_t i = 0; i < shards; ++i) add_all(parts[i], split[i]);
  parts[0].count(ItemClass::kMissingTtl, 3);
  parts[shards - 1].count(ItemClass::kMissingTtl, 4);
  parts[rng() % shards].count(ItemClass::kNotYetExpired, 11);

  // Left fold in index order.
  TargetStats fold(options);
  for (const auto& p : parts) fold.merge(p);
  expect_equivalent(fold, whole, "left fold");

  // Reverse order, starting from a part rather than an empty accumulator.
  TargetStats reverse = parts.back();
  for (size_t i = shards - 1; i-- > 0;) reverse.merge(parts[i]);
  expect_equivalent(reverse, whole, "reverse fold");

  // Pairwise tree, with every other part sent through its JSON state first (a shard report).
  std::vector<TargetStats> level;
  for (size_t i = 0; i < shards; ++i) {
    level.push_back(i % 2 ? TargetStats::from_state(json::parse(parts[i].to_state().dump())) : parts[i]);
  }
  while (level.size() > 1) {
    std::vector<TargetStats> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      TargetStats m = level[i + 1];
      m.merge(level[i]);
      next.push_back(std::move(m));
    }
    if (level.size() % 2) next.push_back(level.back());
    level = std::move(next);
  }
  expect_equivalent(level[0], whole, "tree via state");

  // Quantiles of the merged sketch against the sorted truth.
  std::vector<double> overdue;
  for (const Item& it : items) overdue.push_back(it.overdue);
  for (double q : {0.5, 0.9, 0.99}) {
    double want = true_quantile(overdue, q);
    double got = fold.sketch().quantile(q);
    if (want < 1) {
      EXPECT_EQ(got, 0);
    } else {
      EXPECT_LE(std::abs(got - want), 0.01 * want) << "q=" << q << " got " << got << " want " << want;
    }
  }
  // Exact oldest item equals the true maximum.
  EXPECT_EQ(fold.oldest_items().front().overdue_seconds, *std::max_element(overdue.begin(), overdue.end()));
}

INSTANTIATE_TEST_SUITE_P(Seeds, MergeContract, ::testing::Values(1, 2, 3, 4, 5, 6, 7, 8));

TEST(MergeContractEdges, EmptySides) {
  StatsOptions options;
  options.k = 5;
  std::vector<Item> items = make_items(42, 200);
  std::vector<const Item*> all;
  for (const Item& it : items) all.push_back(&it);
  TargetStats a(options);
  add_all(a, all);

  TargetStats empty_then_a(options);
  empty_then_a.merge(a);
  expect_equivalent(empty_then_a, a, "empty.merge(a)");

  TargetStats a_then_empty = a;
  a_then_empty.merge(TargetStats(options));
  expect_equivalent(a_then_empty, a, "a.merge(empty)");

  TargetStats both_empty(options);
  both_empty.merge(TargetStats(options));
  EXPECT_EQ(both_empty.expired_count(), 0u);
  EXPECT_EQ(both_empty.oldest_overdue_seconds(), 0);
  EXPECT_TRUE(both_empty.sample_items().empty());
  EXPECT_EQ(comparable_state(both_empty), comparable_state(TargetStats(options)));
}

TEST(MergeContractEdges, HygieneOnlySideDoesNotDisturbMinMax) {
  // A shard with only hygiene findings has no overdue values; merging it must keep min/max.
  TargetStats a, b;
  a.add_expired("x", kAsOf - 500, 500, 1, "");
  a.add_expired("y", kAsOf - 20, 20, 1, "");
  b.count(ItemClass::kBeyondFiveYears, 9);
  TargetStats ba = b;
  ba.merge(a);
  a.merge(b);
  for (const TargetStats* s : {&a, &ba}) {
    EXPECT_EQ(s->newest_overdue_seconds(), 20);
    EXPECT_EQ(s->oldest_overdue_seconds(), 500);
    EXPECT_EQ(s->class_count(ItemClass::kBeyondFiveYears), 9u);
    EXPECT_EQ(s->expired_count(), 2u);
  }
}

TEST(MergeContractEdges, SelfDuplicateKeysCountTwiceButSampleOnce) {
  // The same item reported by two overlapping shards is counted twice (merge cannot know), but
  // the bounded lists stay well-formed.
  StatsOptions options;
  options.k = 3;
  TargetStats a(options), b(options);
  for (int i = 0; i < 5; ++i) {
    a.add_expired("k" + std::to_string(i), kAsOf - i, i, 0, "");
    b.add_expired("k" + std::to_string(i), kAsOf - i, i, 0, "");
  }
  a.merge(b);
  EXPECT_EQ(a.expired_count(), 10u);
  ASSERT_EQ(a.oldest_items().size(), 3u);
  EXPECT_EQ(a.oldest_items()[0].key, "k4");
}

TEST(MergeContractEdges, TopGroupsBeyondCapacityStayWithinBound) {
  StatsOptions options;
  options.top_groups = 3;
  TargetStats whole(options), a(options), b(options);
  uint64_t hot = 0, total = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string group = i % 4 == 0 ? "hot" : "g" + std::to_string(i % 3000);
    whole.add_expired("k" + std::to_string(i), kAsOf - i, i, 0, group);
    (i % 2 ? a : b).add_expired("k" + std::to_string(i), kAsOf - i, i, 0, group);
    hot += group == "hot";
    ++total;
  }
  a.merge(b);
  auto top = a.top_groups();
  ASSERT_FALSE(top.empty());
  EXPECT_EQ(top[0].first, "hot");
  EXPECT_LE(top[0].second, hot);
  EXPECT_GE(top[0].second + total / 1025, hot);  // N / (capacity + 1) with the default 1024
}

}  // namespace
}  // namespace ttla
