// Turnbull's NPMLE on cases small enough to maximise the likelihood by hand.
#include "core/interval_censored.h"

#include <random>
#include <stdexcept>

#include <gtest/gtest.h>

namespace ttla {
namespace {

CensoredObservation obs(double entry, double left, std::optional<double> right) {
  return CensoredObservation{entry, left, right};
}

// (0,2], (1,3], (2,4]: innermost intervals (1,2] and (2,3]. The first observation needs (1,2],
// the last (2,3], the middle one covers both: L = s1 * 1 * s2, maximal at s1 = s2 = 1/2.
TEST(IntervalCensored, OverlappingIntervalsByHand) {
  NpmleEstimate e = turnbull_npmle({obs(0, 0, 2), obs(0, 1, 3), obs(0, 2, 4)});
  ASSERT_TRUE(e.converged);
  ASSERT_EQ(e.intervals.size(), 2u);
  EXPECT_DOUBLE_EQ(e.intervals[0].lower, 1);
  EXPECT_DOUBLE_EQ(*e.intervals[0].upper, 2);
  EXPECT_DOUBLE_EQ(e.intervals[1].lower, 2);
  EXPECT_DOUBLE_EQ(*e.intervals[1].upper, 3);
  EXPECT_NEAR(e.intervals[0].mass, 0.5, 1e-6);
  EXPECT_NEAR(e.intervals[1].mass, 0.5, 1e-6);
  auto p50 = npmle_quantile(e, 0.5);
  ASSERT_TRUE(p50);
  EXPECT_DOUBLE_EQ(p50->lower, 1);
  EXPECT_DOUBLE_EQ(*p50->upper, 2);
  auto p90 = npmle_quantile(e, 0.9);
  EXPECT_DOUBLE_EQ(p90->lower, 2);
}

// Two deletions in (0,1], one survivor seen alive at 2: 2/3 on (0,1], 1/3 beyond 2; the p90
// bracket is open (no deletion was ever seen that late).
TEST(IntervalCensored, RightCensoredSurvivor) {
  NpmleEstimate e = turnbull_npmle({obs(0, 0, 1), obs(0, 0, 1), obs(0, 2, std::nullopt)});
  ASSERT_EQ(e.intervals.size(), 2u);
  EXPECT_NEAR(e.intervals[0].mass, 2.0 / 3, 1e-6);
  EXPECT_NEAR(e.intervals[1].mass, 1.0 / 3, 1e-6);
  EXPECT_FALSE(e.intervals[1].upper.has_value());
  EXPECT_DOUBLE_EQ(*npmle_quantile(e, 0.5)->upper, 1);
  auto p90 = npmle_quantile(e, 0.9);
  EXPECT_DOUBLE_EQ(p90->lower, 2);
  EXPECT_FALSE(p90->upper.has_value());
}

// Left truncation: X deleted in (0,1]; Z, seen from age 0, deleted in (2,3]; Y first seen alive
// at age 2 and deleted in (2,3]. Y's likelihood is P(T in (2,3] | T > 2) = 1 whatever the masses,
// so L = s1 * s2 and the estimate is 1/2, 1/2. Ignoring the truncation would give (2,3] 2/3.
TEST(IntervalCensored, LeftTruncationByHand) {
  NpmleEstimate with = turnbull_npmle({obs(0, 0, 1), obs(0, 2, 3), obs(2, 2, 3)});
  ASSERT_EQ(with.intervals.size(), 2u);
  EXPECT_NEAR(with.intervals[0].mass, 0.5, 1e-6);
  EXPECT_NEAR(with.intervals[1].mass, 0.5, 1e-6);
  NpmleEstimate without = turnbull_npmle({obs(0, 0, 1), obs(0, 2, 3), obs(0, 2, 3)});
  EXPECT_NEAR(without.intervals[1].mass, 2.0 / 3, 1e-6);
}

// X1, X2 in (0,1]; Y truncated at 2, deleted in (2,3]; Z seen from 0, alive at 2: L = s1^2 * s2,
// maximal at s1 = 2/3.
TEST(IntervalCensored, TruncationWithSurvivorByHand) {
  NpmleEstimate e = turnbull_npmle(
      {obs(0, 0, 1), obs(0, 0, 1), obs(2, 2, 3), obs(0, 2, std::nullopt)});
  ASSERT_EQ(e.intervals.size(), 2u);
  EXPECT_NEAR(e.intervals[0].mass, 2.0 / 3, 1e-6);
  EXPECT_NEAR(e.intervals[1].mass, 1.0 / 3, 1e-6);
}

// Exact observations narrowed to small intervals recover the empirical quantiles.
TEST(IntervalCensored, NarrowIntervalsRecoverQuantiles) {
  std::vector<CensoredObservation> v;
  for (int i = 1; i <= 100; ++i) v.push_back(obs(0, i * 10.0 - 1, i * 10.0));
  NpmleEstimate e = turnbull_npmle(v);
  EXPECT_DOUBLE_EQ(*npmle_quantile(e, 0.5)->upper, 500);
  EXPECT_DOUBLE_EQ(*npmle_quantile(e, 0.9)->upper, 900);
  EXPECT_DOUBLE_EQ(*npmle_quantile(e, 0.99)->upper, 990);
}

// Hourly snapshots of items with deadlines spread over the hour and latencies uniform on
// [0, 4h]: the truncation-aware estimate brackets the true median (2h) within one run spacing.
TEST(IntervalCensored, SimulatedSnapshotsBracketTheMedian) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> lat(0, 4 * 3600.0);
  std::uniform_real_distribution<double> dl(0, 10 * 3600.0);
  std::vector<CensoredObservation> v;
  for (int i = 0; i < 1500; ++i) {
    const double d = dl(rng);
    const double gone = d + lat(rng);
    // Snapshots every hour on the hour from 1h to 20h.
    double first = std::ceil(d / 3600) * 3600;
    if (first == d) first += 3600;
    if (gone <= first) continue;  // deleted before any snapshot saw it
    double last_alive = first;
    while (last_alive + 3600 < gone) last_alive += 3600;
    v.push_back(obs(first - d, last_alive - d, last_alive + 3600 - d));
  }
  NpmleEstimate e = turnbull_npmle(v);
  auto p50 = npmle_quantile(e, 0.5);
  ASSERT_TRUE(p50 && p50->upper);
  EXPECT_LE(p50->lower, 2 * 3600.0 + 3600);
  EXPECT_GE(*p50->upper, 2 * 3600.0 - 3600);
}

TEST(IntervalCensored, RejectsInconsistentObservations) {
  EXPECT_THROW(turnbull_npmle({obs(0, 3, 2)}), std::invalid_argument);
  EXPECT_THROW(turnbull_npmle({obs(5, 3, 4)}), std::invalid_argument);
  EXPECT_TRUE(turnbull_npmle({}).intervals.empty());
  EXPECT_FALSE(npmle_quantile(turnbull_npmle({}), 0.5));
}

}  // namespace
}  // namespace ttla
